"""Real exports by others (../shared/fixtures/real, see its SOURCES.md): what we read from them
must match what their authors' OIC wrote, and repackaging must preserve every entry."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from conftest import REAL, zip_contents

from oicaction.source.find import read_source
from oicaction.source.package import write_archive
from oicaction.source.tree import SourceTree

# code, version, connections (instanceCode:applicationTypeRef) as SOURCES.md records them.
EXPECTED = {
    "OracleCPS__aiconlineshopping/ONLINE_SHOPPING_APP_FULFILLM_01.00.0000.iar": (
        "ONLINE_SHOPPING_APP_FULFILLM",
        "01.00.0000",
        {"ONLINE_SHOPPING_FULFILLMEN:rest"},
    ),
    "GaryHostt__Fusion_PurchaseOrder_Integration/ERP_CLOUD_CREATE_ORDER_01.00.0000.iar": (
        "ERP_CLOUD_CREATE_ORDER",
        "01.00.0000",
        {"REST_INTERFACE:rest", "LIVE_ERPCLOUD:erp"},
    ),
    "GaryHostt__beginner_ERP_OIC/REST_ERP_CREATE_ACCOUNT_01.00.0000.iar": (
        "REST_ERP_CREATE_ACCOUNT",
        "01.00.0000",
        {"ALLPURPOSERESTTRIGGER:rest", "ZKBT_DEV:erp"},
    ),
    "GaryHostt__beginner_ERP_OIC/REST_ERP_GETPROJECT_01.00.0000.iar": (
        "REST_ERP_GETPROJECT",
        "01.00.0000",
        {"DC_LOCAL_REST:rest", "FUSION_ERP_ZKBT:erp"},
    ),
    "GaryHostt__Oracle_Integration/OIC_LOG_COLLE_FTP_UNZIP_6_01.00.0000.iar": (
        "OIC_LOG_COLLE_FTP_UNZIP_6",
        "01.00.0000",
        {"POC_OIC_SPLUNK:rest", "OIC_FILE_SERVER:ftp", "REST_OBJECT_STORAGE_CONN:rest"},
    ),
    "oracle-livelabs__oic/JITSIEVENTS_01.00.0000.iar": (
        "JITSIEVENTS",
        "01.00.0000",
        {"RESTTEK:rest", "JITSIERP:erp"},
    ),
    "oracle-livelabs__oic/SUBSCIRB_PO_DETAILS_SYNC_01.00.0000.iar": (
        "SUBSCIRB_PO_DETAILS_SYNC",
        "01.00.0000",
        {"APPLICATION_EVENT_CONNECTION:appevent", "VISUAL_BUILDER:rest"},
    ),
    "oracle-livelabs__oic/LL_ERPPO_BACKEND_B2B_02.00.0000.iar": (
        "LL_ERPPO_BACKEND_B2B",
        "02.00.0000",
        {
            "ERP_CLOUD:erp",
            "APPLICATION_EVENT_CONNECTION:appevent",
            "PRESEEDED_B2B_TRANSLATOR_CONN_1851:bbtranslationadapter",
            "PRESEEDED_COLLOCATED_CONN_1741:collocatedics",
        },
    ),
    "bhagavansprasad__iar-lens/INT03.00.0001.iar": (
        "INT303_INVENTOR_EI_RECONCIL",
        "03.00.0001",
        {
            "ALTERA_EI_FTP:ftp",
            "ALTERA_DB:atpdatabase",
            "PRESEEDED_COLLOCATED_CONN_1741:collocatedics",
        },
    ),
    "bhagavansprasad__iar-lens/INT03.00.0011.iar": (
        "INT303_INVENTOR_EI_RECONCIL",
        "03.00.0011",
        {"ALTERA_EI_FTP:ftp", "ALTERA_DB:atpdatabase"},
    ),
}


def test_metadata_matches_sources(real_dir: Path) -> None:
    for rel, (code, version, conns) in EXPECTED.items():
        meta = read_source(real_dir / rel, verify=True).meta
        assert (meta.code, meta.version, meta.id) == (code, version, f"{code}|{version}"), rel
        assert {f"{c.code}:{c.adapter}" for c in meta.connections} == conns, rel
        assert meta.name, rel


def test_lookups_schedule_and_names(real_dir: Path) -> None:
    meta = read_source(real_dir / "bhagavansprasad__iar-lens/INT03.00.0001.iar", verify=True).meta
    assert meta.lookups == ("INTEGRATIONS_COMMON_DETAILS_LKP",)
    assert meta.has_schedule is True
    assert meta.name == "INT303_INVENTORY_EI_RECONCILIATION"
    meta = read_source(
        real_dir / "GaryHostt__Oracle_Integration/OIC_LOG_COLLE_FTP_UNZIP_6_01.00.0000.iar",
        verify=True,
    ).meta
    assert meta.lookups == () and meta.has_schedule is False  # scheduled, but no schedule/


def _unzip(iar: Path, dest: Path) -> Path:
    with zipfile.ZipFile(iar) as zf:
        zf.extractall(dest)
    return dest / "icspackage"


def test_unzip_repackage_round_trip(real_dir: Path, tmp_path: Path) -> None:
    for n, rel in enumerate(sorted(EXPECTED)):
        tree = SourceTree(_unzip(real_dir / rel, tmp_path / f"src{n}"))
        a, b = tmp_path / f"{n}a.iar", tmp_path / f"{n}b.iar"
        write_archive(tree.entries, a)
        write_archive(tree.entries, b)
        assert zip_contents(a) == zip_contents(real_dir / rel), rel
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
        unzipped = read_source(tree.root, verify=True).meta
        assert unzipped == read_source(a, verify=True).meta, rel


def test_repackage_independent_of_mtime_and_order(real_dir: Path, tmp_path: Path) -> None:
    """Same content, other mtimes and creation order: same bytes ('every machine')."""
    rel = "bhagavansprasad__iar-lens/INT03.00.0011.iar"
    first = SourceTree(_unzip(real_dir / rel, tmp_path / "one"))
    write_archive(first.entries, tmp_path / "one.iar")
    contents = zip_contents(real_dir / rel)
    other = tmp_path / "two"
    for name in reversed(sorted(contents)):
        path = other / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[name])
        path.chmod(0o600)
    write_archive(SourceTree(other / "icspackage").entries, tmp_path / "two.iar")
    assert (tmp_path / "one.iar").read_bytes() == (tmp_path / "two.iar").read_bytes()
    with zipfile.ZipFile(tmp_path / "two.iar") as zf:
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert not info.filename.startswith("/") and "\\" not in info.filename


def test_unzipped_fixture_builds_like_its_archive(real_dir: Path) -> None:
    """The real exploded tree packs to the same entries as the .iar it came from."""
    base = real_dir / "oracle-livelabs__oic"
    tree = SourceTree(base / "SUBSCIRB_PO_DETAILS_SYNC_01.00.0000.iar.unzipped" / "icspackage")
    assert tree.entry_names == sorted(
        zip_contents(base / "SUBSCIRB_PO_DETAILS_SYNC_01.00.0000.iar")
    )


def test_renamed_archive_file_still_reads(real_dir: Path) -> None:
    """INT03.00.0001.iar is not named CODE_VERSION: identity comes from the content."""
    assert REAL.is_dir()
    meta = read_source(real_dir / "bhagavansprasad__iar-lens/INT03.00.0001.iar", verify=True).meta
    assert meta.slug == "INT303_INVENTOR_EI_RECONCIL_03.00.0001"
