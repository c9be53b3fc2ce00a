"""The artifact step never replaces, holds or writes into a source (issue 12.1): an artifact-dir
whose <CODE>_<VERSION>/ would land on a source is refused in one line naming both paths, before
anything is written, and every source stays byte for byte."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE, make_integration, tree_digest
from conftest import build_cli as build

SLUG = "HELLO_WORLD_01.00.0000"
PROJECT_DIR = f"icspackage/project/{SLUG}"


def _refusal(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


def _no_hidden(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("kind", ["icspackage", "iar"])
def test_artifact_dir_parent_of_a_source_named_like_the_artifact(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The data loss of the issue: integrations/HELLO_WORLD_01.00.0000/ with artifact-dir
    integrations would have been replaced by the artifact."""
    src = make_integration(Path("integrations") / SLUG, as_iar=kind == "iar")
    before = tree_digest(Path("integrations"))
    rc = build(str(src), out="integrations")
    [line] = _refusal(capsys)
    assert rc == 2
    assert f"artifact-dir integrations: the artifact folder integrations/{SLUG}" in line
    assert f"the source integrations/{SLUG}" in line
    assert tree_digest(Path("integrations")) == before
    _no_hidden(Path("integrations"))


def test_batch_with_artifact_dir_holding_every_source(capsys: pytest.CaptureFixture[str]) -> None:
    """integrations/* with artifact-dir integrations: every source kept, each one refused."""
    codes = ["HELLO_WORLD", "SECOND", "THIRD"]
    for code in codes:
        make_integration(Path("integrations") / f"{code}_01.00.0000", code)
    before = tree_digest(Path("integrations"))
    rc = build("integrations/*", out="integrations")
    lines = _refusal(capsys)
    assert rc == 2
    assert len(lines) == 3
    assert tree_digest(Path("integrations")) == before


def test_one_sources_artifact_over_another_source(capsys: pytest.CaptureFixture[str]) -> None:
    """A batch where HELLO_WORLD's artifact folder is the folder holding OTHER: HELLO_WORLD is
    refused, OTHER is built."""
    make_integration(Path("ints") / SLUG, "OTHER")  # a folder named like HELLO_WORLD's artifact
    make_integration(Path("ints") / "hello")
    before = tree_digest(Path("ints"))
    rc = build(f"ints/{SLUG},ints/hello", out="ints")
    [line] = _refusal(capsys)
    assert rc == 2
    assert f"the artifact folder ints/{SLUG} would replace or hold the source ints/{SLUG}" in line
    assert (Path("ints") / "OTHER_01.00.0000" / "OTHER_01.00.0000.iar").is_file()
    after = tree_digest(Path("ints"))
    assert {k: v for k, v in after.items() if not k.startswith("OTHER_01")} == before


def test_artifact_dir_through_a_symlink_to_the_sources_parent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = make_integration(Path("integrations") / SLUG)
    Path("art").symlink_to("integrations")
    before = tree_digest(src)
    rc = build(str(src), out="art")
    [line] = _refusal(capsys)
    assert rc == 2 and f"art/{SLUG} would replace or hold the source" in line
    assert tree_digest(src) == before


def test_existing_artifact_name_is_a_symlink_to_the_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = make_integration(Path("src"))
    Path("art").mkdir()
    (Path("art") / SLUG).symlink_to("../src")
    before = tree_digest(src)
    rc = build("src", out="art")
    [line] = _refusal(capsys)
    assert rc == 2 and "would replace or hold the source src" in line
    assert tree_digest(src) == before
    assert os.readlink(Path("art") / SLUG) == "../src"


@pytest.mark.parametrize("where", ["icspackage", f"{PROJECT_DIR}/out"])
def test_artifact_dir_inside_the_tree_it_packs(
    where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(Path("src"))
    before = tree_digest(src)
    rc = build("src", out=f"src/{where}")
    [line] = _refusal(capsys)
    assert rc == 2 and "is inside the source src/icspackage" in line
    assert tree_digest(src) == before


def test_building_from_a_previous_artifacts_iar_into_the_same_place(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The .iar of an earlier artifact as the source, artifact-dir the same: the new artifact
    would replace the folder the source is in."""
    make_integration(Path("src"))
    assert build("src", out="oic-artifacts") == 0
    previous = Path("oic-artifacts") / SLUG
    before = tree_digest(previous)
    capsys.readouterr()
    rc = build(str(previous / f"{SLUG}.iar"), out="oic-artifacts")
    [line] = _refusal(capsys)
    assert rc == 2 and f"would replace or hold the source oic-artifacts/{SLUG}" in line
    assert tree_digest(previous) == before


def test_connection_plan_inside_the_artifact_it_would_replace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_integration(Path("src"))
    assert build("src", out="oic-artifacts") == 0
    plan = Path("oic-artifacts") / SLUG / "keep.properties"
    plan.write_text("HELLO_REST_TRIGGER.connection.URL=https://example.com\n")
    capsys.readouterr()
    rc = build("src", "--connection-plan", str(plan), out="oic-artifacts")
    [line] = _refusal(capsys)
    assert rc == 2 and f"hold the source {plan}" in line
    assert plan.is_file()


def test_the_usual_cases_still_build(capsys: pytest.CaptureFixture[str]) -> None:
    """Sources under the artifact-dir's parent, the artifact-dir inside the integration path,
    a rerun over our own artifact, and an empty folder in its place: all fine."""
    shutil.copytree(EXAMPLE / "icspackage", "icspackage")
    # integration-path . and artifact-dir oic-artifacts inside it
    assert build(".", out="oic-artifacts") == 0
    first = (Path("oic-artifacts") / SLUG / f"{SLUG}.iar").read_bytes()
    assert build(".", out="oic-artifacts") == 0  # our own artifact is replaced
    assert (Path("oic-artifacts") / SLUG / f"{SLUG}.iar").read_bytes() == first
    shutil.rmtree(Path("oic-artifacts") / SLUG)
    (Path("oic-artifacts") / SLUG).mkdir()
    assert build(".", out="oic-artifacts") == 0  # an empty folder holds nothing to lose
    assert "error:" not in capsys.readouterr().err
    _no_hidden(Path("oic-artifacts"))


def test_protected_resolves_each_source_once_and_names_the_first_it_clashes_with(
    tmp_path: Path,
) -> None:
    """The run's sources are resolved once per run, not once per check (a batch of N was N x N
    resolves): a folder that is or holds a source, or sits in a tree, is still refused, seen
    through a symlink, naming the first source listed; a folder inside a plain source is not."""
    from oicaction.artifact.staging import Protected

    (tmp_path / "repo/a/b").mkdir(parents=True)
    (tmp_path / "repo/t/icspackage").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "repo")
    deep, a = tmp_path / "repo/a/b", tmp_path / "link/a"
    tree = tmp_path / "repo/t/icspackage"
    guard = Protected(paths=(deep, a), trees=(tree,))
    assert guard.clash(tmp_path / "out") is None
    assert guard.clash(tmp_path / "repo/a") == (
        f"the artifact folder {tmp_path / 'repo/a'} would replace or hold the source {deep}"
    )
    assert "would replace or hold the source" in (guard.clash(tmp_path / "link") or "")
    assert guard.clash(tmp_path / "repo/a/b/c") is None  # only trees forbid what is inside
    inside = tmp_path / "link/t/icspackage/x/y"
    assert guard.clash(inside) == f"the artifact folder {inside} is inside the source {tree}"
    assert guard.clash(tmp_path / "repo", trees_only=True) is None
    assert guard.clash(tree, trees_only=True) is not None
