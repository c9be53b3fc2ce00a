"""Make a connection as the server returns it into what the artifact keeps.

One shape whatever the server (camelCase; Gen3 kebab-case and the legacy ICS lower-case keys are
mapped), no volatile fields (timestamps, locks, usage counts, status, the hundreds of entries of
`securityPolicyInfo`) so a saved connection changes only when the connection does, and no secret
values: a secret property is kept, its value blanked, even if the server sent it in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Connections OIC itself creates and manages (real Gen3 archives list PRESEEDED_COLLOCATED_CONN_*,
# PRESEEDED_B2B_TRANSLATOR_CONN_* and APPLICATION_EVENT_CONNECTION): never the user's to deploy,
# often not returned by the API, never in a plan.
OIC_MANAGED = re.compile(r"^(PRESEEDED_[A-Z0-9_]+|APPLICATION_EVENT_CONNECTION)$")


def is_oic_managed(conn_id: str) -> bool:
    return bool(OIC_MANAGED.match(conn_id))


# Top-level fields that change without the connection changing, or are derived catalogues.
VOLATILE = frozenset(
    {
        "securityPolicyInfo",
        "links",
        "created",
        "createdBy",
        "createdDate",
        "lastUpdated",
        "lastUpdatedBy",
        "lastRefreshedDate",
        "refreshedStatus",
        "lockedBy",
        "lockedDate",
        "lockedFlag",
        "usage",
        "usageActive",
        "status",
        "testStatus",
        "percentageComplete",
        "metadataDownloadState",
        "imageURL",
    }
)
# Per-property catalogue of allowed choices: adapter data, not connection data.
PROPERTY_VOLATILE = frozenset({"acceptableKeys", "links"})
PROPERTY_LISTS = ("connectionProperties", "securityProperties", "agentGroupProperties")
VALUE_KEYS = ("propertyValue", "defaultPropertyValue")

# Keys whose canonical spelling cannot be recovered from lower case alone (legacy ICS bodies).
_KNOWN_KEYS = (
    "adapterType",
    "adminEmail",
    "agentGroupId",
    "agentRequired",
    "agentSupported",
    "connectionProperties",
    "securityProperties",
    "securityPolicy",
    "securityPolicyInfo",
    "displayName",
    "propertyName",
    "propertyValue",
    "propertyType",
    "propertyGroup",
    "propertyDescription",
    "propertyShortDesc",
    "defaultPropertyValue",
    "hasAttachment",
    "hiddenFlag",
    "requiredFlag",
    "lastUpdated",
    "lastUpdatedBy",
    "lastRefreshedDate",
    "createdBy",
    "lockedBy",
    "lockedDate",
    "lockedFlag",
    "percentageComplete",
    "testStatus",
    "usageActive",
    "imageURL",
    "privateEndpoint",
    "refreshedStatus",
)
_CANONICAL = {k.lower(): k for k in _KNOWN_KEYS}

SECRET_TYPES = ("PASSWORD", "SECRET", "PRIVATE_KEY", "PRIVATEKEY", "TOKEN", "CREDENTIAL")
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "passphrase", "pin"})
_SECRET_PHRASES = (
    "privatekey",
    "apikey",
    "secretkey",
    "accountkey",
    "sharedkey",
    "signingkey",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "bearertoken",
    "sessiontoken",
    "sastoken",
    "clientsecret",
    "keystorepass",
)
# A name ending in one of these describes a secret (its URL, type, alias), it is not one.
_NOT_SECRET_ENDINGS = frozenset(
    {
        "uri",
        "url",
        "endpoint",
        "type",
        "alias",
        "name",
        "id",
        "location",
        "path",
        "method",
        "policy",
        "format",
        "length",
        "expiry",
        "expiration",
        "mode",
        "scheme",
        "header",
        "scope",
    }
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def canonical_key(key: str) -> str:
    """`connection-properties`, `connectionproperties` -> `connectionProperties`."""
    if "-" in key:
        head, *rest = key.split("-")
        key = head + "".join(w[:1].upper() + w[1:] for w in rest)
    return _CANONICAL.get(key.lower(), key)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {canonical_key(str(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """Judge a property by its name or display name alone."""
    words = _words(name)
    if not words or words[-1] in _NOT_SECRET_ENDINGS:
        return False
    joined = "".join(words)
    return (
        bool(_SECRET_WORDS.intersection(words))
        or any(p in joined for p in _SECRET_PHRASES)
        or words[-1] == "token"
    )


def is_secret_property(prop: dict[str, Any]) -> bool:
    """Secret by type (PASSWORD and the like), by name, or by a value that is a private key."""
    ptype = str(prop.get("propertyType") or "").upper()
    if any(t in ptype for t in SECRET_TYPES):
        return True
    for key in ("propertyName", "displayName"):
        if isinstance(prop.get(key), str) and is_secret_name(prop[key]):
            return True
    value = prop.get("propertyValue")
    return isinstance(value, str) and "PRIVATE KEY" in value and "-----BEGIN" in value


def iter_properties(conn: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(list name, property) for every property a connection sets."""
    for list_name in PROPERTY_LISTS:
        for prop in conn.get(list_name) or ():
            if isinstance(prop, dict):
                yield list_name, prop


@dataclass(frozen=True)
class Attachment:
    """A file uploaded to a connection property. `data` None: not exported, because the
    property is a secret (`to_supply`) or the server has no file for it (404)."""

    property: str
    data: bytes | None
    to_supply: bool = False


@dataclass(frozen=True)
class CleanConnection:
    """A connection ready to save, the names of the properties whose values were removed, and
    its attachments."""

    id: str
    data: dict[str, Any]
    secrets_removed: tuple[str, ...]
    attachments: tuple[Attachment, ...] = ()


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


_SECRET_FILE_WORDS = frozenset({"keystore", "wallet", "jks", "pkcs12", "p12", "pfx", "key"})


def is_secret_attachment(prop: dict[str, Any]) -> bool:
    """A file that holds a secret: a secret property, or a keystore, wallet or (private) key;
    WSDLs, schemas and certificates are not."""
    if is_secret_property(prop):
        return True
    for key in ("propertyName", "displayName"):
        words = _words(str(prop.get(key) or ""))
        if _SECRET_FILE_WORDS.intersection(words) or "keystore" in "".join(words):
            return True
    return False


def attachment_properties(conn: dict[str, Any]) -> list[dict[str, Any]]:
    """Properties that carry an uploaded file (`hasAttachment: true`)."""
    return [
        prop
        for _list, prop in iter_properties(conn)
        if _flag(prop.get("hasAttachment")) and isinstance(prop.get("propertyName"), str)
    ]


def _adapter(value: Any) -> Any:
    """Keep what identifies the adapter; drop icons, vendor text and the legacy catalogues."""
    if not isinstance(value, dict):
        return value
    name = value.get("name") or value.get("appTypeName")
    kept = {"name": name, "displayName": value.get("displayName"), "type": value.get("type")}
    if kept["type"] is None and value.get("source"):
        kept["type"] = value["source"]
    return {k: v for k, v in kept.items() if v is not None}


def normalise_connection(body: dict[str, Any], conn_id: str) -> CleanConnection:
    """Canonical keys, no volatile fields, no secret values; keys sorted by the writer."""
    data = _canonical(body)
    if "id" not in data and "code" in data:  # legacy ICS
        data["id"] = data.pop("code")
    data.setdefault("id", conn_id)
    data = {k: v for k, v in data.items() if k not in VOLATILE}
    if "adapterType" in data:
        data["adapterType"] = _adapter(data["adapterType"])
    removed: list[str] = []
    for list_name in PROPERTY_LISTS:
        props = data.get(list_name)
        if not isinstance(props, list):
            continue
        cleaned = []
        for prop in props:
            if isinstance(prop, dict):
                prop = {k: v for k, v in prop.items() if k not in PROPERTY_VOLATILE}
                if is_secret_property(prop):
                    for key in VALUE_KEYS:
                        if prop.get(key) not in (None, ""):
                            prop[key] = ""
                            name = prop.get("propertyName") or prop.get("displayName") or "?"
                            if name not in removed:
                                removed.append(str(name))
            cleaned.append(prop)
        data[list_name] = cleaned
    return CleanConnection(str(data["id"]), data, tuple(removed))


def scrub_secret_values(body: Any) -> Any:
    """Blank secret property values anywhere in a JSON body, keeping its shape (for cassettes)."""
    if isinstance(body, dict):
        out = {k: scrub_secret_values(v) for k, v in body.items()}
        if ("propertyName" in out or "displayName" in out) and is_secret_property(_canonical(out)):
            for key in list(out):
                if canonical_key(key) in VALUE_KEYS and out[key] not in (None, ""):
                    out[key] = ""
        return out
    if isinstance(body, list):
        return [scrub_secret_values(v) for v in body]
    return body
