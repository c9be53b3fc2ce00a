"""Make many integrations out of the real samples by giving copies new codes and versions."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

# Three real exports of different eras, the stock the factory copies from (under shared/real).
SAMPLES = [
    "GaryHostt__beginner_ERP_OIC/REST_ERP_CREATE_ACCOUNT_01.00.0000.iar",
    "oracle-livelabs__oic/SUBSCIRB_PO_DETAILS_SYNC_01.00.0000.iar",
    "OracleCPS__aiconlineshopping/ONLINE_SHOPPING_APP_FULFILLM_01.00.0000.iar",
]


def renamed_entries(iar: Path, code: str, version: str) -> dict[str, bytes]:
    """The sample's entries, with its project folder and project.xml saying code/version."""
    with zipfile.ZipFile(iar) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    old = next(n.split("/")[2] for n in entries if n.endswith("PROJECT-INF/project.xml"))
    out = {}
    for name, data in entries.items():
        new_name = name.replace(f"/project/{old}/", f"/project/{code}_{version}/")
        if name.endswith("PROJECT-INF/project.xml"):
            text = data.decode("utf-8")
            text = re.sub(r"(<(?:\w+:)?projectCode>)[^<]*", rf"\g<1>{code}", text, count=1)
            text = re.sub(r"(<(?:\w+:)?projectVersion>)[^<]*", rf"\g<1>{version}", text, count=1)
            data = text.encode("utf-8")
        out[new_name] = data
    return out


def make_integration(dest: Path, sample: Path, code: str, version: str, as_iar: bool) -> Path:
    """Write one integration source into folder dest, as an .iar or an icspackage/ tree."""
    entries = renamed_entries(sample, code, version)
    dest.mkdir(parents=True, exist_ok=True)
    if as_iar:
        with zipfile.ZipFile(dest / f"{code}_{version}.iar", "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in sorted(entries.items()):
                zf.writestr(name, data)
    else:
        for name, data in entries.items():
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return dest
