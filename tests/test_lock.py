"""uv.lock: every install (make, CI, the image) takes exact versions with hashes from it, so it must hold
what pyproject.toml asks for. A dependency added without `make lock` fails here (and `make` refuses to
install: `uv sync --locked`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

Wanted = tuple[str, frozenset[str], SpecifierSet, str]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))


def asked(project: dict[str, Any]) -> set[Wanted]:
    """What pyproject.toml asks for: the dependencies, and each extra's with its marker."""
    lines = [(line, "") for line in project["dependencies"]]
    for extra, extra_lines in project.get("optional-dependencies", {}).items():
        lines += [(line, f"extra == '{extra}'") for line in extra_lines]
    wanted = set()
    for line, marker in lines:
        requirement = Requirement(line)
        name, extras = canonicalize_name(requirement.name), frozenset(requirement.extras)
        wanted.add((name, extras, requirement.specifier, marker))
    return wanted


def locked_for(locked: dict[str, Any]) -> set[Wanted]:
    """What uv.lock was made from: the project's own requirements, as uv recorded them."""
    (samen,) = [package for package in locked["package"] if package["name"] == "samen"]
    return {
        (
            canonicalize_name(entry["name"]),
            frozenset(entry.get("extras", [])),
            SpecifierSet(entry.get("specifier", "")),
            entry.get("marker", ""),
        )
        for entry in samen["metadata"]["requires-dist"]
    }


def test_the_lock_was_made_from_the_dependencies_pyproject_asks_for() -> None:
    wanted, locked = asked(pyproject()["project"]), locked_for(lock())
    assert not wanted - locked, f"not in uv.lock (run `make lock`): {sorted(map(str, wanted - locked))}"
    assert not locked - wanted, f"in uv.lock, no longer asked for (run `make lock`): {locked - wanted}"


def test_a_dependency_added_without_relocking_is_noticed() -> None:
    project = pyproject()["project"]
    project["dependencies"] = [*project["dependencies"], "time-machine>=2.16"]
    assert asked(project) - locked_for(lock()) == {("time-machine", frozenset(), SpecifierSet(">=2.16"), "")}
    project["dependencies"] = [
        "sqlmodel>=0.0.50" if line.startswith("sqlmodel") else line for line in project["dependencies"]
    ]
    assert ("sqlmodel", frozenset(), SpecifierSet(">=0.0.50"), "") in asked(project) - locked_for(lock())


def test_every_locked_distribution_comes_from_pypi_with_its_hash() -> None:
    for package in lock()["package"]:
        if package["name"] == "samen":
            continue
        assert package["source"] == {"registry": "https://pypi.org/simple"}, package["name"]
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files, f"{package['name']}: nothing to install"
        for file in files:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", file["hash"]), f"{package['name']}: {file['url']}"


def test_zero_x_libraries_and_servers_have_an_upper_bound() -> None:
    """Upper bounds keep `make upgrade-lock` from taking a release that may break (0.x: any release)."""
    for line in pyproject()["project"]["dependencies"]:
        requirement = Requirement(line)
        assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
            f"{requirement.name} has no upper bound"
        )


def test_the_image_uses_the_same_uv_and_a_base_image_pinned_by_digest() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    makefile = (ROOT / "Makefile").read_text("utf-8")
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert image is not None
    assert re.fullmatch(r"python:3\.11-slim-\w+@sha256:[0-9a-f]{64}", image.group(1))
    for_image = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    for_make = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert for_image is not None and for_make is not None
    assert for_image.group(1) == for_make.group(1)
    assert "uv sync --locked --no-dev" in dockerfile, "the image installs from the lock, without test tools"


def test_uv_itself_finds_the_lock_current() -> None:
    """uv's own check (also what `make` runs before installing), offline: the lock must be complete."""
    uv = Path(sys.executable).with_name("uv")
    found = str(uv) if uv.exists() else shutil.which("uv")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("uv is missing: the Makefile installs it into the virtual environment")
        pytest.skip("uv is not installed here (the Makefile installs it)")
    result = subprocess.run(
        [found, "lock", "--check", "--offline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert result.returncode == 0, result.stderr
