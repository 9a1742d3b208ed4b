"""Derive the Slack facts the project carries from a copy of Slack's published specifications.

The Slack double (tests/slackdouble) checks every Web API call against the methods and argument names
Slack publishes, and tests/test_manifest.py validates the app manifests against Slack's manifest
schema. The project carries a compact extract of both in tests/slackdouble/data/, so that a clean
clone needs nothing beside it. Run this script again when Slack publishes a new version:

    python scripts/derive_slack_facts.py \\
        --web-api path/to/slack-api-specs/web-api/slack_web_openapi_v2.json \\
        --manifest-schema path/to/manifest-schema/manifest.schema.json

The versioned manifest schemas the top schema refers to are read from beside it, or from `schemas/`
beside it (the layout of Slack's manifest-schema repository). Sources and licence: the README.md in
the output folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

DATA_DIR: Final = Path(__file__).resolve().parent.parent / "tests" / "slackdouble" / "data"
WEB_API_OUT: Final = "web_api_methods.json"
WEB_API_URL: Final = (
    "https://github.com/slackapi/slack-api-specs/blob/master/web-api/slack_web_openapi_v2.json"
)
MANIFEST_SCHEMA_URL: Final = "https://github.com/slackapi/manifest-schema"

# Keywords whose value is a map from names to schemas, not a schema: their keys are names (a manifest
# has a property called `description`), so annotations are stripped only one level further down.
NAME_MAPS: Final = frozenset({"properties", "patternProperties", "definitions", "dependencies"})
# Keywords whose value is data, not a schema: left exactly as Slack wrote it.
DATA_KEYWORDS: Final = frozenset({"const", "enum", "default", "examples"})
# Annotations: they help a person editing a manifest and take no part in validation.
ANNOTATIONS: Final = frozenset({"title", "description", "markdownDescription", "examples"})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def web_api_methods(document: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Per method: its argument names, those marked required, and the fields a success answer has.

    Every HTTP verb of a path is read: the spec declares the views.* methods as GET, though they are
    POSTed like every other method."""
    methods: dict[str, dict[str, list[str]]] = {}
    for path, operations in sorted(document.get("paths", {}).items()):
        args: set[str] = set()
        required: set[str] = set()
        answer_requires: set[str] = set()
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                args.add(parameter["name"])
                if parameter.get("required"):
                    required.add(parameter["name"])
            success = operation.get("responses", {}).get("200", {}).get("schema", {})
            answer_requires.update(success.get("required", []))
        methods[path.lstrip("/")] = {
            "args": sorted(args),
            "required": sorted(required),
            "answer_requires": sorted(answer_requires),
        }
    return methods


def without_annotations(schema: Any) -> Any:
    """The schema with its titles and descriptions removed; what it accepts stays the same."""
    if isinstance(schema, list):
        return [without_annotations(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS:
            continue
        if keyword in DATA_KEYWORDS:
            kept[keyword] = value
        elif keyword in NAME_MAPS and isinstance(value, dict):
            kept[keyword] = {name: without_annotations(sub) for name, sub in value.items()}
        else:
            kept[keyword] = without_annotations(value)
    return kept


def referenced_schemas(schema: Any) -> Iterator[str]:
    """The `$ref`s to other files (Slack's top schema refers to the versioned ones by URL)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield ref
        for value in schema.values():
            yield from referenced_schemas(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from referenced_schemas(item)


def find_versioned(top: Path, ref: str) -> Path:
    name = Path(urlsplit(ref).path).name
    for candidate in (top.parent / name, top.parent / "schemas" / name):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"{ref} is referred to by {top.name}, but {name} is neither beside it nor in schemas/")


def write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def derive_web_api(spec_path: Path, out: Path) -> int:
    document = json.loads(spec_path.read_text(encoding="utf-8"))
    methods = web_api_methods(document)
    info = document.get("info", {})
    source = {
        "url": WEB_API_URL,
        "title": info.get("title"),
        "version": info.get("version"),
        "sha256": sha256(spec_path),
        "licence": "MIT, Slack Technologies (see README.md beside this file)",
    }
    # One method per line: a new version of the spec then reads as a diff of the methods it changed.
    lines = [f" {json.dumps(name)}: {json.dumps(facts)}" for name, facts in methods.items()]
    text = f'{{"source": {json.dumps(source)},\n"methods": {{\n' + ",\n".join(lines) + "\n}}\n"
    (out / WEB_API_OUT).write_text(text, encoding="utf-8")
    return len(methods)


def derive_manifest_schema(top_path: Path, out: Path) -> list[str]:
    """Each schema file under its own name, so the top schema's `$ref`s resolve by file name."""
    written = []
    files = [top_path]
    files += [find_versioned(top_path, ref) for ref in dict.fromkeys(referenced_schemas(_load(top_path)))]
    for path in files:
        schema = without_annotations(_load(path))
        schema["$comment"] = f"From {MANIFEST_SCHEMA_URL} (MIT), sha256 {sha256(path)}; annotations removed"
        write_json(out / path.name, schema)
        written.append(path.name)
    return written


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--web-api", type=Path, required=True, help="slack_web_openapi_v2.json")
    parser.add_argument("--manifest-schema", type=Path, required=True, help="manifest.schema.json")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"default: {DATA_DIR}")
    options = parser.parse_args(argv)
    for given in (options.web_api, options.manifest_schema):
        if not given.is_file():
            parser.error(f"{given} is not a file")
    options.out.mkdir(parents=True, exist_ok=True)
    count = derive_web_api(options.web_api, options.out)
    schemas = derive_manifest_schema(options.manifest_schema, options.out)
    print(f"{options.out}: {WEB_API_OUT} ({count} methods), {', '.join(schemas)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
