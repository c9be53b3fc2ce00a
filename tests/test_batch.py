"""Batch builds: several paths or a glob, each into its own folder, failures isolated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_integration, run_captured, run_cli, tree_digest
from oic_standin import StandIn
from standin_fixtures import server_args


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    for i in range(6):
        make_integration(
            root / "ints" / f"i{i}",
            f"B_{i}",
            "01.00.0000",
            as_iar=i % 2 == 1,
        )
    monkeypatch.chdir(root)
    return root


def _batch(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object], str]:
    ran = run_captured(capsys, "--manage-connections", "false", "--json", *argv)
    return ran.code, ran.json, ran.err


def test_glob_builds_each_into_its_folder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _batch(capsys, "--integration-path", "ints/*")
    assert rc == 0
    assert out["artifact-dir"] == "oic-artifacts"
    results = out["integrations"]
    assert [r["id"] for r in results] == [f"B_{i}|01.00.0000" for i in range(6)]
    assert all(r["status"] == "built" and r["error"] is None for r in results)
    for r in results:
        assert Path(r["iar-path"]).is_file()
        assert Path(r["artifact-dir"]) == Path("oic-artifacts") / f"{r['code']}_01.00.0000"


def test_list_of_paths_lines_or_commas(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _batch(capsys, "--integration-path", "ints/i0\nints/i3, ints/i4")
    assert rc == 0
    assert [r["code"] for r in out["integrations"]] == ["B_0", "B_3", "B_4"]


def test_one_failure_keeps_the_others(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (next((repo / "ints/i1").glob("*.iar"))).write_bytes(b"garbage")
    xml = next((repo / "ints/i2").rglob("project.xml"))
    xml.write_text(xml.read_text().replace("01.00.0000</", "1.0</", 1))
    before = tree_digest(repo / "ints")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    rc, out, err = _batch(capsys, "--integration-path", "ints/*")
    assert rc == 1
    status = {r["path"]: (r["status"], r["error"]) for r in out["integrations"]}
    assert status["ints/i1"][0] == "failed" and "not a readable zip" in status["ints/i1"][1]
    assert status["ints/i2"][0] == "failed" and "NN.NN.NNNN" in status["ints/i2"][1]
    built = sorted(p.name for p in Path("oic-artifacts").iterdir())
    assert built == ["B_0_01.00.0000", "B_3_01.00.0000", "B_4_01.00.0000", "B_5_01.00.0000"]
    assert err.count("error:") == 2
    summary = (tmp_path / "summary.md").read_text()
    assert "4 of 6 built" in summary and "| `B_3\\|01.00.0000` | `ints/i3` | built |" in summary
    assert tree_digest(repo / "ints") == before


def test_duplicates_named_and_not_built(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_integration(repo / "ints/z_copy", "B_0", "01.00.0000", as_iar=True)
    rc, out, err = _batch(capsys, "--integration-path", "ints/*")
    assert rc == 1
    assert "integration B_0|01.00.0000 is in both ints/i0 and ints/z_copy" in err
    assert not Path("oic-artifacts/B_0_01.00.0000").exists()
    assert sum(r["status"] == "built" for r in out["integrations"]) == 5


def test_glob_matching_nothing_is_a_settings_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = _batch(capsys, "--integration-path", "nothing/*")
    assert rc == 2 and "integration-path nothing/* matches nothing" in err


def test_batch_makes_one_token_and_one_get_per_connection(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    oic_standin: StandIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """9 integrations sharing 5 connections: 5 connection GETs and 1 token, counted at the
    server, whatever the order and concurrency."""
    shared = ["ORDERS_REST", "ERP_CLOUD", "APPLICATION_EVENT_CONNECTION", "FTP_IN", "HCM"]
    root = tmp_path / "many"
    for i in range(9):
        uses = [shared[i % 5], shared[(i + 2) % 5]]
        make_integration(root / f"i{i}", f"M_{i}", as_iar=i % 2 == 0, connections=uses)
    for conn in shared:
        oic_standin.add_connection(conn, {"id": conn, "connectionProperties": []})
    monkeypatch.chdir(tmp_path)
    rc = run_cli("--integration-path", "many/*", "--json", *server_args(oic_standin))
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert [r["status"] for r in out["integrations"]] == ["built"] * 9
    assert [oic_standin.connection_gets(c) for c in shared] == [1] * 5
    assert oic_standin.token_requests == 1
    assert oic_standin.total_requests == 7  # token, the first request, five connections
    for r in out["integrations"]:
        assert (Path(r["artifact-dir"]) / "connections.json").is_file()
