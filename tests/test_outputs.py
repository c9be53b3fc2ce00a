"""Every sink redacts first and escapes after (issue 18.4): a secret holding characters that
Markdown, JSON or a heredoc would escape never shows, escaped or not, in the step summary, the
step outputs or --json; and one build's outputs are the same values in every sink."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import build_cli as build
from conftest import make_integration, read_outputs, use_runner

from oicaction.outputs import plain

# Characters the summary escapes (`_`, `(`, `)`, `!`, `*`), ends a table cell with (`|`), or
# JSON escapes (`"`, `\`).
SECRET = 'PW_a|b(c)!d*e"f\\g-77'


@pytest.fixture
def sinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    files = use_runner(monkeypatch, tmp_path / "runner", github=False)
    return files / "output", files / "summary"


def _forms(secret: str) -> list[str]:
    """The secret as each sink would have escaped it."""
    return [secret, plain(secret), plain(secret).replace("|", "\\|"), json.dumps(secret)[1:-1]]


@pytest.mark.parametrize("where", ["name", "path"])
def test_a_secret_shows_in_no_sink(
    where: str, sinks: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The secret in the integration's name (project.xml) or in its folder's name: both reach
    the summary (as text, as code), the outputs and --json."""
    folder = Path(f"ints/x{SECRET}") if where == "path" else Path("ints/hello")
    name = f"Hello {SECRET} World" if where == "name" else "Hello World"
    src = make_integration(folder, name=name.replace("&", "&amp;"))
    rc = build(src, "--username", "u", "--password", SECRET)
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    outputs, summary = (path.read_text(encoding="utf-8") for path in sinks)
    for sink, text in {
        "summary": summary,
        "outputs": outputs,
        "json": captured.out,
        "log": captured.err,
    }.items():
        for form in _forms(SECRET):
            assert form not in text, f"{sink} shows {form!r}"
        assert "***" in text or plain("***") in text, sink
    as_json, as_outputs = json.loads(captured.out), read_outputs(sinks[0].parent)
    if where == "name":
        assert as_json["integration-name"] == as_outputs["integration-name"] == "Hello *** World"
    else:  # a `*` in the path makes it a glob, so a batch: the path is in `integrations`
        assert as_json["integrations"][0]["path"] == "ints/x***"
        assert json.loads(as_outputs["integrations"])[0]["path"] == "ints/x***"


def test_every_sink_carries_the_same_values(
    sinks: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_integration(Path("src"), lookups=["Codes"])
    assert build(src) == 0
    as_json = json.loads(capsys.readouterr().out)
    as_outputs = read_outputs(sinks[0].parent)
    assert sorted(as_json) == sorted(as_outputs)
    for name, value in as_json.items():
        shown = json.dumps(value, separators=(",", ":")) if isinstance(value, list) else value
        assert as_outputs[name] == shown, name
    summary = sinks[1].read_text(encoding="utf-8")
    assert "| Integration | `HELLO_WORLD\\|01.00.0000` Hello World |" in summary
    assert f"| SHA-256 | `{as_json['sha256']}` |" in summary
    assert "| Lookups | Codes |" in summary
