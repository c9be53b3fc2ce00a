"""Bad project sources: one clear line naming the file, exit 1, the source untouched and no
artifact folder; as tests/test_bad_input.py does for integrations."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    EXAMPLE,
    damage_entry,
    make_project,
    one_error,
    project_entries,
    refuse_build,
    run_cli,
    write_zip,
)

YAML = "project/project.yaml"

# A billion laughs in YAML: 9 levels of 9 aliases stand for 9**9 strings in a 1 KB file.
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _tree(src: Path) -> Path:
    return make_project(src, lookups=["Country_Codes"])


def _car(path: Path, replace: dict[str, bytes | None] | None = None) -> Path:
    """A generated .car with some entries replaced (None: dropped) or added."""
    entries = {**project_entries(), **(replace or {})}
    return write_zip(path, {name: data for name, data in entries.items() if data is not None})


def _par(path: Path) -> Path:
    """A package archive (.par), as oracle-livelabs ships one: not a source."""
    return write_zip(path, {"SALES_PACKAGE.zip": b"PK"})


def _yaml(text: str) -> Callable[[Path], None]:
    def make(src: Path) -> None:
        _tree(src)
        (src / YAML).write_text(text)

    return make


def _yaml_bytes(data: bytes) -> Callable[[Path], None]:
    def make(src: Path) -> None:
        _tree(src)
        (src / YAML).write_bytes(data)

    return make


def _missing_yaml(src: Path) -> None:
    _tree(src)
    (src / YAML).unlink()


def _missing_yaml_in_car(src: Path) -> None:
    _car(src / "P.car", {YAML: None})


def _bomb_in_car(src: Path) -> None:
    _car(src / "P.car", {YAML: ALIAS_BOMB.encode()})


def _escaping_car(src: Path) -> None:
    _car(src / "P.car", {"project/../../evil.sh": b"echo pwned"})


def _absolute_car(src: Path) -> None:
    _car(src / "P.car", {"/etc/evil": b"x"})


def _crc_damage(src: Path) -> None:
    damage_entry(_car(src / "P.car"), YAML)


def _not_a_project(src: Path) -> None:
    src.mkdir()
    with zipfile.ZipFile(src / "P.car", "w") as zf:
        zf.writestr("icspackage/appinstances/X.xml", "<x/>")


def _par_in_folder(src: Path) -> None:
    _par(src / "oic.ocw.hol.par")


def _integration_and_project(src: Path) -> None:
    shutil.copytree(EXAMPLE, src)
    _car(src / "P.car")


def _two_cars(src: Path) -> None:
    _car(src / "A.car")
    _car(src / "B.car")


def _escaping_symlink(src: Path) -> None:
    _tree(src)
    (src / "project/lookups/stolen.dvm").symlink_to("/etc/hostname")


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (make source, text the error must contain, file it must name)
    "missing project.yaml": (_missing_yaml, "no project/project.yaml", "src"),
    "missing project.yaml in car": (_missing_yaml_in_car, "no project/project.yaml", "P.car"),
    "broken yaml": (_yaml("code: [SALES\nname: x\n"), "not valid YAML", YAML),
    "yaml not a mapping": (_yaml("- a\n- b\n"), "expected a mapping", YAML),
    "yaml without code": (_yaml("id: X\nname: y\n"), "no 'code'", YAML),
    "bad project code": (_yaml("code: ../EVIL\n"), "characters OIC does not allow", YAML),
    "bad assets": (_yaml("code: X\nassets:\n  integrations: [1]\n"), "no string 'id'", YAML),
    "yaml alias bomb": (_yaml(ALIAS_BOMB), "anchor &a at line 1 is not allowed", YAML),
    "yaml alias bomb in car": (_bomb_in_car, "anchor &a", "P.car/project/project.yaml"),
    "yaml recursive alias": (_yaml("code: &a [*a]\n"), "anchor &a", YAML),
    "yaml alias": (_yaml("code: X\nname: *n\n"), "alias *n at line 2 is not allowed", YAML),
    "yaml not utf-8": (_yaml_bytes(b"code: X\nname: caf\xe9\n"), "not UTF-8 (at byte 17)", YAML),
    "yaml nested too deeply": (_yaml("code: " + "[" * 50_000 + "]" * 50_000), "deeply", YAML),
    "yaml too large": (_yaml("code: X\n" + "#" * (5 << 20)), "limit for YAML", YAML),
    "bad revision": (_yaml("code: X\nprojectRevision: many\n"), "is not a number", YAML),
    "yaml python tag": (_yaml("code: !!python/object/apply:os.system [id]\n"), "tag", YAML),
    "yaml custom tag": (_yaml("code: !ref X\n"), "explicit tag '!ref'", YAML),
    "escaping entry": (_escaping_car, "escapes the archive root", "P.car"),
    "absolute entry": (_absolute_car, "absolute path", "P.car"),
    "crc damage": (_crc_damage, "corrupt", "P.car"),
    "car without project/": (_not_a_project, "no entry under project/", "P.car"),
    "par in folder": (_par_in_folder, "(.par) is not supported", "oic.ocw.hol.par"),
    "integration and project": (
        _integration_and_project,
        "holds both an integration source (icspackage/) and a project source (P.car)",
        "src",
    ),
    "two car": (_two_cars, "several .car files", "A.car, B.car"),
    "symlink outside": (_escaping_symlink, "symlink points outside", "stolen.dvm"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_project_source(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, text, names = CASES[case]
    make(tmp_path / "src")
    refuse_build(tmp_path / "src", capsys, text, names)


def test_par_file_given_directly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    par = _par(tmp_path / "oic.ocw.hol.par")
    assert run_cli("--integration-path", str(par), "--artifact-dir", str(tmp_path / "a")) == 1
    error = one_error(capsys.readouterr().err)
    assert f"{par}: an OIC package archive (.par) is not supported" in error


def test_neither_lists_everything_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    assert run_cli("--integration-path", str(tmp_path / "src")) == 1
    err = capsys.readouterr().err
    for looked in ("*.iar file", "icspackage/ folder", "*.car file", "project/ folder"):
        assert looked in err
