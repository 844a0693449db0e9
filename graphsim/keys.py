"""TLS certificates (own CA via trustme) and RSA signing keys, persisted in the state dir."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64u(number: int) -> str:
    return b64u(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class SigningKey:
    def __init__(self, path: Path, name: str):
        pem_path = path / f"{name}.key.pem"
        if pem_path.exists():
            self.key = serialization.load_pem_private_key(pem_path.read_bytes(), None)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            tmp = pem_path.with_suffix(".tmp")
            tmp.write_bytes(pem)
            os.chmod(tmp, 0o600)
            tmp.replace(pem_path)
        pub = self.key.public_key().public_numbers()
        self.kid = b64u(hashlib.sha256(str(pub.n).encode()).digest()[:15])
        self.jwk = {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _int_b64u(pub.n),
            "e": _int_b64u(pub.e),
        }


def ensure_tls(path: Path, extra_names=()) -> tuple[str, str, str]:
    """Returns (ca_pem_path, cert_chain_pem_path, key_pem_path); reused when present with the
    same host names (else a new CA and certificate are made)."""
    ca = path / "ca.pem"
    cert = path / "server.pem"
    key = path / "server.key"
    names_file = path / "server.names"
    names = ["127.0.0.1", "localhost", "::1"]
    for name in extra_names:
        if name and name not in names:
            names.append(name)
    wanted = "\n".join(names)
    if ca.exists() and cert.exists() and key.exists():
        have = names_file.read_text() if names_file.exists() else "\n".join(names[:3])
        if have == wanted:
            return str(ca), str(cert), str(key)
    authority = trustme.CA(organization_name="graphsim offline tenant")
    server = authority.issue_cert(*names)
    tmp = path / "ca.pem.tmp"
    authority.cert_pem.write_to_path(str(tmp))
    server.private_key_pem.write_to_path(str(key))
    os.chmod(key, 0o600)
    with open(cert, "wb") as chain:
        for blob in server.cert_chain_pems:
            chain.write(blob.bytes())
    tmp.replace(ca)
    names_file.write_text(wanted)
    return str(ca), str(cert), str(key)
