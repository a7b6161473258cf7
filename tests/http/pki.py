"""A throwaway PKI for TLS tests, made with the openssl CLI (`cryptography` is not installed).

Two certificate authorities (the right one and a wrong one), a server certificate signed by the
right one for `127.0.0.1`, `::1`, `localhost` and `shop.test`, and a client certificate for mutual
TLS. EC P-256 keys: each certificate takes a few milliseconds, not RSA's hundreds.
"""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_NAMES = "IP:127.0.0.1,IP:::1,DNS:localhost,DNS:shop.test"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd)


def _key(name: str, cwd: Path) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name, cwd=cwd)


def _ca(name: str, cwd: Path) -> None:
    _key(f"{name}.key", cwd)
    _openssl(
        "req", "-x509", "-new", "-key", f"{name}.key", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
        "-out", f"{name}.pem", cwd=cwd,
    )  # fmt: skip


def _leaf(name: str, ca: str, extensions: str, cwd: Path) -> None:
    _key(f"{name}.key", cwd)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr",
             cwd=cwd)  # fmt: skip
    (cwd / f"{name}.ext").write_text(extensions)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.pem",
        cwd=cwd,
    )  # fmt: skip


@dataclass(frozen=True)
class Pki:
    """Paths of every PEM file; `*_context` build the server side of each test."""

    root: Path

    @classmethod
    def create(cls, directory: Path) -> Pki:
        _ca("ca", directory)
        _ca("wrong-ca", directory)
        _leaf("server", "ca", f"subjectAltName={SERVER_NAMES}\nextendedKeyUsage=serverAuth\n",
              directory)  # fmt: skip
        _leaf("named", "ca", "subjectAltName=DNS:shop.test\nextendedKeyUsage=serverAuth\n",
              directory)  # fmt: skip
        _leaf("client", "ca", "extendedKeyUsage=clientAuth\n", directory)
        _leaf("stranger", "wrong-ca", "extendedKeyUsage=clientAuth\n", directory)
        return cls(directory)

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"

    @property
    def wrong_ca(self) -> Path:
        return self.root / "wrong-ca.pem"

    @property
    def client_cert(self) -> Path:
        return self.root / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.root / "client.key"

    def server_context(
        self,
        require_client_cert: bool = False,
        leaf: str = "server",
        names: list[str | None] | None = None,
    ) -> ssl.SSLContext:
        """The server's side; with `require_client_cert`, only clients the CA signed get in.

        `leaf="named"` serves a certificate for `shop.test` only; `names` receives the server
        name (SNI) each client sent (None when it sent none)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.root / f"{leaf}.pem", self.root / f"{leaf}.key")
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        if names is not None:
            seen = names

            def note(_sock: object, name: str | None, _context: object) -> None:
                seen.append(name)

            context.sni_callback = note
        return context
