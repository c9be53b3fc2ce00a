"""Refactoring guard: every real source in ../shared/fixtures builds, offline, to the same .iar
(or project .car) bytes and the same build-info.json as recorded in tests/golden/builds.json.

The record was written by the code before the simplification (issue 8); regenerate it only for
a change that is meant to alter an archive or build-info.json:
    WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_builds.py
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO, SHARED, build_cli, need_fixtures

from oicaction.artifact.record import find_artifacts, read_record

GOLDEN = Path(__file__).parent / "golden" / "builds.json"
# Vary with the run, not with the build: time, commit and tool version.
VOLATILE = ("built_at", "git", "tool")


def _sources(shared: Path) -> list[Path]:
    """Every committed .iar and .car and every unzipped icspackage tree among the fixtures."""
    found = sorted(shared.rglob("*.iar")) + sorted(shared.rglob("*.car"))
    found += sorted(p.parent for p in shared.rglob("icspackage") if p.is_dir())
    return [p for p in found if p.is_file() or p.is_dir()]


def _build(source: Path, work: Path, unzip: bool = False) -> dict[str, object]:
    """Copy the source to a path free of the fixture folder's name (unzipped into a folder:
    packed by us), build it, read the record."""
    name = source.relative_to(SHARED if SHARED in source.parents else REPO).as_posix()
    copy = work / "src" / (name.replace("/", "__") + (".repacked" if unzip else ""))
    copy.parent.mkdir(parents=True, exist_ok=True)
    if unzip:
        with zipfile.ZipFile(source) as zf:
            zf.extractall(copy)
    elif source.is_dir():
        shutil.copytree(source, copy)
    else:
        shutil.copyfile(source, copy)
    out = work / "out"
    assert build_cli(copy, "--manage-lookups", "false", out=out, json=False) == 0, name
    (folder,) = find_artifacts(out)
    info = json.loads((folder / "build-info.json").read_text(encoding="utf-8"))
    assert read_record(folder).document() == info, f"{name}: the record reads back as written"
    shutil.rmtree(out)
    for key in VOLATILE:
        info.pop(key, None)
    info["source"]["path"] = name  # where the copy was made is not the build's doing
    return info


def _all_builds(shared: Path, work: Path) -> dict[str, object]:
    """Each source as committed, and each .iar and .car unzipped and packed again by us."""
    results: dict[str, object] = {}
    for path in _sources(shared):
        key = path.relative_to(shared).as_posix()
        results[key] = _build(path, work)
        if path.is_file():
            results[key + " (unzipped, repacked)"] = _build(path, work, unzip=True)
    results["examples/hello-world"] = _build(EXAMPLE, work)
    return results


def test_real_sources_build_as_recorded(tmp_path: Path) -> None:
    shared = need_fixtures(SHARED)
    results = _all_builds(shared, tmp_path)
    assert len(results) >= 26
    if os.environ.get("WRITE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip(f"wrote {GOLDEN}")
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(results) == sorted(recorded)
    for name, info in results.items():
        assert info == recorded[name], f"{name} builds differently from the record"
