"""mode pull against the OIC stand-in (a real HTTP server on 127.0.0.1): selection, download,
the checks before any write, the folder written, version bumps, layouts, projects, outputs."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    integration_entries,
    one_error,
    project_entries,
    read_outputs,
    run_captured,
    run_cli,
    tree_digest,
    use_runner,
    write_tree,
)
from oic_standin import StandIn
from pull_archives import HELLO, exported, zipped
from standin_fixtures import server_args

pytestmark = pytest.mark.usefixtures("oic_fast_http")


def archive_path(integration_id: str) -> str:
    return f"/ic/api/integration/v1/integrations/{integration_id.replace('|', '%7C')}/archive"


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def oic(oic_standin: StandIn) -> StandIn:
    """The stand-in, two items per list page so that every selection pages."""
    oic_standin.state.list_page = 2
    return oic_standin


@pytest.fixture
def pull(oic: StandIn, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, dict, str]]:
    """Run `oic-build pull --json` against the stand-in: exit code, outputs, log."""

    def run(*argv: str, path: str = "integrations") -> tuple[int, dict, str]:
        ran = run_captured(
            capsys, "pull", "--integration-path", path, *server_args(oic), "--json", *argv
        )
        return ran.code, ran.json, ran.err

    return run


def test_pulls_the_tree_byte_for_byte(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0, log
    folder = Path("integrations/HELLO_WORLD")
    assert files_under(folder) == {k: v for k, v in integration_entries().items()}
    assert outputs == {
        "changed": "true",
        "pulled": [
            {
                "id": HELLO,
                "kind": "integration",
                "path": "integrations/HELLO_WORLD",
                "status": "added",
                "previous": [],
            }
        ],
    }
    assert f"1 integration(s) selected on {oic.url}: {HELLO}" in log
    assert "added integrations/HELLO_WORLD/icspackage (4 files)" in log


def test_codes_mean_their_latest_version_and_globs_their_codes(
    oic: StandIn, pull: Callable
) -> None:
    held = ("ORDERS_A|01.00.0000", "ORDERS_A|01.01.0000", "ORDERS_B|02.00.0000", "OTHER|01.00.0000")
    for ident in held:
        code, version = ident.split("|")
        oic.add_integration(ident, exported(code, version))
    code, outputs, log = pull("--integrations", "ORDERS_*\nOTHER|01.00.0000, ORDERS_B")
    assert code == 0, log
    assert [p["id"] for p in outputs["pulled"]] == [
        "ORDERS_A|01.01.0000",
        "ORDERS_B|02.00.0000",
        "OTHER|01.00.0000",
    ]
    assert sorted(os.listdir("integrations")) == ["ORDERS_A", "ORDERS_B", "OTHER"]
    assert os.listdir("integrations/ORDERS_A/icspackage/project") == ["ORDERS_A_01.01.0000"]
    assert oic.count("GET", "/ic/api/integration/v1/integrations") == 2  # 4 items, 2 per page
    assert oic.count("GET", archive_path("ORDERS_A|01.00.0000")) == 0


@pytest.mark.parametrize(
    ("selection", "said"),
    [
        ("HELLO_WORLD|01.00.0009", "HELLO_WORLD|01.00.0009 does not exist"),
        ("NOPE_*", "NOPE_* matches no integration code"),
        ("hello_world", "hello_world does not exist (did you mean HELLO_WORLD?)"),
        ("HELLO WORLD", "'HELLO WORLD' is not an integration code"),
        ("HELLO|1.0", "'HELLO|1.0' is not an id CODE|VERSION"),
        ("", "mode pull needs integrations"),
    ],
)
def test_a_selection_naming_nothing_is_a_settings_error(
    oic: StandIn, pull: Callable, selection: str, said: str
) -> None:
    oic.add_integration(HELLO, exported())
    code, outputs, log = pull("--integrations", selection) if selection else pull()
    assert code == 2 and outputs == {}
    assert said in log
    assert not Path("integrations").exists()


def test_every_missing_line_is_named_at_once(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    code, _, log = pull("--integrations", "HELLO_WORLD\nGONE\nNONE_*")
    assert code == 2
    assert "GONE does not exist; NONE_* matches no integration code" in log
    assert oic.count("GET", archive_path(HELLO)) == 0


def test_two_versions_of_one_code_are_refused(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    oic.add_integration("HELLO_WORLD|01.00.0001", exported(version="01.00.0001"))
    code, _, log = pull("--integrations", "HELLO_WORLD|01.00.0000\nHELLO_WORLD|01.00.0001")
    assert code == 2
    assert "HELLO_WORLD|01.00.0000 and HELLO_WORLD|01.00.0001 are versions of one code" in log


def test_locked_or_prebuilt_is_one_line_naming_it_and_nothing_is_written(
    oic: StandIn, pull: Callable
) -> None:
    oic.add_integration(HELLO, exported())
    oic.add_integration("PREBUILT_ONE|01.00.0000", exported("PREBUILT_ONE")).export_locked = True
    code, outputs, log = pull("--integrations", "*")
    assert code == 1 and outputs == {}
    error = one_error(log)
    assert "integration PREBUILT_ONE|01.00.0000" in error and "HTTP 423" in error
    assert "locked status or PREBUILT type" in error  # OIC's own reason
    assert "prebuilt integration" in error and "editing" not in error  # no guess against it
    # The URL as it was requested, `|` quoted once (not shown as %257C).
    assert archive_path("PREBUILT_ONE|01.00.0000") in error, error
    assert not Path("integrations").exists()  # HELLO_WORLD downloaded fine, yet not written
    # A prebuilt integration never unlocks: asked once, not waited out for request-deadline.
    assert oic.count("GET", archive_path("PREBUILT_ONE|01.00.0000")) == 1


def test_archive_gone_between_list_and_export(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    oic.fault("/integrations/HELLO_WORLD%7C01.00.0000/archive", "404")
    code, _, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1
    assert f"integration {HELLO}: listed, but its archive answers 404" in log


def test_archive_over_max_response_size_is_refused(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported(big=os.urandom(8192)))
    code, _, log = pull("--integrations", "HELLO_WORLD", "--max-response-size", "4K")
    assert code == 1 and "max-response-size" in log
    assert not Path("integrations").exists()


def test_downloads_run_in_parallel_bounded_by_max_workers(oic: StandIn, pull: Callable) -> None:
    for i in range(6):
        oic.add_integration(f"INT_{i}|01.00.0000", exported(f"INT_{i}"))
    oic.state.delay = 0.2
    code, outputs, log = pull("--integrations", "INT_*", "--max-workers", "2")
    assert code == 0, log
    assert len(outputs["pulled"]) == 6
    assert oic.max_in_flight == 2


# -- hostile archives: refused before anything is written -------------------------------------


def _with(entries: dict[str, bytes], **changes: bytes) -> bytes:
    return zipped({**entries, **changes})


def _symlink_entry() -> bytes:
    entries = integration_entries()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        link = zipfile.ZipInfo("icspackage/project/HELLO_WORLD_01.00.0000/evil")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _duplicate_entry() -> bytes:
    entries = integration_entries()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning):
        for name, data in entries.items():
            zf.writestr(name, data)
        zf.writestr("icspackage/appinstances/HELLO_REST_TRIGGER.xml", b"<changed/>")
    return buffer.getvalue()


def _corrupt() -> bytes:
    data = bytearray(zipped({**integration_entries(), "icspackage/z.txt": b"A" * 4000}))
    at = data.find(b"icspackage/z.txt") + len("icspackage/z.txt") + 2  # inside its data
    data[at] ^= 0xFF
    return bytes(data)


PROJECT_XML = "icspackage/project/HELLO_WORLD_01.00.0000/PROJECT-INF/project.xml"
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip-slip": (
        lambda: _with(integration_entries(), **{"icspackage/../../evil": b"x"}),
        "escapes",
    ),
    "absolute": (lambda: _with(integration_entries(), **{"/etc/evil": b"x"}), "absolute path"),
    "symlink": (_symlink_entry, "is a symbolic link"),
    "duplicate": (_duplicate_entry, "is there twice"),
    "not-normal": (
        lambda: _with(integration_entries(), **{"icspackage/a//b": b"x"}),
        "not a normal path",
    ),
    "file-and-folder": (
        lambda: _with(integration_entries(), **{"icspackage/appinstances": b"x"}),
        "both a file and a folder",
    ),
    "xml-entities": (
        lambda: _with(
            integration_entries(),
            **{PROJECT_XML: b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'},
        ),
        "refused unsafe XML",
    ),
    "no-metadata": (
        lambda: zipped({k: v for k, v in integration_entries().items() if k != PROJECT_XML}),
        "no icspackage/project/<CODE>_<VERSION>/PROJECT-INF/project.xml",
    ),
    "another-integration": (
        lambda: exported("SOMETHING_ELSE"),
        "holds integration SOMETHING_ELSE|01.00.0000, not what was asked for",
    ),
    "outside-root": (
        lambda: _with(integration_entries(), **{"extra/readme.txt": b"x"}),
        "entries outside icspackage/ (extra) cannot be kept",
    ),
    "not-a-zip": (lambda: b"<html><title>Sign in</title></html>", "not a readable zip archive"),
    "corrupt": (_corrupt, "is corrupt"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archive_is_refused_before_any_write(
    oic: StandIn, pull: Callable, kind: str
) -> None:
    make, said = HOSTILE[kind]
    oic.add_integration("AAA_FIRST|01.00.0000", exported("AAA_FIRST"))  # fine, listed first
    oic.add_integration(HELLO, make())
    Path("integrations/HELLO_WORLD").mkdir(parents=True)
    Path("integrations/HELLO_WORLD/connectionPlan.properties").write_text("keep me\n")
    before = tree_digest(Path.cwd())
    code, outputs, log = pull("--integrations", "AAA_FIRST, HELLO_WORLD")
    assert code == 1 and outputs == {}
    error = one_error(log)
    assert f"integration {HELLO} as exported by OIC" in error and said in error
    assert "nothing was written" in error
    assert tree_digest(Path.cwd()) == before


def test_bomb_is_refused_by_its_declared_size(oic: StandIn, pull: Callable) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in integration_entries().items():
            zf.writestr(name, data)
        with zf.open("icspackage/bomb.bin", "w", force_zip64=True) as out:
            block = bytes(1024 * 1024)
            for _ in range(1100):  # 1.1 GiB of zeros, about 1 MB deflated
                out.write(block)
    oic.add_integration(HELLO, buffer.getvalue())
    code, _, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1 and "zip bomb" in log
    assert not Path("integrations").exists()


# -- the folder written ------------------------------------------------------------------------


def test_folder_of_another_integration_is_not_overwritten(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    other = Path("integrations/HELLO_WORLD")
    write_tree(other, integration_entries("SOMEONE_ELSE"))
    before = tree_digest(other)
    code, _, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1
    assert (
        "holds integration SOMEONE_ELSE|01.00.0000, not integration HELLO_WORLD|01.00.0000" in log
    )
    assert tree_digest(other) == before


@pytest.mark.parametrize("what", ["project-source", "unreadable-iar", "symlinked-folder"])
def test_folder_pull_cannot_identify_is_left_alone(
    oic: StandIn, pull: Callable, tmp_path: Path, what: str
) -> None:
    oic.add_integration(HELLO, exported())
    folder = Path("integrations/HELLO_WORLD")
    folder.parent.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    if what == "project-source":
        (folder / "project").mkdir(parents=True)
        (folder / "project" / "project.yaml").write_text("code: P\n")
    elif what == "unreadable-iar":
        folder.mkdir()
        (folder / "HELLO_WORLD_01.00.0000.iar").write_bytes(b"not a zip")
    else:
        folder.symlink_to(outside)
    before, outside_before = tree_digest(Path.cwd()), tree_digest(outside)
    code, _, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1 and "nothing was written" in log
    assert tree_digest(Path.cwd()) == before and tree_digest(outside) == outside_before


def test_version_bump_updates_the_folder_in_place(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported(**{"old-only.txt": b"dropped later"}))
    assert pull("--integrations", "HELLO_WORLD")[0] == 0
    folder = Path("integrations/HELLO_WORLD")
    (folder / "connectionPlan.properties").write_text("HELLO_REST_TRIGGER.connection.x=1\n")
    (folder / "README.md").write_text("ours\n")
    (folder / "icspackage" / "stray.txt").write_text("not in any export\n")
    oic.add_integration("HELLO_WORLD|01.00.0001", exported(version="01.00.0001"))
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0, log
    assert outputs["pulled"] == [
        {
            "id": "HELLO_WORLD|01.00.0001",
            "kind": "integration",
            "path": "integrations/HELLO_WORLD",
            "status": "updated",
            "previous": [HELLO],
        }
    ]
    assert "updated integrations/HELLO_WORLD/icspackage (was HELLO_WORLD|01.00.0000)" in log
    new = integration_entries(version="01.00.0001")
    expected = {k.removeprefix("icspackage/"): v for k, v in new.items()}
    assert files_under(folder / "icspackage") == expected  # old version, stray file: gone
    assert (folder / "connectionPlan.properties").read_text().endswith("x=1\n")
    assert (folder / "README.md").read_text() == "ours\n"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_unchanged_pull_touches_nothing(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    assert pull("--integrations", "HELLO_WORLD")[0] == 0
    tree = Path("integrations/HELLO_WORLD/icspackage")
    stamps = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tree.rglob("*")}
    oic.add_integration(
        HELLO, zipped(integration_entries(), date=(2026, 1, 1, 0, 0, 0))
    )  # re-export
    code, outputs, _ = pull("--integrations", "HELLO_WORLD")
    assert code == 0 and outputs["changed"] == "false"
    assert outputs["pulled"][0]["status"] == "unchanged"
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tree.rglob("*")} == stamps


def test_committed_iar_is_replaced_by_the_tree_and_said(oic: StandIn, pull: Callable) -> None:
    oic.add_integration(HELLO, exported())
    folder = Path("integrations/HELLO_WORLD")
    folder.mkdir(parents=True)
    (folder / "HELLO_WORLD_01.00.0000.iar").write_bytes(exported(**{"old.txt": b"old"}))
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0 and outputs["pulled"][0]["status"] == "updated"
    said = "removed integrations/HELLO_WORLD/HELLO_WORLD_01.00.0000.iar: the icspackage/ folder"
    assert f"{said} replaces it (the build prefers a committed archive" in log
    assert sorted(p.name for p in folder.iterdir()) == ["icspackage"]


def test_layout_iar_commits_the_archive_as_exported(oic: StandIn, pull: Callable) -> None:
    archive = exported()
    oic.add_integration(HELLO, archive)
    folder = Path("integrations/HELLO_WORLD")
    write_tree(folder, integration_entries())  # a tree of the same code, from before
    code, outputs, log = pull("--integrations", "HELLO_WORLD", "--layout", "IAR")
    assert code == 0, log
    assert sorted(p.name for p in folder.iterdir()) == ["HELLO_WORLD_01.00.0000.iar"]
    assert (folder / "HELLO_WORLD_01.00.0000.iar").read_bytes() == archive
    said = "removed integrations/HELLO_WORLD/icspackage/: with layout iar the archive is the source"
    assert said in log
    # a re-export holds the same entries with other zip timestamps: the committed file stays
    oic.add_integration(HELLO, zipped(integration_entries(), date=(2026, 1, 1, 0, 0, 0)))
    code, outputs, _ = pull("--integrations", "HELLO_WORLD", "--layout", "iar")
    assert code == 0 and outputs["pulled"][0]["status"] == "unchanged"
    assert (folder / "HELLO_WORLD_01.00.0000.iar").read_bytes() == archive


def test_layout_iar_version_bump_replaces_the_old_archive(oic: StandIn, pull: Callable) -> None:
    folder = Path("integrations/HELLO_WORLD")
    folder.mkdir(parents=True)
    (folder / "HELLO_WORLD_01.00.0000.iar").write_bytes(exported())
    oic.add_integration("HELLO_WORLD|01.00.0001", exported(version="01.00.0001"))
    code, outputs, log = pull("--integrations", "HELLO_WORLD", "--layout", "iar")
    assert code == 0, log
    assert outputs["pulled"][0]["previous"] == [HELLO]
    assert sorted(p.name for p in folder.iterdir()) == ["HELLO_WORLD_01.00.0001.iar"]
    assert "removed integrations/HELLO_WORLD/HELLO_WORLD_01.00.0000.iar: another archive" in log


# -- where it lands: the source the repository already keeps, never a second copy ------------


def discovered(root: str = "integrations") -> list[tuple[str, str]]:
    """What discover (and so batch build) sees under root: (path, id) pairs, and no problem."""
    from oicaction.modes.discover import discover

    found, problems = discover(Path(root))
    assert problems == []
    return [(f.path, f.meta.id) for f in found]


def test_pull_updates_the_source_where_the_repository_keeps_it(
    oic: StandIn, pull: Callable
) -> None:
    folder = Path("integrations/hello-world")
    write_tree(folder, integration_entries())
    (folder / "icspackage" / "stray.txt").write_text("not in any export\n")
    oic.add_integration("HELLO_WORLD|01.00.0001", exported(version="01.00.0001"))
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0, log
    assert outputs["pulled"][0]["path"] == "integrations/hello-world"
    assert outputs["pulled"][0]["status"] == "updated"
    said = "integration HELLO_WORLD|01.00.0001: the repository keeps it in integrations/hello-world"
    assert said in log
    assert "updated integrations/hello-world/icspackage (was HELLO_WORLD|01.00.0000)" in log
    assert sorted(os.listdir("integrations")) == ["hello-world"]
    new = integration_entries(version="01.00.0001")
    assert files_under(folder / "icspackage") == {
        k.removeprefix("icspackage/"): v for k, v in new.items()
    }
    assert discovered() == [("integrations/hello-world", "HELLO_WORLD|01.00.0001")]


def test_a_committed_archive_elsewhere_becomes_the_tree_in_its_folder(
    oic: StandIn, pull: Callable
) -> None:
    folder = Path("integrations/legacy")
    folder.mkdir(parents=True)
    (folder / "HELLO_WORLD_01.00.0000.iar").write_bytes(exported(**{"old.txt": b"old"}))
    oic.add_integration(HELLO, exported())
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0, log
    assert outputs["pulled"][0]["path"] == "integrations/legacy"
    assert sorted(p.name for p in folder.iterdir()) == ["icspackage"]
    assert "removed integrations/legacy/HELLO_WORLD_01.00.0000.iar" in log
    assert discovered() == [("integrations/legacy", HELLO)]


def test_one_code_in_two_places_is_an_error_naming_both(oic: StandIn, pull: Callable) -> None:
    write_tree(Path("integrations/a"), integration_entries())
    Path("integrations/b").mkdir()
    Path("integrations/b/HELLO_WORLD_01.00.0001.iar").write_bytes(exported(version="01.00.0001"))
    oic.add_integration(HELLO, exported())
    before = tree_digest(Path("integrations"))
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1 and outputs == {}
    assert "integration HELLO_WORLD is already in both integrations/a and integrations/b" in log
    assert "nothing was written" in log
    assert tree_digest(Path("integrations")) == before


def test_one_archive_among_several_is_replaced_with_layout_iar_only(
    oic: StandIn, pull: Callable
) -> None:
    shared = Path("integrations/archives")
    shared.mkdir(parents=True)
    (shared / "HELLO_WORLD_01.00.0000.iar").write_bytes(exported())
    (shared / "OTHER_01.00.0000.iar").write_bytes(exported("OTHER"))
    archive = exported(version="01.00.0001")
    oic.add_integration("HELLO_WORLD|01.00.0001", archive)
    before = tree_digest(Path("integrations"))
    code, _, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1 and "kept as one archive among several" in log
    assert tree_digest(Path("integrations")) == before
    code, outputs, log = pull("--integrations", "HELLO_WORLD", "--layout", "iar")
    assert code == 0, log
    assert outputs["pulled"][0]["path"] == "integrations/archives"
    assert sorted(p.name for p in shared.iterdir()) == [
        "HELLO_WORLD_01.00.0001.iar",
        "OTHER_01.00.0000.iar",
    ]
    assert (shared / "HELLO_WORLD_01.00.0001.iar").read_bytes() == archive
    assert [i for _, i in discovered()] == ["HELLO_WORLD|01.00.0001", "OTHER|01.00.0000"]


def test_a_killed_pulls_staged_copy_is_not_a_second_source(oic: StandIn, pull: Callable) -> None:
    from oicaction.modes.pull.write import MARKER, MARKER_TEXT

    folder = Path("integrations/HELLO_WORLD")
    write_tree(folder, integration_entries())
    staged = folder / ".oic-pull-dead1"
    write_tree(staged / "new", integration_entries())
    (staged / MARKER).write_bytes(MARKER_TEXT)
    assert discovered() == [("integrations/HELLO_WORLD", HELLO)]
    oic.add_integration(HELLO, exported())
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0, log
    assert outputs["pulled"][0]["status"] == "unchanged"
    assert not staged.exists()


@pytest.mark.parametrize("when", ["unpacking", "swapping"])
def test_a_failed_write_leaves_the_old_tree(
    oic: StandIn, pull: Callable, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    from oicaction.modes.pull import write as pull_write

    oic.add_integration(HELLO, exported())
    assert pull("--integrations", "HELLO_WORLD")[0] == 0
    folder = Path("integrations/HELLO_WORLD")
    before = tree_digest(folder)
    oic.add_integration("HELLO_WORLD|01.00.0001", exported(version="01.00.0001"))
    copies = []

    def full_disk(*args: object) -> None:
        copies.append(1)
        if when == "unpacking" and len(copies) == 3:
            raise OSError(28, "No space left on device")
        if when == "swapping" and str(args[1]).endswith("icspackage"):
            raise OSError(28, "No space left on device")
        return real[when](*args)

    real = {"unpacking": pull_write.shutil.copyfileobj, "swapping": pull_write.os.replace}
    if when == "unpacking":
        monkeypatch.setattr(pull_write.shutil, "copyfileobj", full_disk)
    else:
        monkeypatch.setattr(pull_write.os, "replace", full_disk)
    code, outputs, log = pull("--integrations", "HELLO_WORLD")
    assert code == 1
    said = "could not write integration HELLO_WORLD|01.00.0001 (No space left on device)"
    assert f"{said}; what was there is as it was" in log
    assert outputs == {}
    assert tree_digest(folder) == before  # the old tree whole, no staging folder left


def test_a_failure_half_way_reports_what_was_written(
    oic: StandIn, pull: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oicaction.modes.pull import write as pull_write

    oic.add_integration(HELLO, exported())
    oic.add_integration("ZZZ_LAST|01.00.0000", exported("ZZZ_LAST"))
    real = pull_write._unpack

    def fail_on_last(checked: object, dest: Path) -> None:
        if "ZZZ_LAST" in str(getattr(checked, "path", "")):
            raise OSError(28, "No space left on device")
        real(checked, dest)  # type: ignore[arg-type]

    monkeypatch.setattr(pull_write, "_unpack", fail_on_last)
    code, outputs, log = pull("--integrations", "HELLO_WORLD, ZZZ_LAST")
    assert code == 1 and "could not write integration ZZZ_LAST|01.00.0000" in log
    assert outputs["changed"] == "true"
    assert [(p["id"], p["status"]) for p in outputs["pulled"]] == [(HELLO, "added")]
    assert os.listdir("integrations") == ["HELLO_WORLD"]  # ZZZ_LAST's new folder: removed


def test_a_killed_pulls_staging_is_removed_but_lookalikes_are_kept(
    oic: StandIn, pull: Callable
) -> None:
    from oicaction.modes.pull.write import MARKER, MARKER_TEXT

    oic.add_integration(HELLO, exported())
    folder = Path("integrations/HELLO_WORLD")
    (folder / ".oic-pull-dead1/new").mkdir(parents=True)
    (folder / ".oic-pull-dead1" / MARKER).write_bytes(MARKER_TEXT)
    (folder / ".oic-pull-mine").mkdir()
    (folder / ".oic-pull-mine" / "notes.txt").write_text("a user's folder\n")
    code, _, log = pull("--integrations", "HELLO_WORLD")
    assert code == 0
    assert "removed integrations/HELLO_WORLD/.oic-pull-dead1, left by a pull that was killed" in log
    assert sorted(p.name for p in folder.iterdir()) == [".oic-pull-mine", "icspackage"]


def test_github_outputs_and_summary(
    oic: StandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    oic.add_integration(HELLO, exported())
    oic.add_integration("ORDERS|01.00.0000", exported("ORDERS"))
    runner = use_runner(monkeypatch, tmp_path / "runner")
    monkeypatch.setenv("INPUT_MODE", "pull")
    monkeypatch.setenv("INPUT_INTEGRATIONS", "HELLO_WORLD\nORDERS\n")
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", "integrations")
    write_tree(Path("integrations/ORDERS"), integration_entries("ORDERS"))
    assert run_cli(*server_args(oic)) == 0
    outputs = read_outputs(runner)
    assert outputs["changed"] == "true"
    assert [(p["id"], p["status"]) for p in json.loads(outputs["pulled"])] == [
        (HELLO, "added"),
        ("ORDERS|01.00.0000", "unchanged"),
    ]
    summary = (runner / "summary").read_text()
    assert "### oic-build pull: 1 added, 0 updated, 1 unchanged" in summary
    assert "| `HELLO_WORLD\\|01.00.0000` | `integrations/HELLO_WORLD` | added |" in summary


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--integration-path", "a,b"], "pull writes under one folder"),
        (["--oic-project", "P"], "integrations and oic-project together"),
        (["--layout", "zip"], "layout"),
    ],
)
def test_settings_errors(oic: StandIn, pull: Callable, argv: list[str], said: str) -> None:
    code, _, log = pull("--integrations", "HELLO_WORLD", *argv)
    assert code == 2 and said in log
    assert oic.total_requests == 0


def test_pull_needs_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--mode", "pull", "--integrations", "X") == 2
    assert "server settings are missing: oic-url" in capsys.readouterr().err


# -- projects ----------------------------------------------------------------------------------


def project_car(project: str = "DEMO", code: str = "DEMO") -> bytes:
    """A small OIC 3 project export (conftest's generated project)."""
    return zipped(project_entries(code, project_id=project))


def test_project_pull_writes_its_tree(oic: StandIn, pull: Callable) -> None:
    oic.add_project_archive("DEMO", project_car())
    code, outputs, log = pull("--oic-project", "DEMO")
    assert code == 0, log
    assert outputs["pulled"] == [
        {
            "id": "DEMO",
            "kind": "project",
            "path": "integrations/DEMO",
            "status": "added",
            "previous": [],
        }
    ]
    with zipfile.ZipFile(io.BytesIO(project_car())) as zf:
        expected = {i.filename: zf.read(i) for i in zf.infolist()}
    assert files_under(Path("integrations/DEMO")) == expected
    assert oic.count("POST", "/ic/api/integration/v1/projects/DEMO/archive") == 1


def test_project_export_streams_the_car_and_asks_for_an_archive(
    oic: StandIn, pull: Callable
) -> None:
    """The .car is an archive, not JSON: asked for as one and streamed to its file (capped by
    max-response-size all the same)."""
    oic.add_project_archive("DEMO", project_car())
    code, _, log = pull("--oic-project", "DEMO", "--layout", "iar")
    assert code == 0, log
    [export] = [r for r in oic.requests if r.path.endswith("/projects/DEMO/archive")]
    assert export.method == "POST" and json.loads(export.body) == {
        "code": "DEMO",
        "type": "DEVELOPED",
    }
    assert export.headers["Accept"] == "application/octet-stream, */*"
    code, _, log = pull(
        "--oic-project", "DEMO", "--max-response-size", str(len(project_car()) - 1), path="other"
    )
    assert code == 1 and "max-response-size" in log and not Path("other").exists()


def test_locked_project_fails_at_once_with_the_reason(oic: StandIn, pull: Callable) -> None:
    oic.add_project_archive("DEMO", project_car())
    oic.fault("/projects/DEMO/archive", "423", times=10)
    code, _, log = pull("--oic-project", "DEMO")
    assert code == 1
    error = one_error(log)
    assert error.startswith("error: project DEMO: HTTP 423 Locked from POST ")
    assert "Connection is locked" in error and "open in the designer?" in error
    assert oic.count("POST", "/ic/api/integration/v1/projects/DEMO/archive") == 1
    assert not Path("integrations").exists()


def test_project_pull_layout_iar(oic: StandIn, pull: Callable) -> None:
    oic.add_project_archive("DEMO", project_car())
    code, _, log = pull("--oic-project", "DEMO", "--layout", "iar")
    assert code == 0, log
    assert os.listdir("integrations/DEMO") == ["DEMO.car"]
    assert Path("integrations/DEMO/DEMO.car").read_bytes() == project_car()


def test_project_export_holding_another_project_is_refused(oic: StandIn, pull: Callable) -> None:
    oic.add_project_archive("OTHER", project_car("DEMO", "DEMO"))
    code, _, log = pull("--oic-project", "OTHER")
    assert code == 1
    assert "project OTHER as exported by OIC: it holds project DEMO, not what was asked for" in log
    assert not Path("integrations").exists()


def test_unknown_project_is_a_settings_error(oic: StandIn, pull: Callable) -> None:
    code, _, log = pull("--oic-project", "NOPE")
    assert code == 2 and "oic-project NOPE was not found" in log


def test_a_secret_across_two_read_chunks_is_found_at_its_line(tmp_path: Path) -> None:
    from oicaction.modes.pull.archive import CHUNK, check_archive
    from oicaction.redact import Redactor

    secret = "Pl4nted-Across-Chunks-77"
    filler = b"x" * 99 + b"\n"  # 100-byte lines
    head = filler * (CHUNK // 100) + b"y" * (CHUNK % 100 - 5)  # the secret starts 5 bytes early
    archive = tmp_path / "HELLO_WORLD_01.00.0000.iar"
    archive.write_bytes(exported(**{"big.txt": head + secret.encode() + b"\n" + filler}))
    with pytest.raises(Exception, match=rf"big.txt: line {CHUNK // 100 + 1} holds one of") as exc:
        find = Redactor([secret]).find_line
        check_archive(archive, HELLO, project=False, whole_tree=True, find_secret=find)
    assert secret not in str(exc.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes files for another owner")
@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_written_files_belong_to_the_folders_owner(
    oic: StandIn, pull: Callable, existing: bool
) -> None:
    """As root in a container, what pull writes is given to whoever owns the workspace."""
    if existing:
        Path("integrations/HELLO_WORLD").mkdir(parents=True)
        for made in (Path("integrations"), Path("integrations/HELLO_WORLD")):
            os.chown(made, 65534, 65534)
    os.chown(".", 65534, 65534)
    oic.add_integration(HELLO, exported())
    assert pull("--integrations", "HELLO_WORLD")[0] == 0
    written = [Path("integrations"), *Path("integrations").rglob("*")]
    assert {(p.stat().st_uid, p.stat().st_gid) for p in written} == {(65534, 65534)}
