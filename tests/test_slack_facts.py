"""scripts/derive_slack_facts.py: the Slack facts the project carries, derived from Slack's own files.

A new copy of Slack's spec is run through the script; these tests feed it small files shaped like
Slack's and check that what comes out still says what the source said.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from slackdouble.spec import DATA_DIR, SlackSpec


def _script() -> Any:
    """scripts/ is no package: load the script from its file, as `python scripts/…` would run it."""
    path = Path(__file__).resolve().parent.parent / "scripts" / "derive_slack_facts.py"
    loaded = importlib.util.spec_from_file_location("derive_slack_facts", path)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


derive_slack_facts = _script()

# Shaped like Slack's OpenAPI file: views.open under GET, chat.postMessage under POST.
WEB_API = {
    "info": {"title": "Slack Web API", "version": "1.7.0"},
    "paths": {
        "/chat.postMessage": {
            "post": {
                "parameters": [
                    {"name": "token", "in": "header", "required": True},
                    {"name": "channel", "in": "formData", "required": True},
                    {"name": "text", "in": "formData"},
                ],
                "responses": {"200": {"schema": {"required": ["ok", "channel", "ts"]}}},
            }
        },
        "/views.open": {
            "get": {
                "parameters": [{"name": "trigger_id", "in": "query", "required": True}],
                "responses": {"200": {"schema": {"required": ["ok"]}}},
            }
        },
    },
}

# Shaped like Slack's manifest schemas: a top schema that `$ref`s a versioned one by URL, whose
# properties include one called `description` (as display_information's does).
TOP_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "All versions",
    "oneOf": [{"$ref": "https://raw.githubusercontent.com/slackapi/manifest-schema/v0/schemas/v1.json"}],
}
VERSIONED = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "description": "An app manifest",
    "required": ["display_information"],
    "properties": {
        "display_information": {
            "type": "object",
            "title": "Display information",
            "required": ["name", "description"],
            "properties": {
                "name": {"type": "string", "maxLength": 35, "description": "the app's name"},
                "description": {"type": "string", "maxLength": 140},
                "kind": {"const": {"description": "kept: a const is data"}},
            },
        }
    },
}


def write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def derived(tmp_path: Path) -> Path:
    """Run the script as a maintainer would, on a copy laid out as in Slack's repositories."""
    web_api = write(tmp_path / "slack-api-specs" / "web-api" / "slack_web_openapi_v2.json", WEB_API)
    top = write(tmp_path / "manifest-schema" / "manifest.schema.json", TOP_SCHEMA)
    write(tmp_path / "manifest-schema" / "schemas" / "v1.json", VERSIONED)
    out = tmp_path / "data"
    arguments = ["--web-api", str(web_api), "--manifest-schema", str(top), "--out", str(out)]
    assert derive_slack_facts.main(arguments) == 0
    return out


def test_methods_keep_their_arguments_and_answers_whatever_the_verb(derived: Path) -> None:
    facts = json.loads((derived / "web_api_methods.json").read_text("utf-8"))
    assert facts["methods"]["chat.postMessage"] == {
        "args": ["channel", "text", "token"],
        "required": ["channel", "token"],
        "answer_requires": ["channel", "ok", "ts"],
    }
    assert facts["methods"]["views.open"]["args"] == ["trigger_id"]
    assert facts["source"]["version"] == "1.7.0"
    assert len(facts["source"]["sha256"]) == 64
    # The double reads the written file as it is: the token is no argument, an unknown name is caught.
    spec = SlackSpec(facts)
    assert spec.check_arguments("chat.postMessage", {"channel": "C1", "text": "hoi"}) == []
    problems = spec.check_arguments("chat.postMessage", {"chanel": "C1"})
    assert problems[0].startswith("chat.postMessage: unknown argument 'chanel' (Slack accepts: channel, ")
    assert problems[1:] == ["chat.postMessage: required argument 'channel' is missing"]


def test_the_manifest_schema_loses_its_annotations_and_no_rule(derived: Path) -> None:
    versioned = json.loads((derived / "v1.json").read_text("utf-8"))
    info = versioned["properties"]["display_information"]
    assert "description" not in versioned and "title" not in info
    assert "description" not in info["properties"]["name"]
    # A property called `description` is a name, not an annotation; a const's value is data.
    assert info["properties"]["description"] == {"type": "string", "maxLength": 140}
    assert info["properties"]["kind"] == {"const": {"description": "kept: a const is data"}}
    assert "sha256" in versioned["$comment"]

    top = json.loads((derived / "manifest.schema.json").read_text("utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        TOP_SCHEMA["oneOf"][0]["$ref"], Resource.from_contents(versioned, default_specification=DRAFT7)
    )
    validator = jsonschema.Draft7Validator(top, registry=registry)
    assert validator.is_valid({"display_information": {"name": "Samen", "description": "Samen sterk"}})
    assert not validator.is_valid({"display_information": {"name": "Samen" * 10, "description": "x"}})


def test_a_versioned_schema_that_is_not_there_is_named(tmp_path: Path) -> None:
    web_api = write(tmp_path / "openapi.json", WEB_API)
    top = write(tmp_path / "manifest.schema.json", TOP_SCHEMA)
    with pytest.raises(SystemExit, match=r"v1\.json is neither beside it nor in schemas/"):
        derive_slack_facts.main(
            ["--web-api", str(web_api), "--manifest-schema", str(top), "--out", str(tmp_path / "data")]
        )


def test_the_carried_facts_say_where_they_come_from() -> None:
    facts = json.loads((DATA_DIR / "web_api_methods.json").read_text("utf-8"))
    assert facts["source"]["url"].startswith("https://github.com/slackapi/slack-api-specs/")
    assert len(facts["methods"]) == 174
    for name in ("manifest.schema.json", "manifest.schema.1.0.0.json", "manifest.schema.2.0.0.json"):
        schema = json.loads((DATA_DIR / name).read_text("utf-8"))
        assert "github.com/slackapi/manifest-schema" in schema["$comment"]
    assert "Permission is hereby granted" in (DATA_DIR / "README.md").read_text("utf-8")
