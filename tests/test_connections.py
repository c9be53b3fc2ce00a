"""Normalising connections: one key style, no volatile fields, no secret values."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from oicaction.oic.connection_model import (
    VOLATILE,
    canonical_key,
    is_secret_name,
    is_secret_property,
    normalise_connection,
    strip_secrets,
)

JOSE = "josekurian__OIC-DeploymentScripts"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----"
DEVREL = "oracle-devrel__technology-engineering"


def load(api: Path, name: str) -> dict:
    return json.loads((api / name).read_text(encoding="utf-8"))


def test_gen3_body_loses_volatile_fields_and_masked_secrets(oic_api_dir: Path) -> None:
    body = load(oic_api_dir, f"{DEVREL}/POB_OICTOOPA_INVOKE.connection.oic3.abridged.json")
    clean = normalise_connection(body, "POB_OICTOOPA_INVOKE")
    data = clean.data
    assert not VOLATILE & set(data)
    assert "securityPolicyInfo" not in data and "links" not in data
    assert data["adapterType"] == {"name": "rest", "displayName": "REST", "type": "PREINSTALLED"}
    assert all("acceptableKeys" not in p for p in data["connectionProperties"])
    values = {p["propertyName"]: p.get("propertyValue") for p in data["securityProperties"]}
    assert values["password"] == "" and values["oauth.client.secret"] == ""
    assert values["username"] == "peter.obert+local@oracle.com"  # not secret: kept
    assert values["oauth.access.token.uri"].startswith("https://idcs-")
    assert set(clean.secrets_removed) == {"oauth.client.secret", "password"}
    assert "*****" not in json.dumps(data)


def test_only_real_changes_change_the_saved_connection(oic_api_dir: Path) -> None:
    body = load(oic_api_dir, f"{DEVREL}/POB_OICTOOPA_INVOKE.connection.oic3.abridged.json")
    later = copy.deepcopy(body)
    later.update(
        lastUpdated="2026-01-01T00:00:00.000+0000",
        lastRefreshedDate="2026-01-01T00:00:00.000+0000",
        lockedFlag=True,
        lockedBy="someone@example.com",
        usage=9,
        usageActive=3,
        status="INPROGRESS",
        testStatus=True,
        percentageComplete=50,
    )
    later["securityPolicyInfo"] = later["securityPolicyInfo"][:1]
    assert normalise_connection(later, "X").data == normalise_connection(body, "X").data
    later["connectionProperties"][2]["propertyValue"] = "https://other.example.com/api"
    assert normalise_connection(later, "X").data != normalise_connection(body, "X").data


def test_gen2_recorded_body_kept(oic_api_dir: Path) -> None:
    body = load(oic_api_dir, f"{JOSE}/RESTCOUNTRIESEU.connection.gen2.json")
    data = normalise_connection(body, "RESTCOUNTRIESEU").data
    url = [p for p in data["connectionProperties"] if p["propertyName"] == "connectionUrl"]
    assert url[0]["propertyValue"] == "https://restcountries.eu/rest/v2/"
    assert "lastRefreshedDate" not in data and data["role"] == "TARGET"


def test_legacy_ics_shape_accepted(oic_api_dir: Path) -> None:
    body = load(oic_api_dir, f"{JOSE}/PDHCLOUD.connection.icsapis-v1.json")
    clean = normalise_connection(body, "PDHCLOUD")
    data = clean.data
    assert data["id"] == "PDHCLOUD" and "code" not in data
    assert [p["propertyName"] for p in data["connectionProperties"]] == [
        "targetWSDLURL",
        "interfaceCatalogURL",
    ]
    assert [p["propertyName"] for p in data["securityProperties"]] == ["username", "password"]
    assert data["adapterType"] == {
        "name": "erp",
        "displayName": "Oracle ERP Cloud",
        "type": "PREINSTALLED",
    }
    assert "imageURL" not in data


def test_kebab_case_bodies_normalised() -> None:
    body = {
        "id": "K",
        "connection-properties": [
            {"property-name": "connectionUrl", "display-name": "URL", "property-value": "https://x"}
        ],
        "security-properties": [
            {"property-name": "password", "property-type": "PASSWORD", "property-value": "s3cr3t"}
        ],
        "last-updated": "2025-01-01",
    }
    clean = normalise_connection(body, "K")
    assert clean.data == {
        "id": "K",
        "connectionProperties": [
            {"propertyName": "connectionUrl", "displayName": "URL", "propertyValue": "https://x"}
        ],
        "securityProperties": [
            {"propertyName": "password", "propertyType": "PASSWORD", "propertyValue": ""}
        ],
    }
    assert canonical_key("connectionproperties") == "connectionProperties"


def test_secret_values_sent_in_clear_are_removed() -> None:
    body = {
        "id": "S",
        "securityProperties": [
            {"propertyName": "password", "propertyType": "PASSWORD", "propertyValue": "hunter2"},
            {"propertyName": "apiKey", "propertyType": "STRING", "propertyValue": "k-123"},
            {"propertyName": "pk", "propertyType": "STRING", "propertyValue": PEM},
            {"propertyName": "oauth.access.token.uri", "propertyType": "STRING",
             "propertyValue": "https://idcs.example.com/oauth2/v1/token"},
        ],
    }  # fmt: skip
    clean = normalise_connection(body, "S")
    values = [p["propertyValue"] for p in clean.data["securityProperties"]]
    assert values == ["", "", "", "https://idcs.example.com/oauth2/v1/token"]
    assert clean.secrets_removed == ("password", "apiKey", "pk")


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "keystorePassword",
        "oauth.client.secret",
        "Client Secret",
        "privateKey",
        "Private Key",
        "x-api-key",
        "APIKey",
        "refresh_token",
        "Access Token",
        "sasToken",
        "passphrase",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "username",
        "oauth.access.token.uri",
        "Access Token URI",
        "Client Id",
        "sslCertificateAlias",
        "Identity keystore alias name (Optional)",
        "Password Type",
        "Connection URL",
        "Client Authentication",
        "oauth.scope",
    ],
)
def test_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)


def test_secret_by_type_whatever_the_name() -> None:
    assert is_secret_property({"propertyName": "x", "propertyType": "PASSWORD"})
    assert is_secret_property({"propertyName": "x", "propertyType": "PRIVATE_KEY"})
    assert not is_secret_property({"propertyName": "x", "propertyType": "URL"})


def test_scrub_keeps_shape(oic_api_dir: Path) -> None:
    body = load(oic_api_dir, f"{DEVREL}/POB_OICTOOPA_INVOKE.connection.oic3.abridged.json")
    body["securityProperties"][6]["propertyValue"] = "clear-text-password"
    scrubbed = strip_secrets(body)[0]
    assert "clear-text-password" not in json.dumps(scrubbed)
    assert scrubbed["lastUpdated"] == body["lastUpdated"]  # only secrets change
    assert len(scrubbed["securityPolicyInfo"]) == len(body["securityPolicyInfo"])
