"""Running as a container action: inputs from INPUT_*, outputs to $GITHUB_OUTPUT, masks first,
annotations with workspace-relative paths, and an entry point that ignores the host's PATH."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO, build_cli, read_outputs, run_cli, use_runner
from oic_standin import StandIn
from pull_archives import HELLO, exported
from runner_commands import read_output_file
from standin_fixtures import server_args


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = Path.cwd()
    use_runner(monkeypatch, tmp_path)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.setenv("GITHUB_SHA", "feedface")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    return workspace


def test_action_run(
    github: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(EXAMPLE, github / "src")
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", "src")
    monkeypatch.setenv("INPUT_ARTIFACT-DIR", "out")
    monkeypatch.setenv("INPUT_MANAGE-CONNECTIONS", "false")
    monkeypatch.setenv("INPUT_CONNECTION-PLAN", "")
    assert run_cli() == 0
    outputs = read_outputs(tmp_path)
    assert outputs["integration-id"] == "HELLO_WORLD|01.00.0000"
    assert outputs["iar-path"] == "out/HELLO_WORLD_01.00.0000/HELLO_WORLD_01.00.0000.iar"
    assert outputs["artifact-dir"] == "out/HELLO_WORLD_01.00.0000"
    assert json.loads(outputs["connections"]) == ["HELLO_REST_TRIGGER"]
    assert json.loads(outputs["lookups"]) == []
    assert set(outputs) >= {
        "integration-code",
        "integration-version",
        "source-kind",
        "sha256",
        "connections-file",
        "integration-name",
    }
    summary = (tmp_path / "summary").read_text()
    assert "| Integration | `HELLO_WORLD\\|01.00.0000` Hello World |" in summary
    info = json.loads((github / outputs["artifact-dir"] / "build-info.json").read_text())
    assert info["git"] == {
        "commit": "feedface",
        "ref": "refs/heads/main",
        "run_id": "4242",
        "repository": None,
    }
    assert capsys.readouterr().err == ""  # in GitHub everything goes to the log (stdout)


def test_masks_come_first_and_secrets_never_print(
    github: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INPUT_PASSWORD", "s3cr3t-Pa55")
    monkeypatch.setenv("INPUT_CLIENT-SECRET", "cl13nt-s3cr3t")
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", "s3cr3t-Pa55")  # a secret echoed by an error
    assert run_cli() == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("::add-mask::") and out[1].startswith("::add-mask::")
    assert {out[0], out[1]} == {"::add-mask::s3cr3t-Pa55", "::add-mask::cl13nt-s3cr3t"}
    rest = "\n".join(out[2:])
    assert "s3cr3t-Pa55" not in rest and "cl13nt-s3cr3t" not in rest
    assert "::error::integration-path *** does not exist" in rest


def test_error_annotation_names_file_relative_to_workspace(
    github: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shutil.copytree(EXAMPLE, github / "repo" / "int")
    xml = src / "icspackage/project/HELLO_WORLD_01.00.0000/PROJECT-INF/project.xml"
    xml.write_text(xml.read_text().replace("01.00.0000</projectVersion>", "1.0</projectVersion>"))
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", "repo/int")
    monkeypatch.setenv("INPUT_MANAGE-CONNECTIONS", "false")
    assert run_cli() == 1
    out = capsys.readouterr().out
    assert (
        "::error file=repo/int/icspackage/project/HELLO_WORLD_01.00.0000/PROJECT-INF/project.xml::"
    ) in out
    assert not (tmp := Path("oic-artifacts")).exists(), tmp


def test_multiline_values_cannot_forge_outputs(tmp_path: Path) -> None:
    from oicaction.outputs import write_github_outputs

    path = tmp_path / "out"
    evil = "x\nghadelimiter_0\nsha256<<EOF\nforged\nEOF"
    write_github_outputs({"integration-name": evil, "sha256": "real"}, path)
    assert read_output_file(path.read_text()) == {"integration-name": evil, "sha256": "real"}


def test_entrypoint_ignores_host_path_and_home(tmp_path: Path) -> None:
    """The runner passes the host's PATH/HOME into the container; the entry point must not care."""
    env = {
        "PATH": "/nonexistent/bin",
        "HOME": "/nonexistent/home",
        "LD_LIBRARY_PATH": "/nope",
        "OIC_MANAGE_CONNECTIONS": "no",
    }
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "entrypoint.py"),
            "--integration-path",
            str(EXAMPLE),
            "--artifact-dir",
            str(tmp_path / "art"),
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["integration-id"] == "HELLO_WORLD|01.00.0000"


def test_help_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    from oicaction.settings import Settings, input_name

    with pytest.raises(SystemExit) as exc:
        run_cli("--help")
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for name in Settings.model_fields:
        assert f"--{input_name(name)}" in text


def test_action_yml_declares_every_setting_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], oic_standin: StandIn
) -> None:
    """action.yml, the CLI and the settings model must not drift apart; both container steps of
    the composite action get every input, and every output comes from one of them."""
    import yaml

    from oicaction.settings import Settings, input_name

    action = yaml.safe_load((REPO / "action.yml").read_text())
    names = [input_name(n) for n in Settings.model_fields]
    assert list(action["inputs"]) == names
    assert action["runs"]["using"] == "composite"
    steps = {step["id"]: step for step in action["runs"]["steps"]}
    for step_id in ("prebuilt", "built"):
        assert steps[step_id]["with"] == {n: f"${{{{ inputs.{n} }}}}" for n in names}
    assert steps["image"]["env"]["OIC_ACTION_INPUTS"].split() == names
    assert build_cli(EXAMPLE, out=tmp_path / "a") == 0
    produced = set(json.loads(capsys.readouterr().out))
    project = tmp_path / "p" / "project"
    (project / "integrations").mkdir(parents=True)
    (project / "project.yaml").write_text("code: DEMO\n")
    assert run_cli("--integration-path", str(project.parent), "--json") == 0
    produced |= set(json.loads(capsys.readouterr().out))  # a project's outputs too
    with StandIn() as target:  # and a deploy's (a dry run: it only reads)
        args = ("--artifact-path", str(tmp_path / "a"), "--dry-run", "true", "--json")
        warn = ("--missing-connections", "warn")
        assert run_cli("deploy", *args, *warn, *server_args(target)) == 0
    produced |= set(json.loads(capsys.readouterr().out))
    oic_standin.add_integration(HELLO, exported())
    pull = ["pull", "--integrations", "HELLO_WORLD", "--integration-path", str(tmp_path / "r")]
    assert run_cli(*pull, *server_args(oic_standin), "--json") == 0
    produced |= set(json.loads(capsys.readouterr().out))  # and a pull's
    assert set(action["outputs"]) == produced
    for name, output in action["outputs"].items():
        value = f"${{{{ steps.prebuilt.outputs.{name} || steps.built.outputs.{name} }}}}"
        assert output["value"] == value
    readme = (REPO / "README.md").read_text().split("## Outputs", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, re.M)) == produced


def test_generated_blocks_match_settings() -> None:
    """action.yml's inputs/outputs/with: lists and README's inputs table are what
    scripts/gen_action.py makes from the Settings model: one description per input."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_action.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("argv", [["--manage-connections", "perhaps"], ["--no-such"]])
def test_masks_come_before_usage_errors(
    argv: list[str],
    github: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INPUT_PASSWORD", "pa55-in-input")
    monkeypatch.setenv("OIC_CLIENT_SECRET", "s3cret-in-env")
    assert run_cli(*argv, "s3cret-in-env") == 2
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["::add-mask::pa55-in-input", "::add-mask::s3cret-in-env"]
    assert len(out) == 3 and out[2].startswith("::error::")
    assert "s3cret-in-env" not in out[2] and "(see --help)" in out[2]
