"""The .iar writer: a correct zip (CRCs, sizes, ZIP64, UTF-8 names) that any reader opens,
stored vs deflated chosen by content, and the same bytes on every run."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from conftest import zip_contents

from oicaction.errors import SourceError
from oicaction.source import package
from oicaction.source.package import FILE_MODE, FIXED_DATE, write_archive
from oicaction.source.tree import Entry, SourceTree

UNZIP = shutil.which("unzip")
RNG = random.Random(7)
TEXT = b"".join(
    b'<ns:element name="Field%d" type="xsd:string" minOccurs="0"/>\n' % RNG.randint(0, 999)
    for _ in range(4000)
)  # ~240 KB of XML-ish text
RANDOM_BIG = RNG.randbytes(300_000)  # incompressible, longer than SAMPLE_BYTES
RANDOM_SMALL = RNG.randbytes(3000)  # incompressible, shorter than SAMPLE_BYTES
NO_NUL_RANDOM = RNG.randbytes(200_000).replace(b"\0", b"\1")  # no sample skip; still won't shrink


def make_tree(base: Path, files: dict[str, bytes]) -> SourceTree:
    root = base / "icspackage"
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return SourceTree(root)


MIXED = {
    "project/X_01.00.0000/PROJECT-INF/project.xml": TEXT[:5000],
    "project/X_01.00.0000/resources/a/big.xsd": TEXT * 3,
    "project/X_01.00.0000/resources/a/lib.jar": RANDOM_BIG,
    "project/X_01.00.0000/resources/a/icon.png": RANDOM_SMALL,
    "project/X_01.00.0000/resources/a/noisy.bin": NO_NUL_RANDOM,
    "project/X_01.00.0000/resources/a/zeros.bin": bytes(100_000),
    "project/X_01.00.0000/resources/a/empty.txt": b"",
    "project/X_01.00.0000/resources/a/one.txt": b"x",
    "project/X_01.00.0000/resources/ünïcødé/résumé-日本.xml": TEXT[:3000],
    "appinstances/CONN.xml": b"<ApplicationInstance/>",
}


@pytest.fixture
def mixed(tmp_path: Path) -> SourceTree:
    return make_tree(tmp_path / "src", MIXED)


def expected(tree: SourceTree) -> dict[str, bytes]:
    return {e.name: e.path.read_bytes() for e in tree.entries}


def unzip_test(path: Path) -> None:
    if UNZIP is None:
        return  # zipfile checks still ran; Debian's unzip adds a second, independent reader
    done = subprocess.run([UNZIP, "-tq", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readable_with_every_crc_checked(mixed: SourceTree, tmp_path: Path) -> None:
    out = tmp_path / "out.iar"
    write_archive(mixed.entries, out)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == mixed.entry_names
        for info in zf.infolist():
            data = zf.read(info)
            assert zlib.crc32(data) == info.CRC
            assert info.file_size == len(data)
    assert zip_contents(out) == expected(mixed)
    unzip_test(out)


def test_stored_only_what_does_not_shrink(mixed: SourceTree, tmp_path: Path) -> None:
    out = tmp_path / "out.iar"
    write_archive(mixed.entries, out)
    with zipfile.ZipFile(out) as zf:
        method = {i.filename.rsplit("/", 1)[-1]: i.compress_type for i in zf.infolist()}
        sizes = {
            i.filename.rsplit("/", 1)[-1]: (i.compress_size, i.file_size) for i in zf.infolist()
        }
    assert method["lib.jar"] == zipfile.ZIP_STORED  # skipped on its sample
    assert method["icon.png"] == zipfile.ZIP_STORED  # deflated whole, did not shrink
    assert method["noisy.bin"] == zipfile.ZIP_STORED  # no NUL, so tried whole: did not shrink
    assert method["empty.txt"] == zipfile.ZIP_STORED
    assert method["one.txt"] == zipfile.ZIP_STORED
    assert method["big.xsd"] == zipfile.ZIP_DEFLATED
    assert method["zeros.bin"] == zipfile.ZIP_DEFLATED  # binary (NULs) but compressible
    assert method["résumé-日本.xml"] == zipfile.ZIP_DEFLATED
    for name, (csize, size) in sizes.items():
        assert csize <= size, name
    assert sizes["big.xsd"][0] < sizes["big.xsd"][1] // 5


@pytest.mark.parametrize("sample_bytes", [0, package.SAMPLE_BYTES, 1 << 40])
def test_same_bytes_every_run_and_whichever_path_a_file_takes(
    mixed: SourceTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_bytes: int
) -> None:
    """In memory or streamed (with the second pass for what grew), the choices agree."""
    reference = tmp_path / "reference.iar"
    write_archive(mixed.entries, reference)
    monkeypatch.setattr(package, "SAMPLE_BYTES", sample_bytes)
    for name in ("out.iar", "again.iar"):
        write_archive(mixed.entries, tmp_path / name)
        assert (tmp_path / name).read_bytes() == reference.read_bytes()


def test_non_ascii_names_are_utf8_flagged(mixed: SourceTree, tmp_path: Path) -> None:
    out = tmp_path / "out.iar"
    write_archive(mixed.entries, out)
    with zipfile.ZipFile(out) as zf:
        for info in zf.infolist():
            if info.filename.isascii():
                assert info.flag_bits & 0x800 == 0, info.filename
            else:
                assert info.flag_bits & 0x800, info.filename
                assert "résumé-日本.xml" in info.filename or "ünïcødé" in info.filename
    raw = out.read_bytes()
    assert "ünïcødé/résumé-日本.xml".encode() in raw


def test_fixed_date_mode_and_versions(mixed: SourceTree, tmp_path: Path) -> None:
    out = tmp_path / "out.iar"
    write_archive(mixed.entries, out)
    with zipfile.ZipFile(out) as zf:
        for info in zf.infolist():
            assert info.date_time == FIXED_DATE
            assert info.external_attr >> 16 == FILE_MODE
            assert info.create_system == 3
            assert (info.create_version, info.extract_version) == (20, 20)
            assert info.flag_bits & ~0x800 == 0  # no data descriptor, no encryption
            assert info.extra == b""


def test_empty_archive(tmp_path: Path) -> None:
    out = tmp_path / "empty.iar"
    write_archive([], out)
    with zipfile.ZipFile(out) as zf:
        assert zf.infolist() == []
    assert out.read_bytes() == b"PK\x05\x06" + bytes(18)


def test_unreadable_file_raises_source_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = make_tree(tmp_path / "src", {"a.xml": TEXT, "b.xml": TEXT})
    gone = tmp_path / "src" / "icspackage" / "gone.xml"
    entries = [*tree.entries, Entry("icspackage/gone.xml", gone, 10)]
    for sample_bytes in (package.SAMPLE_BYTES, 0):
        out = tmp_path / "out.iar"
        with pytest.raises(SourceError) as info:
            monkeypatch.setattr(package, "SAMPLE_BYTES", sample_bytes)
            write_archive(entries, out)
        assert str(info.value) == f"{gone}: unreadable (No such file or directory)"
        assert info.value.file == gone
        assert not out.exists()
    folder = tmp_path / "src" / "icspackage"
    with pytest.raises(SourceError, match="unreadable"):
        write_archive([Entry("icspackage/dir", folder, 10)], tmp_path / "out.iar")


def test_real_archives_repackage_with_every_entry(real_dir: Path, tmp_path: Path) -> None:
    """Every real export unzipped and packed again: same entries, same contents."""
    for n, iar in enumerate(sorted(real_dir.rglob("*.iar"))):
        src = tmp_path / f"src{n}"
        with zipfile.ZipFile(iar) as zf:
            zf.extractall(src)
        out = tmp_path / f"{n}.iar"
        write_archive(SourceTree(src / "icspackage").entries, out)
        with zipfile.ZipFile(out) as zf:
            assert zf.testzip() is None
        assert zip_contents(out) == zip_contents(iar), iar


@pytest.mark.skipif(
    os.environ.get("OIC_BUILD_SLOW_TESTS") != "1",
    reason="writes ~9 GB; set OIC_BUILD_SLOW_TESTS=1 to run",
)
def test_real_zip64_past_4_gib(tmp_path: Path) -> None:
    """A >4 GiB entry (stored: a repeated 1 MiB random block does not deflate) and an entry
    whose local header sits past 4 GiB, with the real limits."""
    block = random.Random(1).randbytes(1 << 20)
    big = tmp_path / "src" / "icspackage" / "big.bin"
    big.parent.mkdir(parents=True)
    with big.open("wb") as fh:
        for _ in range(4097 + 16):  # 4 GiB + 17 MiB
            fh.write(block)
    (big.parent / "tail.xml").write_bytes(TEXT)
    tree = SourceTree(big.parent)
    out = tmp_path / "huge.iar"
    write_archive(tree.entries, out)
    big.unlink()
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("icspackage/big.bin")
        assert info.file_size == (4097 + 16) << 20 and info.compress_type == zipfile.ZIP_STORED
        tail = zf.getinfo("icspackage/tail.xml")
        assert tail.header_offset > 1 << 32
        assert zf.read(tail) == TEXT
        assert zf.testzip() is None
    unzip_test(out)
