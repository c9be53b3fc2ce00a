"""Files we ship are never edited, and our own records stay true (issue 18, item 3).

A lookup, an attachment or the committed plan reaches the artifact byte for byte as OIC or the
repository holds it; one that holds a secret of the run stops the build, naming the file and
line, never the value. A short or common secret (`oracle`, a one-letter client secret) is not
hunted in files or records at all, so it can neither fail an honest build nor corrupt what we
write.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import one_error
from oic_standin import CLIENT_ID, CLIENT_SECRET, PASSWORD, SCOPE, USERNAME
from standin_fixtures import add_lookup

pytestmark = pytest.mark.usefixtures("oic_fast_http")

ARTIFACT = Path("out/COUNTRY_INFO_01.00.0000")
LOOKUPS_ONLY = ("--manage-connections", "false", "--manage-lookups", "true")
ONLINE = ("--manage-connections", "true")  # with credentials of the test's own


def written(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_refused(err: str, what: str, line: int, secret: str) -> None:
    assert f"{what}: line {line} holds one of this run's secrets" in one_error(err)
    assert secret not in err and secret[:8] not in err
    assert not Path("out").exists() or list(Path("out").iterdir()) == []


def test_lookup_holding_a_secret_fails_naming_it(
    build, tree_source, oic_fixture_standin, capsys
) -> None:
    add_lookup(tree_source, "CREDENTIALS")
    csv = b"DVM,CREDENTIALS\nenv,secret\nprod," + CLIENT_SECRET.encode() + b"\n"
    oic_fixture_standin.add_lookup("CREDENTIALS", csv)
    code = build(tree_source, *LOOKUPS_ONLY, server=oic_fixture_standin)
    assert code == 1
    what = f"lookup CREDENTIALS on {oic_fixture_standin.url}"
    assert_refused(capsys.readouterr().err, what, 3, CLIENT_SECRET)


def test_attachment_holding_a_secret_fails_naming_it(
    build, country_info, oic_fixture_standin, capsys
) -> None:
    body = json.loads(json.dumps(oic_fixture_standin.state.connections["RESTCOUNTRIESEU"]))
    body["connectionProperties"].append(
        {"displayName": "WSDL URL", "propertyName": "targetWSDLURL", "propertyType": "URL_OR_FILE",
         "propertyValue": "countries.wsdl", "hasAttachment": True}
    )  # fmt: skip
    oic_fixture_standin.add_connection("RESTCOUNTRIESEU", body)
    leaky = b"<definitions>\n<!-- pw " + PASSWORD.encode() + b" -->\n</definitions>\n"
    oic_fixture_standin.add_attachment("RESTCOUNTRIESEU", "targetWSDLURL", leaky)
    code = build(country_info, server=oic_fixture_standin, auth="basic")
    assert code == 1
    assert_refused(
        capsys.readouterr().err,
        "attachment targetWSDLURL of connection RESTCOUNTRIESEU",
        2,
        PASSWORD,
    )


def test_lookup_shaped_like_a_credential_is_shipped_unchanged(
    build, tree_source, oic_fixture_standin, capsys
) -> None:
    """`Basic Plan-2024` looks like an Authorization header to the log's redaction; in a lookup
    it is data, shipped as OIC holds it (it was shipped as `Basic ***`)."""
    add_lookup(tree_source, "PLANS")
    csv = b'DVM,PLANS\ntier,name\nB,Basic Plan-2024\nP,"Bearer Token99 bundle"\n'
    oic_fixture_standin.add_lookup("PLANS", csv)
    code = build(tree_source, *LOOKUPS_ONLY, server=oic_fixture_standin)
    assert code == 0, capsys.readouterr().err
    assert (ARTIFACT / "lookups/PLANS.csv").read_bytes() == csv


def test_short_common_password_fails_nothing_and_changes_nothing(
    build, tree_source, oic_fixture_standin, capsys
) -> None:
    """Password `oracle`: `oraclecloud` in a connection URL, `admin@oracle.com`, a lookup and
    the committed plan all reach the artifact as they were (they became `***cloud`)."""
    standin = oic_fixture_standin
    standin.state.password = "oracle"
    body = json.loads(json.dumps(standin.state.connections["RESTCOUNTRIESEU"]))
    url = "https://restcountries.oraclecloud.com/rest/v2/"
    [prop] = [p for p in body["connectionProperties"] if p["propertyName"] == "connectionUrl"]
    prop["propertyValue"] = url
    body["adminEmail"] = "admin@oracle.com"
    standin.add_connection("RESTCOUNTRIESEU", body)
    add_lookup(tree_source, "HOSTS")
    csv = b"DVM,HOSTS\nenv,host\nprod,oraclecloud.com\nuser,oracle\n"
    standin.add_lookup("HOSTS", csv)
    plan = tree_source / "connectionPlan.properties"
    plan.write_bytes(f"RESTCOUNTRIESEU.connection.Connection URL={url}\n".encode())
    login = ("--oic-url", standin.url, "--username", USERNAME, "--password", "oracle")
    code = build(tree_source, *ONLINE, *login)
    assert code == 0, capsys.readouterr().err
    files = written(ARTIFACT)
    assert files["lookups/HOSTS.csv"] == csv
    assert files["connectionPlan.properties"] == plan.read_bytes()
    saved = json.loads(files["connections/RESTCOUNTRIESEU/connection.json"])
    assert url in [p["propertyValue"] for p in saved["connectionProperties"]]
    assert saved["adminEmail"] == "admin@oracle.com"
    assert not any(b"***" in data for data in files.values())


def test_one_letter_client_secret_leaves_records_valid_and_true(
    build, country_info, oic_fixture_standin, capsys
) -> None:
    """A client secret `b` turned every `b` in build-info.json into `***` (`"***uilt_at"`)."""
    standin = oic_fixture_standin
    standin.state.client_secret = "b"
    code = build(
        country_info, *ONLINE, "--oic-url", standin.url, "--token-url", standin.token_url,
        "--scope", SCOPE, "--client-id", CLIENT_ID, "--client-secret", "b",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    files = written(ARTIFACT)
    info = json.loads(files["build-info.json"])
    assert "built_at" in info and info["exported"]["lookups"] == []
    assert not any(b"***" in data for data in files.values())
    iar = files["COUNTRY_INFO_01.00.0000.iar"]
    assert info["iar"]["sha256"] == hashlib.sha256(iar).hexdigest()
    assert json.loads(captured.out)["artifact-dir"]  # --json stays valid JSON too
