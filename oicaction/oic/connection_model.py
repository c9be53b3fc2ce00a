"""OIC's connection data model: a connection as the server returns it made into what the
artifact keeps (one key spelling, no volatile fields, no secret values: a secret property is
kept with its value blanked, even if the server sent it in clear), and the rules that tell a
secret property or attachment."""

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
VOLATILE = frozenset({
    "securityPolicyInfo", "links", "created", "createdBy", "createdDate", "lastUpdated",
    "lastUpdatedBy", "lastRefreshedDate", "refreshedStatus", "lockedBy", "lockedDate",
    "lockedFlag", "usage", "usageActive", "status", "testStatus", "percentageComplete",
    "metadataDownloadState", "imageURL",
})  # fmt: skip
# Per-property catalogue of allowed choices: adapter data, not connection data.
PROPERTY_VOLATILE = frozenset({"acceptableKeys", "links"})
PROPERTY_LISTS = ("connectionProperties", "securityProperties", "agentGroupProperties")
# Keys that name a property, and keys that hold its value, in any of the shapes seen: OIC's
# property objects and the generic `{name, value}` / `{key, value}` pairs.
_NAME_KEYS = ("propertyName", "displayName", "name", "key")
_VALUE_KEYS = ("propertyValue", "defaultPropertyValue", "value")

# Keys whose canonical spelling cannot be recovered from lower case alone (legacy ICS bodies).
_CANONICAL = {k.lower(): k for k in (
    "adapterType", "adminEmail", "agentGroupId", "agentRequired", "agentSupported",
    "connectionProperties", "securityProperties", "securityPolicy", "securityPolicyInfo",
    "displayName", "propertyName", "propertyValue", "propertyType", "propertyGroup",
    "propertyDescription", "propertyShortDesc", "defaultPropertyValue", "hasAttachment",
    "hiddenFlag", "requiredFlag", "lastUpdated", "lastUpdatedBy", "lastRefreshedDate",
    "createdBy", "lockedBy", "lockedDate", "lockedFlag", "percentageComplete", "testStatus",
    "usageActive", "imageURL", "privateEndpoint", "refreshedStatus",
)}  # fmt: skip

SECRET_TYPES = ("PASSWORD", "SECRET", "PRIVATE_KEY", "PRIVATEKEY", "TOKEN", "CREDENTIAL")
# Words that make a name secret; `authorization` and `cookie` name a header's value.
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "secret", "passphrase", "pin", "credential", "credentials",
    "authorization", "cookie",
})  # fmt: skip
# A key is a secret when a word says whose or what for (`Ocp-Apim-Subscription-Key`,
# `x-functions-key`, `SharedAccessKey`); `Partition Key`, `Public Key`, `Routing Key` are not.
_SECRET_KEYS = (
    "api", "access", "account", "app", "application", "auth", "client", "consumer", "encryption",
    "function", "functions", "hmac", "license", "master", "primary", "private", "secondary",
    "secret", "session", "shared", "signing", "subscription",
)  # fmt: skip
_SECRET_PHRASES = (
    *(f"{kind}key" for kind in _SECRET_KEYS),
    "connectionstring",  # Azure's, with its AccountKey or SharedAccessKey inside
    "accesstoken", "refreshtoken", "authtoken", "bearertoken", "sessiontoken", "sastoken",
    "clientsecret", "keystorepass",
)  # fmt: skip
# A name ending in one of these describes a secret (its URL, type, alias), it is not one.
_NOT_SECRET_ENDINGS = frozenset({
    "uri", "url", "endpoint", "type", "alias", "name", "id", "location", "path", "method",
    "policy", "format", "length", "expiry", "expiration", "mode", "scheme", "header", "scope",
    "required", "enabled", "flag", "hint", "label", "description", "desc", "server", "host",
    "port", "version", "domain",
})  # fmt: skip
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
        or words[-1] in ("token", "pass")
    )


def _is_private_key(value: object) -> bool:
    return isinstance(value, str) and "-----BEGIN" in value and "PRIVATE KEY" in value


def is_secret_property(prop: dict[str, Any]) -> bool:
    """Secret by type (PASSWORD and the like), by name, or by a value that is a private key."""
    ptype = str(prop.get("propertyType") or "").upper()
    return (
        any(t in ptype for t in SECRET_TYPES)
        or any(isinstance(prop.get(k), str) and is_secret_name(prop[k]) for k in _NAME_KEYS)
        or any(_is_private_key(prop.get(k)) for k in _VALUE_KEYS)
    )


def iter_properties(conn: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(list name, property) for every property a connection sets."""
    for list_name in PROPERTY_LISTS:
        for prop in conn.get(list_name) or ():
            if isinstance(prop, dict):
                yield list_name, prop


@dataclass(frozen=True)
class Attachment:
    """A file uploaded to a connection property; `to_supply`: a secret (keystore, key), never
    downloaded, to be supplied at deployment."""

    property: str
    to_supply: bool = False


@dataclass(frozen=True)
class CleanConnection:
    """A connection ready to save, the names of the properties whose values were removed, and
    its attachments."""

    id: str
    data: dict[str, Any]
    secrets_removed: tuple[str, ...]
    attachments: tuple[Attachment, ...] = ()


def is_true(value: Any) -> bool:
    """OIC's flags come as booleans or, from the legacy API, as "true"/"false" strings."""
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


# PEM private keys of any kind: PKCS#8, RSA, EC, DSA, ENCRYPTED, OPENSSH, PGP's key block.
_PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
_KEYSTORE_MAGIC = (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce")  # JKS, JCEKS


def _der_version(data: bytes) -> int | None:
    """The version a DER (or BER) structure opens with: SEQUENCE { INTEGER v, ... }. Private
    keys (PKCS#8 and PKCS#1: 0, EC and OneAsymmetricKey: 1) and PKCS#12 (3) open so;
    certificates, requests and public keys open with a SEQUENCE or a long INTEGER instead."""
    if len(data) < 5 or data[0] != 0x30 or data[1] > 0x84:
        return None
    size = data[1] & 0x7F if data[1] & 0x80 else 0  # long form length, or indefinite (0x80)
    at = 2 + size
    length = int.from_bytes(data[2:at]) if data[1] & 0x80 else data[1]
    if (size or data[1] != 0x80) and at + length > len(data):
        return None  # not one whole structure: text that happens to start with "0"
    return data[at + 2] if data[at : at + 2] == b"\x02\x01" and len(data) > at + 2 else None


def is_key_material(data: bytes) -> bool:
    """A file that is a private key or a keystore, judged by its content whatever the
    property it came with (`clientCertificate` holding a certificate and its key, say): never
    shipped, to be supplied at deployment."""
    return (
        data.startswith(_KEYSTORE_MAGIC)
        or _der_version(data) in (0, 1, 3)
        or _PEM_PRIVATE_KEY.search(data) is not None
    )


def attachments(conn: dict[str, Any]) -> tuple[Attachment, ...]:
    """The files uploaded to properties (`hasAttachment: true`); secret ones marked to supply."""
    return tuple(
        Attachment(prop["propertyName"], to_supply=is_secret_attachment(prop))
        for _list, prop in iter_properties(conn)
        if is_true(prop.get("hasAttachment")) and isinstance(prop.get("propertyName"), str)
    )


def _adapter(value: Any) -> Any:
    """Keep what identifies the adapter; drop icons, vendor text and the legacy catalogues."""
    if not isinstance(value, dict):
        return value
    kept = {
        "name": value.get("name") or value.get("appTypeName"),
        "displayName": value.get("displayName"),
        "type": kind if (kind := value.get("type")) is not None else value.get("source") or None,
    }
    return {k: v for k, v in kept.items() if v is not None}


def normalise_connection(body: dict[str, Any], conn_id: str) -> CleanConnection:
    """Canonical keys, no volatile fields, no secret values, its attachments listed."""
    data = _canonical(body)
    if "id" not in data and "code" in data:  # legacy ICS
        data["id"] = data.pop("code")
    data.setdefault("id", conn_id)
    data = {k: v for k, v in data.items() if k not in VOLATILE}
    if "adapterType" in data:
        data["adapterType"] = _adapter(data["adapterType"])
    for list_name in PROPERTY_LISTS:
        if isinstance(data.get(list_name), list):
            data[list_name] = [
                {k: v for k, v in p.items() if k not in PROPERTY_VOLATILE}
                if isinstance(p, dict)
                else p
                for p in data[list_name]
            ]
    data, removed = strip_secrets(data)
    return CleanConnection(str(data["id"]), data, removed, attachments(data))


def strip_secrets(body: Any) -> tuple[Any, tuple[str, ...]]:
    """Blank every secret value in a JSON body of any shape, keeping the shape, and name what
    was blanked: the value of a secret property object (by type, name, or a private key in it),
    everything under a key that names a secret (`password`, `clientSecret`, `apiKey`, anywhere),
    any string that is a private key. Strings and numbers become "", booleans and nulls stay."""
    removed: dict[str, None] = {}

    def blank(value: Any, name: str) -> Any:
        if isinstance(value, dict):
            return {k: blank(v, name) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v, name) for v in value]
        if isinstance(value, bool) or value is None or value == "":
            return value
        if isinstance(value, str | int | float):
            removed[name] = None
            return ""
        return value

    def walk(value: Any, name: str) -> Any:
        if isinstance(value, list):
            return [walk(v, name) for v in value]
        if _is_private_key(value):
            return blank(value, name)
        if not isinstance(value, dict):
            return value
        prop = {canonical_key(str(k)): v for k, v in value.items()}
        secret = any(k in prop for k in _VALUE_KEYS) and is_secret_property(prop)
        label = next((str(prop[k]) for k in _NAME_KEYS if isinstance(prop.get(k), str)), "?")
        out = {}
        for key, item in value.items():
            if secret and canonical_key(str(key)) in _VALUE_KEYS:
                out[key] = blank(item, label)
            elif is_secret_name(str(key)):
                out[key] = blank(item, str(key))
            else:
                out[key] = walk(item, str(key))
        return out

    return walk(body, "?"), tuple(removed)
