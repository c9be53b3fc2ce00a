"""A connection's own secrets are never shipped (issue 18, item 8).

Key material uploaded to a connection (a private key, a PKCS#12, JKS or JCEKS keystore) is
recognised by its content whatever the property is called (`clientCertificate` with the key
beside the certificate), and listed as to be supplied at deployment; properties a user reads as
secret (`Ocp-Apim-Subscription-Key`, `api-key`, `x-auth-token`) are blanked by name. Keys and
keystores are made here with `cryptography` (a dependency of trustme), as real tools write them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from oicaction.oic.connection_model import is_key_material, is_secret_name, strip_secrets

CA = trustme.CA()
CERT = CA.issue_cert("oic.example.com")
CERT_PEM = CERT.cert_chain_pems[0].bytes()
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
NO_PASSWORD = serialization.NoEncryption()
SPKI, PKCS1_PUBLIC = (
    serialization.PublicFormat.SubjectPublicKeyInfo,
    serialization.PublicFormat.PKCS1,
)


def _pkcs12() -> bytes:
    cert = x509.load_pem_x509_certificate(CERT_PEM)
    key = serialization.load_pem_private_key(CERT.private_key_pem.bytes(), None)
    return pkcs12.serialize_key_and_certificates(
        b"oic", key, cert, None, serialization.BestAvailableEncryption(b"changeit")
    )


def _csr() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oic")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name)
    return request.sign(RSA, hashes.SHA256()).public_bytes(DER)


KEYS = {
    "PEM PKCS#8": RSA.private_bytes(PEM, PKCS8, NO_PASSWORD),
    "PEM RSA (PKCS#1)": RSA.private_bytes(
        PEM, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD
    ),
    "PEM encrypted": RSA.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"pw")),
    "PEM EC": EC.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD),
    "OpenSSH": EC.private_bytes(PEM, serialization.PrivateFormat.OpenSSH, NO_PASSWORD),
    "certificate then its key": CERT_PEM + CERT.private_key_pem.bytes(),
    "DER PKCS#8": RSA.private_bytes(DER, PKCS8, NO_PASSWORD),
    "DER RSA (PKCS#1)": RSA.private_bytes(
        DER, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD
    ),
    "DER EC": EC.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD),
    "PKCS#12 (.p12/.pfx)": _pkcs12(),
    # Java's keystores begin with their magic number, then the format version.
    "JKS": b"\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00\x00\x01" + b"\x00" * 64,
    "JCEKS": b"\xce\xce\xce\xce\x00\x00\x00\x02\x00\x00\x00\x01" + b"\x00" * 64,
}
NOT_KEYS = {
    "PEM certificate": CERT_PEM,
    "DER certificate": x509.load_pem_x509_certificate(CERT_PEM).public_bytes(DER),
    "PEM public key": RSA.public_key().public_bytes(PEM, SPKI),
    "DER public key": RSA.public_key().public_bytes(DER, SPKI),
    "DER RSA public key (PKCS#1)": RSA.public_key().public_bytes(DER, PKCS1_PUBLIC),
    "DER certificate request": _csr(),
    "WSDL": b'<?xml version="1.0"?>\n<definitions name="Countries"/>\n',
    "CSV starting with 0": b"0,zero\n1,one\n",
    "text shaped like a DER header": b"0,\x02\x01\x00\n",
    "empty": b"",
}  # fmt: skip


@pytest.mark.parametrize("data", KEYS.values(), ids=KEYS.keys())
def test_key_material_is_recognised_by_content(data: bytes) -> None:
    assert is_key_material(data)


@pytest.mark.parametrize("data", NOT_KEYS.values(), ids=NOT_KEYS.keys())
def test_certificates_and_documents_are_not_key_material(data: bytes) -> None:
    assert not is_key_material(data)


SECRET_NAMES = [
    "Ocp-Apim-Subscription-Key",
    "api-key",
    "x-auth-token",
    "x-functions-key",
    "SharedAccessKey",
    "Subscription Key",
    "Authorization",
    "connectionString",
    "Client Key",
    "encryptionKey",
]
NOT_SECRET_NAMES = [
    "Partition Key",
    "Public Key",
    "Routing Key",
    "Key Alias",
    "Subscription Key Header",
    "Authorization Server",
    "clientCertificate",
    "x-auth-token-url",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_names_a_user_reads_as_secret(name: str) -> None:
    assert is_secret_name(name)
    shapes = [
        {"securityProperties": [{"propertyName": name, "propertyValue": "LEAK"}]},
        {"headers": [{"name": name, "value": "LEAK"}]},
        {"headers": {name: "LEAK"}},
    ]
    for body in shapes:
        stripped, removed = strip_secrets(body)
        assert "LEAK" not in json.dumps(stripped) and removed, body


@pytest.mark.parametrize("name", NOT_SECRET_NAMES)
def test_names_that_describe_a_secret_or_none(name: str) -> None:
    assert not is_secret_name(name)


def _with_certificate(standin, data: bytes) -> None:
    body = json.loads(json.dumps(standin.state.connections["RESTCOUNTRIESEU"]))
    body["securityProperties"] = [
        {"displayName": "Client Certificate", "propertyName": "clientCertificate",
         "propertyType": "FILE", "propertyValue": "client.pem", "hasAttachment": True},
    ]  # fmt: skip
    standin.add_connection("RESTCOUNTRIESEU", body)
    standin.add_attachment("RESTCOUNTRIESEU", "clientCertificate", data)


@pytest.mark.usefixtures("oic_fast_http")
def test_private_key_attachment_is_to_be_supplied(
    build, country_info, oic_fixture_standin, capsys
) -> None:
    """`clientCertificate` holding the certificate and its private key: it was shipped."""
    _with_certificate(oic_fixture_standin, KEYS["certificate then its key"])
    assert build(country_info, server=oic_fixture_standin) == 0
    err = capsys.readouterr().err
    assert (
        "warning: attachment clientCertificate of connection RESTCOUNTRIESEU holds a secret" in err
    )
    artifact = Path("out/COUNTRY_INFO_01.00.0000")
    index = json.loads((artifact / "connections.json").read_text())
    supply = {"connection": "RESTCOUNTRIESEU", "property": "clientCertificate"}
    assert index["attachments_to_supply"] == [supply] and index["attachments"] == []
    everything = b"".join(p.read_bytes() for p in artifact.rglob("*") if p.is_file())
    assert b"PRIVATE KEY" not in everything and b"BEGIN CERTIFICATE" not in everything


@pytest.mark.usefixtures("oic_fast_http")
def test_certificate_alone_is_shipped(build, country_info, oic_fixture_standin) -> None:
    _with_certificate(oic_fixture_standin, CERT_PEM)
    assert build(country_info, server=oic_fixture_standin) == 0
    saved = Path("out/COUNTRY_INFO_01.00.0000/connections/RESTCOUNTRIESEU/attachments")
    assert (saved / "clientCertificate").read_bytes() == CERT_PEM
