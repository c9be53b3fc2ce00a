"""Shared test helpers: where the real fixtures are, a clean environment, generated sources
(`make_integration`, `make_project`) and the one way a test runs a build (`build`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

# The OIC stand-in, cassettes and --oic-record-mode (tests/standin_fixtures.py); the Docker
# engine, tools and image of the `container` tests (tests/container_fixtures.py); the deploy
# tests' artifact, target and fast polls (tests/deploy_support.py).
pytest_plugins = ["standin_fixtures", "container_fixtures", "deploy_support"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
REAL = SHARED / "real"
API = SHARED / "api"
EXAMPLE = REPO / "examples" / "hello-world"


def need_fixtures(folder: Path) -> Path:
    """Skip, visibly, where the shared fixtures are absent (a user's clone); CI sets
    OIC_BUILD_REQUIRE_FIXTURES=1 so that their absence fails instead."""
    if not folder.is_dir():
        if os.environ.get("OIC_BUILD_REQUIRE_FIXTURES") == "1":
            pytest.fail(f"shared fixtures missing at {folder}")
        pytest.skip(f"shared fixtures not found at {folder}")
    return folder


@pytest.fixture
def real_dir() -> Path:
    return need_fixtures(REAL)


@pytest.fixture
def api_dir() -> Path:
    return need_fixtures(API)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No runner, input or OIC_ variable from the host leaks into a test; cwd is a temp dir."""
    for key in list(os.environ):
        if key.startswith(("INPUT_", "OIC_", "GITHUB_", "CI_", "GIT_", "BUILD_")) and (
            key != "OIC_BUILD_REQUIRE_FIXTURES"
        ):
            monkeypatch.delenv(key, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


def use_runner(monkeypatch: pytest.MonkeyPatch, files: Path, *, github: bool = True) -> Path:
    """Point $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY at `files`/output and `files`/summary (made
    here), in GitHub mode (workflow commands on stdout) or not; `files` returned."""
    files.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("GITHUB_OUTPUT", str(files / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files / "summary"))
    if github:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return files


@pytest.fixture(params=[True, False], ids=["github", "local"])
def runner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The runner's files ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY), in GitHub mode or not."""
    return use_runner(monkeypatch, tmp_path / "runner", github=request.param)


def read_outputs(files: Path) -> dict[str, str]:
    """The step outputs a run wrote to `files`/output, read the way the runner reads them."""
    from runner_commands import read_output_file

    return read_output_file((files / "output").read_text(encoding="utf-8"))


def sinks(log: str, *roots: Path) -> dict[str, bytes]:
    """Everything a run showed or wrote: the log without the runner's own `::add-mask::` lines
    (they name what to hide), and every file under `roots`, keyed by path."""
    shown = "\n".join(line for line in log.splitlines() if not line.startswith("::add-mask::"))
    places = {"log": shown.encode()}
    for root in roots:
        places.update({p.as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()})
    return places


def assert_no_leak(places: Mapping[str, bytes], *secrets: str) -> None:
    """No secret (in any of the given forms) in any sink of `sinks`."""
    for where, data in places.items():
        for secret in secrets:
            assert secret.encode() not in data, f"{secret!r} leaked into {where}"


def tree_digest(root: Path) -> dict[str, str]:
    """Every file, link and folder under root with its content hash: 'source untouched' checks."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[rel] = "dir"
    return found


def zip_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def run_cli(*argv: str) -> int:
    from oicaction.cli import main

    return main(list(argv))


@dataclass
class Ran:
    """One in-process run: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """stdout as the --json document ({} when the run printed none)."""
        return json.loads(self.out) if self.out.strip() else {}


def run_captured(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """main() in-process, with what it printed to stdout and stderr."""
    code = run_cli(*argv)
    out, err = capsys.readouterr()
    return Ran(code, out, err)


# -- generated sources: what a real export holds, made here, so no test needs ../shared for it

EXAMPLE_SLUG = "HELLO_WORLD_01.00.0000"


def _connection_xml(conn_id: str, adapter: str) -> bytes:
    return (
        "<?xml version = '1.0' encoding = 'UTF-8'?>\n"
        '<ns2:ApplicationInstance xmlns:ns2="http://xmlns.oracle.com/adapters/cloud">\n'
        f"  <instanceCode>{conn_id}</instanceCode>\n"
        f"  <displayName>{conn_id.title()}</displayName>\n"
        f"  <applicationTypeRef>{adapter}</applicationTypeRef>\n"
        "  <securityPolicy>BASIC_AUTH</securityPolicy>\n"
        "</ns2:ApplicationInstance>\n"
    ).encode()


def _dvm(name: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<dvm name="{name}"/>\n'.encode()


def integration_files(
    code: str = "HELLO_WORLD",
    version: str = "01.00.0000",
    name: str | None = "Hello World",
    root: str = "icspackage/project",
) -> dict[str, bytes]:
    """The example integration's own files (project.xml, attributes, a WSDL) as CODE/VERSION,
    under `root`/<CODE>_<VERSION>/."""
    files: dict[str, bytes] = {}
    base = EXAMPLE / "icspackage/project" / EXAMPLE_SLUG
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        text = text.replace("HELLO_WORLD", code).replace("01.00.0000", version)
        if name is None:
            text = re.sub(r"\s*<projectName>Hello World</projectName>", "", text)
        text = text.replace("Hello World", name or "")
        rel = path.relative_to(base).as_posix()
        files[f"{root}/{code}_{version}/{rel}"] = text.encode("utf-8")
    return files


def integration_entries(
    code: str = "HELLO_WORLD",
    version: str = "01.00.0000",
    *,
    name: str | None = "Hello World",
    connections: Sequence[str] = ("HELLO_REST_TRIGGER",),
    lookups: Sequence[str] = (),
    adapter: str = "rest",
) -> dict[str, bytes]:
    """Every entry of a generated .iar: the example's files as CODE/VERSION, one
    appinstances/<ID>.xml per connection, one dvms/<NAME>.dvm per lookup."""
    entries = integration_files(code, version, name)
    for conn_id in connections:
        entries[f"icspackage/appinstances/{conn_id}.xml"] = _connection_xml(conn_id, adapter)
    for lookup in lookups:
        entries[f"icspackage/dvms/{lookup}.dvm"] = _dvm(lookup)
    return entries


def write_zip(path: Path, entries: Mapping[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(entries.items()):
            zf.writestr(name, data)
    return path


def write_tree(folder: Path, entries: Mapping[str, bytes]) -> Path:
    for name, data in entries.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def _write_source(dest: Path, entries: Mapping[str, bytes], archive: str | None) -> Path:
    """`entries` zipped into `dest`/`archive`, or unpacked into `dest` when `archive` is None."""
    if archive is not None:
        write_zip(dest / archive, entries)
    else:
        write_tree(dest, entries)
    return dest


def make_integration(
    dest: Path,
    code: str = "HELLO_WORLD",
    version: str = "01.00.0000",
    *,
    as_iar: bool = False,
    file_name: str | None = None,
    extra: Mapping[str, bytes] | None = None,
    **content: Any,
) -> Path:
    """A generated integration in folder `dest` (returned): an icspackage/ tree, or with
    `as_iar` one `<CODE>_<VERSION>.iar` (or `file_name`). `content`: name, connections,
    lookups, adapter (see integration_entries); `extra` entries are added as given."""
    entries = {**integration_entries(code, version, **content), **(extra or {})}
    return _write_source(dest, entries, (file_name or f"{code}_{version}.iar") if as_iar else None)


def project_entries(
    code: str = "SALES",
    *,
    project_id: str | None = None,
    name: str | None = "Sales",
    revision: int | None = 7,
    integrations: Sequence[tuple[str, str]] = (("ORDERS", "01.00.0000"),),
    connections: Sequence[tuple[str, str]] = (("ORDERS_REST", "rest"), ("ORDERS_FTP", "ftp")),
    lookups: Sequence[str] = (),
    libraries: Sequence[tuple[str, str]] = (),
) -> dict[str, bytes]:
    """Every entry of a generated OIC 3 project export (.car): project.yaml listing its assets,
    project/integrations/<CODE>_<VERSION>/, connections/<ID>.xml, lookups/<NAME>.dvm."""
    doc: dict[str, Any] = {"id": project_id or code, "code": code}
    if name is not None:
        doc["name"] = name
    if revision is not None:
        doc["projectRevision"] = revision
    doc["assets"] = {
        "integrations": [{"id": f"{c}|{v}", "name": c.title()} for c, v in integrations],
        "connections": [{"id": c, "name": c.title()} for c, _adapter in connections],
        "lookups": [{"id": n, "name": n} for n in lookups],
        "libraries": [{"id": f"{c}|{v}", "name": c} for c, v in libraries],
    }
    entries = {"project/project.yaml": yaml.safe_dump(doc, sort_keys=False).encode()}
    for int_code, int_version in integrations:
        entries.update(integration_files(int_code, int_version, int_code.title(),
                                         "project/integrations"))  # fmt: skip
    for conn_id, adapter in connections:
        entries[f"project/connections/{conn_id}.xml"] = _connection_xml(conn_id, adapter)
    for lookup in lookups:
        entries[f"project/lookups/{lookup}.dvm"] = _dvm(lookup)
    for lib_code, lib_version in libraries:
        entries[f"project/libraries/{lib_code}_{lib_version}/library.json"] = b"{}\n"
    return entries


def make_project(
    dest: Path,
    code: str = "SALES",
    *,
    as_car: bool = False,
    file_name: str | None = None,
    extra: Mapping[str, bytes] | None = None,
    **content: Any,
) -> Path:
    """A generated project in folder `dest` (returned): a project/ tree, or with `as_car` one
    `<CODE>.car` (or `file_name`). `content`: see project_entries."""
    entries = {**project_entries(code, **content), **(extra or {})}
    return _write_source(dest, entries, (file_name or f"{code}.car") if as_car else None)


# -- running a build --------------------------------------------------------------------------


def build_cli(
    source: Path | str,
    *extra: str,
    out: Path | str = "out",
    server: Any = None,
    auth: str = "oauth",
    json: bool = True,
) -> int:
    """Build `source` into `out` through the CLI: offline (manage-connections false) unless
    `server` (an OIC stand-in) is given, with --json unless asked not to; `extra` flags last,
    so they win."""
    from standin_fixtures import server_args

    args = ["--integration-path", str(source), "--artifact-dir", str(out)]
    args += server_args(server, auth) if server is not None else ["--manage-connections", "false"]
    return run_cli(*args, *(["--json"] if json else []), *extra)


@pytest.fixture
def build() -> Callable[..., int]:
    """`build(source, *flags, out=, server=, auth=, json=)`: see build_cli."""
    return build_cli


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def one_error(err: str) -> str:
    """The one `error:` line of a log that has exactly one, and no traceback."""
    errors = error_lines(err)
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def refuse_build(src: Path, capsys: pytest.CaptureFixture[str], *named: str, code: int = 1) -> str:
    """Build `src` offline into a sibling art/ and expect a refusal: exit `code`, one error line
    naming each of `named`, no traceback, the source untouched and no artifact folder (not even
    a hidden staging one). That error line."""
    before, art = tree_digest(src), src.parent / "art"
    rc = run_cli(
        "--integration-path", str(src), "--artifact-dir", str(art), "--manage-connections", "false"
    )
    error = one_error(capsys.readouterr().err)
    assert rc == code, error
    assert all(n in error for n in named), error
    assert tree_digest(src) == before
    assert not art.exists(), list(art.rglob("*"))
    return error


def damage_entry(archive: Path, name: str) -> Path:
    """Flip one byte inside entry `name`'s compressed data (past its local header), so its CRC
    no longer matches."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        offset = zf.getinfo(name).header_offset
    name_len, extra_len = struct.unpack("<HH", data[offset + 26 : offset + 30])
    data[offset + 30 + name_len + extra_len + 5] ^= 0xFF
    archive.write_bytes(bytes(data))
    return archive


# -- git ---------------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
_GIT_CONFIG = ("-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main")


def git(repo: Path, *args: str) -> str:
    """The git CLI in `repo` (an identity and a default branch of its own); its output."""
    done = subprocess.run(
        ["git", *_GIT_CONFIG, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()
