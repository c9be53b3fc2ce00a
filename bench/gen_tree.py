"""Generate the packaging benchmark tree: a seeded, synthetic icspackage/ of 2,000 files / ~50 MB.

Same seed, same bytes: the benchmark compares runs and machines on an identical input.

Mix (by default; counts exact, bytes scaled to the total):
  XML family  1,324 files ~62% of bytes: WSDL, XSD, XSL maps, stateinfo/flow XML, JCA, DVM
              lookups, appinstances -- realistic OIC-style markup, compresses to ~10-25%
  JSON          300 files ~14%: PROJECT-INF-style layout/analysis documents, compresses to ~25-35%
  properties     16 files  <1%: ics_project_attributes-style key=value text
  binaries      360 files ~23%: random bytes named .jar/.png/.zip/.pdf (already compressed,
              incompressible: a good writer stores them)
Sizes are log-normal per kind (most files a few KB, a few of a few MB), as in real exports.

Usage: python bench/gen_tree.py DEST   (creates DEST/icspackage, prints a summary)
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

SEED = 20_240_601
N_FILES = 2000
TOTAL_BYTES = 50_000_000
CODE, VERSION = "BENCH", "01.00.0000"
NS_PROJECT = "http://www.oracle.com/2014/03/ics/project"
NS_PROJECT_DEF = "http://www.oracle.com/2014/03/ics/project/definition"
NS_FLOW = "http://www.oracle.com/2014/03/ics/flow/definition"

# kind -> (file count, share of bytes, log-normal sigma)
MIX: dict[str, tuple[int, float, float]] = {
    "wsdl": (230, 0.14, 1.0),
    "xsd": (260, 0.14, 1.1),
    "xsl": (200, 0.14, 1.0),
    "xml": (363, 0.12, 1.0),
    "jca": (230, 0.04, 0.6),
    "dvm": (20, 0.02, 0.8),
    "appinstance": (20, 0.004, 0.3),
    "project": (1, 0.001, 0.0),
    "json": (300, 0.14, 1.0),
    "properties": (16, 0.003, 0.4),
    "binary": (360, 0.23, 1.2),
}
BINARY_EXTS = (".jar", ".png", ".zip", ".pdf", ".gif")
MIN_SIZE, MAX_SIZE = 300, 4_000_000

_WORDS_TEXT = (
    "Purchase Order Line Schedule Distribution Supplier Site Invoice Header Amount Currency Code "
    "Business Unit Requester Buyer Item Category Description Quantity Unit Price Tax Rate "
    "Account Ledger Period Journal Batch Status Approval Date Created Updated By Identifier "
    "Number Name Type Address Country City Postal State Contact Email Phone Payment Terms "
    "Shipment Receipt Warehouse Location Organization Project Task Expenditure Contract Party "
    "Customer Account Transaction Source Reference External Attribute Flexfield Context Segment "
    "Employee Assignment Department Job Grade Position Legal Entity Bank Branch Transfer Event "
    "Response Request Fault Detail Message Result Error Severity Instance Tracking Lookup Value"
)
WORDS = _WORDS_TEXT.split()


def _ident(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(1, parts + 1)))


def _value(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.25:
        return str(rng.randint(0, 10 ** rng.randint(1, 9)))
    if pick < 0.4:
        return f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if pick < 0.5:
        return rng.randbytes(8).hex()
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def _fill(head: str, tail: str, size: int, block: Callable[[], str]) -> bytes:
    """Repeat `block()` between head and tail until the document reaches about `size` bytes."""
    parts, n = [head], len(head) + len(tail)
    while n < size:
        piece = block()
        parts.append(piece)
        n += len(piece)
    parts.append(tail)
    return "".join(parts).encode()


def _xsd_elements(rng: random.Random, prefix: str = "xsd") -> str:
    name = _ident(rng)
    rows = "".join(
        f'\n            <{prefix}:element name="{_ident(rng)}" type="{prefix}:'
        f'{rng.choice(("string", "decimal", "dateTime", "long", "boolean"))}" minOccurs="0"'
        f"{' maxOccurs=' + chr(34) + 'unbounded' + chr(34) if rng.random() < 0.2 else ''}/>"
        for _ in range(rng.randint(3, 14))
    )
    doc = (
        f"\n      <{prefix}:annotation><{prefix}:documentation>{_value(rng)} {_value(rng)}"
        f"</{prefix}:documentation></{prefix}:annotation>"
        if rng.random() < 0.3
        else ""
    )
    return (
        f'\n   <{prefix}:complexType name="{name}Type">{doc}\n      <{prefix}:sequence>{rows}'
        f"\n      </{prefix}:sequence>\n   </{prefix}:complexType>"
        f'\n   <{prefix}:element name="{name}" type="tns:{name}Type"/>'
    )


def gen_xsd(rng: random.Random, size: int, name: str) -> bytes:
    tns = f"http://xmlns.oracle.com/cloud/adapter/REST/{name}/types"
    head = (
        "<?xml version = '1.0' encoding = 'UTF-8'?>\n"
        f'<xsd:schema targetNamespace="{tns}" xmlns:tns="{tns}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">'
    )
    return _fill(head, "\n</xsd:schema>\n", size, lambda: _xsd_elements(rng))


def gen_wsdl(rng: random.Random, size: int, name: str) -> bytes:
    tns = f"http://xmlns.oracle.com/cloud/adapter/REST/{name}"
    head = (
        "<?xml version = '1.0' encoding = 'UTF-8'?>\n"
        f'<wsdl:definitions name="{name}" targetNamespace="{tns}" xmlns:tns="{tns}" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:plnk="http://docs.oasis-open.org/wsbpel/2.0/plnktype">\n'
        f'   <plnk:partnerLinkType name="{name}_plt"><plnk:role name="{name}_role">'
        f'<plnk:portType name="tns:{name}_ptt"/></plnk:role></plnk:partnerLinkType>\n'
        f'   <wsdl:types>\n<xsd:schema targetNamespace="{tns}/types" '
        'elementFormDefault="qualified">'
    )

    def block() -> str:
        if rng.random() < 0.8:
            return _xsd_elements(rng)
        op = _ident(rng)
        return (
            f'\n   <wsdl:message name="{op}_msg"><wsdl:part name="body" element="tns:{op}"/>'
            f'</wsdl:message>\n   <wsdl:portType name="{op}_ptt"><wsdl:operation name="{op}">'
            f'<wsdl:input message="tns:{op}_msg"/></wsdl:operation></wsdl:portType>'
        )

    return _fill(head, "\n</xsd:schema>\n   </wsdl:types>\n</wsdl:definitions>\n", size, block)


def gen_xsl(rng: random.Random, size: int, name: str) -> bytes:
    head = (
        "<?xml version = '1.0' encoding = 'UTF-8'?>\n"
        "<!--User Editing Not Allowed for Sections: oracle-xsl-mapper:schema, top level "
        "xsl:params, version attribute of the stylesheet element. GENERATED BY OIC MAPPER, DO "
        'NOT DELETE THIS LINE--><xsl:stylesheet version="2.0" xml:id="id_1" '
        'xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        'xmlns:oracle-xsl-mapper="http://www.oracle.com/xsl/mapper/schemas" '
        f'xmlns:nssrcmpr="http://xmlns.oracle.com/cloud/adapter/appevent/{name}_REQUEST/types" '
        f'xmlns:nstrgmpr="http://xmlns.oracle.com/cloud/adapter/REST/{name}_REQUEST/types">\n'
        '   <xsl:template match="/" xml:id="id_11">\n      <nstrgmpr:execute xml:id="id_12">'
    )
    counter = [12]

    def block() -> str:
        counter[0] += 2
        i = counter[0]
        src = "/".join(f"nssrcmpr:{_ident(rng)}" for _ in range(rng.randint(2, 5)))
        tgt = _ident(rng)
        if rng.random() < 0.15:
            return (
                f'\n         <xsl:for-each select="/nssrcmpr:execute/{src}" xml:id="id_{i}">'
                f'\n            <nstrgmpr:{tgt} xml:id="id_{i + 1}"><xsl:value-of select='
                f"\"concat(nssrcmpr:{_ident(rng)}, '-', nssrcmpr:{_ident(rng)})\"/>"
                f"</nstrgmpr:{tgt}>\n         </xsl:for-each>"
            )
        return (
            f'\n         <nstrgmpr:{tgt} xml:id="id_{i}">\n            <xsl:value-of '
            f'select="/nssrcmpr:execute/{src}" xml:id="id_{i + 1}"/>\n'
            f"         </nstrgmpr:{tgt}>"
        )

    tail = "\n      </nstrgmpr:execute>\n   </xsl:template>\n</xsl:stylesheet>\n"
    return _fill(head, tail, size, block)


def gen_xml(rng: random.Random, size: int, name: str) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<stateInfo xmlns="{NS_FLOW}" name="{name}">'
    )

    def block() -> str:
        props = "".join(
            f'\n      <property name="{_ident(rng)}" value="{_value(rng)}"/>'
            for _ in range(rng.randint(1, 6))
        )
        return (
            f'\n   <variable name="{_ident(rng)}" type="{rng.choice(("message", "element"))}" '
            f'location="../resources/{_ident(rng)}.xsd">{props}\n   </variable>'
        )

    return _fill(head, "\n</stateInfo>\n", size, block)


def gen_jca(rng: random.Random, size: int, name: str) -> bytes:
    head = (
        f'<adapter-config name="{name}" adapter="rest" '
        'xmlns="http://platform.integration.oracle/blocks/adapter/fw/metadata">\n'
        '  <connection-factory location="" adapterRef=""/>\n'
        '  <endpoint-interaction portType="execute_ptt" operation="execute">\n'
        '    <interaction-spec className="oracle.cloud.connector.rest.RestInteractionSpec">'
    )

    def block() -> str:
        return f'\n      <property name="{_ident(rng)}" value="{_value(rng)}"/>'

    tail = "\n    </interaction-spec>\n  </endpoint-interaction>\n</adapter-config>\n"
    return _fill(head, tail, size, block)


def gen_dvm(rng: random.Random, size: int, name: str) -> bytes:
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<dvm name="{name}" '
        'xmlns="http://xmlns.oracle.com/dvm">\n  <columns><column name="SOURCE"/>'
        '<column name="TARGET"/></columns>\n  <rows>'
    )

    def block() -> str:
        return f"\n    <row><cell>{_value(rng)}</cell><cell>{_value(rng)}</cell></row>"

    return _fill(head, "\n  </rows>\n</dvm>\n", size, block)


def gen_appinstance(rng: random.Random, size: int, name: str) -> bytes:
    head = (
        "<?xml version = '1.0' encoding = 'UTF-8'?>\n"
        '<ns2:ApplicationInstance xmlns:ns2="http://xmlns.oracle.com/adapters/cloud">'
        f"  <id>{rng.randbytes(16).hex()}</id>  <instanceCode>{name}</instanceCode>"
        f"  <displayName>{name.replace('_', ' ').title()}</displayName>"
        f"  <applicationTypeRef>{rng.choice(('rest', 'erp', 'ftp', 'soap'))}</applicationTypeRef>"
        "  <connectionProperties>"
    )

    def block() -> str:
        return (
            f"    <connectionProperty>      <name>{_ident(rng)}</name>      <value>"
            f"{_value(rng)}</value>    </connectionProperty>"
        )

    tail = "  </connectionProperties></ns2:ApplicationInstance>\n"
    return _fill(head, tail, size, block)


def gen_project(rng: random.Random, size: int, name: str) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns3:icsproject name="project_1" '
        f'version="9.1" modelType="freeform" xmlns="{NS_FLOW}" xmlns:ns2="{NS_PROJECT_DEF}" '
        f'xmlns:ns3="{NS_PROJECT}">    <ns2:projectCode>{CODE}</ns2:projectCode>'
        f"    <ns2:projectVersion>{VERSION}</ns2:projectVersion>"
        "    <ns2:projectName>Packaging Benchmark</ns2:projectName>"
        '    <ns3:icsflow name="flow_1">'
    )

    def block() -> str:
        return (
            f'        <application name="application_{rng.randint(1, 999)}"><role>source</role>'
            f"<adapter><type>app-adapter</type><code>{_ident(rng).upper()}</code></adapter>"
            "</application>"
        )

    return _fill(head, "    </ns3:icsflow></ns3:icsproject>\n", size, block)


def gen_json(rng: random.Random, size: int, name: str) -> bytes:
    head = f'{{"name": "{name}", "version": "{VERSION}", "nodes": ['

    def block() -> str:
        props = ", ".join(f'"{_ident(rng, 1)}": "{_value(rng)}"' for _ in range(rng.randint(1, 5)))
        return (
            f'\n  {{"id": "{rng.randbytes(4).hex()}", "type": "{_ident(rng, 1)}", '
            f'"x": {rng.randint(0, 2000)}, "y": {rng.randint(0, 2000)}, '
            f'"properties": {{{props}}}}},'
        )

    return _fill(head, '\n  {"id": "end"}\n]}\n', size, block)


def gen_properties(rng: random.Random, size: int, name: str) -> bytes:
    return _fill(
        f"#{name}\n", "", size, lambda: f"{_ident(rng).lower()}.{_ident(rng, 1)}={_value(rng)}\n"
    )


GENERATORS = {
    "wsdl": gen_wsdl,
    "xsd": gen_xsd,
    "xsl": gen_xsl,
    "xml": gen_xml,
    "jca": gen_jca,
    "dvm": gen_dvm,
    "appinstance": gen_appinstance,
    "project": gen_project,
    "json": gen_json,
    "properties": gen_properties,
}


def _sizes(rng: random.Random, count: int, budget: int, sigma: float) -> list[int]:
    """`count` log-normal sizes scaled to add up to about `budget`, within sane bounds."""
    raw = [rng.lognormvariate(0.0, sigma) for _ in range(count)]
    scale = budget / sum(raw)
    return [max(MIN_SIZE, min(MAX_SIZE, round(r * scale))) for r in raw]


def plan(
    seed: int = SEED, files: int = N_FILES, total: int = TOTAL_BYTES
) -> list[tuple[str, str, int]]:
    """(relative path under icspackage/, kind, size) for every file, decided by the seed alone."""
    rng = random.Random(seed)
    base_count = sum(c for c, _, _ in MIX.values())
    base_share = sum(s for _, s, _ in MIX.values())
    out: list[tuple[str, str, int]] = []
    proj = f"project/{CODE}_{VERSION}"
    group = 0
    for kind, (count, share, sigma) in MIX.items():
        n = count if kind == "project" else max(1, round(count * files / base_count))
        for i, size in enumerate(_sizes(rng, n, round(total * share / base_share), sigma)):
            if i % 8 == 0:
                group += 1
            app = f"application_{group}/{rng.choice(('inbound', 'outbound'))}_{group + 1}"
            rg = f"resourcegroup_{group + 2}"
            if kind == "project":
                rel = f"{proj}/PROJECT-INF/project.xml"
            elif kind == "appinstance":
                rel = f"appinstances/CONN_{i:03d}.xml"
            elif kind == "dvm":
                rel = f"dvms/LOOKUP_{i:03d}.dvm"
            elif kind == "properties":
                rel = f"{proj}/resources/settings_{i:03d}/ics_project_attributes.properties"
            elif kind == "xsl":
                rel = f"{proj}/resources/processor_{group}/{rg}/req_{rng.randbytes(16).hex()}.xsl"
            elif kind == "xml":
                rel = f"{proj}/resources/processor_{group}/{rg}/{_ident(rng)}_{i:04d}_stateinfo.xml"
            elif kind == "json":
                rel = f"{proj}/resources/layout_{group}/{_ident(rng)}_{i:04d}.json"
            elif kind == "binary":
                ext = BINARY_EXTS[i % len(BINARY_EXTS)]
                rel = f"{proj}/resources/attachments_{group}/{_ident(rng)}_{i:04d}{ext}"
            else:
                rel = f"{proj}/resources/{app}/{rg}/{_ident(rng)}_{i:04d}.{kind}"
            out.append((rel, kind, size))
    return out


def generate(dest: Path, seed: int = SEED, files: int = N_FILES, total: int = TOTAL_BYTES) -> Path:
    """Write the tree under dest/icspackage and return that folder."""
    root = dest / "icspackage"
    for index, (rel, kind, size) in enumerate(plan(seed, files, total)):
        rng = random.Random(seed * 1_000_003 + index)  # per file: independent of the others
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        stem = Path(rel).stem
        name = stem.upper() if kind == "appinstance" else stem
        data = rng.randbytes(size) if kind == "binary" else GENERATORS[kind](rng, size, name)
        path.write_bytes(data)
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--files", type=int, default=N_FILES)
    ap.add_argument("--bytes", type=int, default=TOTAL_BYTES)
    args = ap.parse_args(argv)
    root = generate(args.dest, args.seed, args.files, args.bytes)
    kinds: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for path in root.rglob("*"):
        if path.is_file():
            kinds[path.suffix] += 1
            sizes[path.suffix] += path.stat().st_size
    total = sum(sizes.values())
    print(f"{root}: {sum(kinds.values())} files, {total / 1e6:.1f} MB")
    for ext in sorted(kinds, key=lambda e: -sizes[e]):
        print(f"  {ext:12} {kinds[ext]:5} files {sizes[ext] / 1e6:7.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
