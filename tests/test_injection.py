"""No text that reaches a log line, the step outputs or the step summary can forge a workflow
command, whatever it holds: names from project.xml, .iar file names, folder names in a batch
and in discover, fields from the server.

Every log is read back the way the GitHub runner reads it (tests/runner_commands.py); the only
commands allowed are the annotations the build meant, and their data must come back equal to
the message that was meant, byte for byte.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from conftest import make_integration, run_captured, run_cli
from oic_standin import StandIn
from runner_commands import commands, read_output_file
from standin_fixtures import server_args

from oicaction.outputs import Table, markdown, plain
from oicaction.report import Reporter
from oicaction.source.metadata import Cell, Code

PROJECT = "icspackage/project/HELLO_WORLD_01.00.0000/PROJECT-INF/project.xml"

# Each tries a different way out of its line or into a command.
HOSTILE = [
    "name\n::error::forged",
    "name\r::add-mask::forged",
    "name\r\n::stop-commands::forged",
    "::error::forged at the start",
    "   ::warning::forged after spaces",
    "\u00a0\t::error::forged after other whitespace",
    "name ##[add-mask]forged",
    "name ##[set-output name=x]forged",
    "literal %0A::error::forged",
    "%0D%0A::error::forged",
    "name\n##[error]forged",
    "name\u2028::error::forged",
]


def _forged(log: str, masks: tuple[str, ...] = ()) -> list[str]:
    """Commands the build did not mean: any but its annotations and masks of the secrets it
    was given, or one whose data starts where a hostile text put its own command."""
    meant = ("error", "warning")
    return [
        f"{c.name}:{c.data}"
        for c in commands(log)
        if not (c.name in meant or (c.name == "add-mask" and c.data in masks))
        or c.data.startswith("forged")
    ]


@pytest.mark.parametrize("message", HOSTILE)
@pytest.mark.parametrize("github", [True, False], ids=["github", "local"])
def test_every_line_kind_is_escaped(message: str, github: bool, tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = Reporter(github=github, stream=out)
    reporter.info(message)
    assert commands(out.getvalue()) == [], out.getvalue()
    file = tmp_path / message
    file.write_text("")
    for level in ("warning", "error"):
        out.seek(0)
        out.truncate()
        getattr(reporter, level)(message, file)
        found = commands(out.getvalue())
        if github:  # exactly the annotation meant, its data and file intact
            assert [(c.name, c.data) for c in found] == [(level, message)], out.getvalue()
            assert found[0].properties["file"].endswith(message)
        else:
            assert found == [], out.getvalue()


@pytest.mark.parametrize("github", [True, False], ids=["github", "local"])
def test_a_url_in_a_line_reads_as_it_was_requested(github: bool) -> None:
    """The runner shows a plain line as it is (it unescapes a command's data only): a `%` is
    not escaped there, so `HELLO%7C01` never reads `HELLO%257C01`."""
    url = "https://oic.example.com/ic/api/integration/v1/integrations/HELLO%7C01.00.0000/archive"
    out = io.StringIO()
    reporter = Reporter(github=github, stream=out)
    reporter.info(f"GET {url}: 423")
    reporter.error(f"GET {url}: 423")
    info, error = out.getvalue().splitlines()
    assert info == f"GET {url}: 423"
    if github:  # an annotation: escaped, and unescaped by the runner to the message meant
        assert [c.data for c in commands(out.getvalue())] == [f"GET {url}: 423"]
    else:
        assert error == f"error: GET {url}: 423"


def test_json_on_stdout_forges_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = Reporter(github=True, stream=io.StringIO())
    doc = {"integration-name": HOSTILE, "##[add-mask]key": "x"}
    reporter.result(json.dumps(doc, indent=2))
    out = capsys.readouterr().out
    assert commands(out) == []
    assert json.loads(out) == doc  # the same JSON, only spelled safely


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    ran = run_captured(capsys, *argv, "--manage-connections", "false", "--json")
    return ran.code, ran.out + ran.err


# project.xml can hold a name over several lines, with a CR as an entity.
NAMES = ["Hello\n::error::forged\nWorld", "Hello&#13;::add-mask::forged", "##[stop-commands]forged"]


@pytest.mark.parametrize("name", NAMES)
def test_names_from_project_xml(
    name: str, runner: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = make_integration(tmp_path / "src", name=name)
    rc, log = _run(capsys, "--integration-path", str(src))
    assert rc == 0, log
    assert _forged(log) == [] and commands(log) == []
    outputs = read_output_file((runner / "output").read_bytes().decode())
    assert outputs["integration-name"] == name.replace("&#13;", "\r")


@pytest.mark.parametrize(
    "file_name",
    ["A\n::error::forged_01.00.0000.iar", "A\r::add-mask::forged.iar", "##[error]forged.iar"],
)
def test_iar_file_names(
    file_name: str, runner: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_integration(tmp_path / "src", as_iar=True, file_name=file_name)
    rc, log = _run(capsys, "--integration-path", str(tmp_path / "src"))
    assert rc == 0, log
    assert _forged(log) == [] and commands(log) == []


FOLDERS = ["a\n::error::forged", "b\r\n::stop-commands::forged", "c ##[add-mask]forged", "::d::"]


def _versioned(dest: Path, i: int) -> Path:
    """HELLO_WORLD 01.00.000<i>, so several can share one batch."""
    return make_integration(dest, version=f"01.00.000{i}")


def _tree(root: Path) -> Path:
    for i, folder in enumerate(FOLDERS):
        _versioned(root / folder, i)
    return root


def test_batch_folder_names(
    runner: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _tree(tmp_path / "integrations")
    broken = root / "e\n::error::forged-broken"
    broken.mkdir()
    (broken / "x.iar").write_bytes(b"not a zip")  # one fails: its error names the folder
    rc, log = _run(capsys, "--integration-path", f"{root}/*")
    assert rc == 1, log
    assert _forged(log) == []
    errors = [c for c in commands(log) if c.name == "error"]
    outputs = read_output_file((runner / "output").read_bytes().decode())
    assert set(outputs) == {"artifact-dir", "integrations"}
    records = json.loads(outputs["integrations"])
    assert sorted(Path(r["path"]).name for r in records) == sorted([*FOLDERS, broken.name])
    summary = (runner / "summary").read_text()
    rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(records)  # header, rule, one row each: no name broke a row
    if errors:  # in GitHub: the failure's annotation data is the whole message, newline kept
        assert any(broken.name in e.data for e in errors)


def test_discover_folder_names(
    runner: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _tree(tmp_path / "integrations")
    (root / "f\n::error::forged-broken").mkdir()
    (root / "f\n::error::forged-broken" / "x.iar").write_bytes(b"not a zip")
    rc = run_cli("discover", "--integration-path", str(root), "--json")
    captured = capsys.readouterr()
    log = captured.out + captured.err
    assert rc == 1, log
    assert _forged(log) == []
    found = json.loads(read_output_file((runner / "output").read_bytes().decode())["integrations"])
    assert sorted(Path(f["path"]).name for f in found) == sorted(FOLDERS)


SERVER_TEXT = [
    "detail\n::error::forged",
    "detail\r::add-mask::forged",
    "##[stop-commands]forged",
    "</title><img src=x> | forged | `forged`",
]


@pytest.mark.parametrize("text", SERVER_TEXT)
@pytest.mark.usefixtures("oic_fast_http")
def test_fields_from_the_server(
    text: str, runner: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    one, two = _versioned(tmp_path / "one", 1), _versioned(tmp_path / "two", 2)
    with StandIn() as standin:
        standin.fault("/connections/HELLO_REST_TRIGGER", "echo", times=5, text=text)
        args = server_args(standin)
        rc = run_cli("--integration-path", f"{one},{two}", *args)
    captured = capsys.readouterr()
    log = captured.out + captured.err
    assert rc == 1, log
    assert _forged(log, masks=(args[-1], *standin.state.tokens)) == []  # and the token's
    errors = [c for c in commands(log) if c.name == "error"]
    for error in errors:  # GitHub: the server's text (one line) inside each annotation
        assert " ".join(text.split()) in error.data
    summary = (runner / "summary").read_text()
    assert re.search(r"(?<!\\)<img", summary) is None
    assert len(summary.strip().splitlines()) == 6  # title, blank, header, rule, two rows


def test_summary_cells_keep_their_shape() -> None:
    hostile = "a|b`c``d<script>\n| x | y |"
    table = markdown(Table("t", ("a", "b"), [(Cell((Code(hostile),)), Cell((hostile,)))]))
    lines = table.strip().splitlines()
    assert len(lines) == 5 and lines[-1].count("|") - lines[-1].count("\\|") == 3
    assert re.search(r"(?<!\\)<script", plain(hostile)) is None
