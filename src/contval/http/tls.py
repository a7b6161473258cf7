"""TLS settings of one origin, and the one place their `ssl.SSLContext` is built.

A context is built once per origin per client (never per request or per connection). The
settings hold PEM *contents*, not paths: a suite's certificate files are read where the suite
is loaded and shipped to workers with it, so a worker never reads files that may not exist
where it runs.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """How to speak TLS to one origin.

    `verify=False` accepts any certificate and any name. `ca_pem` replaces the system trust
    store with these roots (as `curl --cacert` does). `cert_pem`/`key_pem` are the client
    certificate for mutual TLS (`key_pem` None: the key is in `cert_pem`). `server_name` is
    sent as SNI and checked against the certificate instead of the URL's host; the Host
    header keeps the URL's host.
    """

    verify: bool = True
    ca_pem: str | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    server_name: str | None = None

    def context(self) -> ssl.SSLContext:
        """A new client context; raises `ssl.SSLError`/`ValueError` for unusable PEM data."""
        if self.verify:
            if self.ca_pem is not None:
                context = ssl.create_default_context(cadata=self.ca_pem)
            else:
                context = ssl.create_default_context()
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_pem is not None:
            load_client_cert(context, self.cert_pem, self.key_pem)
        context.set_alpn_protocols(["http/1.1"])
        return context


def load_client_cert(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes | None) -> None:
    """`load_cert_chain` from memory: Python's ssl reads only files, so the PEM goes through a
    private temporary directory (mode 0700, files 0600) that is removed at once."""
    with tempfile.TemporaryDirectory(prefix="contval-tls-") as directory:
        cert_path = _private_file(Path(directory) / "cert.pem", cert_pem)
        key_path = None if key_pem is None else _private_file(Path(directory) / "key.pem", key_pem)
        context.load_cert_chain(cert_path, key_path)


def _private_file(path: Path, data: bytes) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return str(path)
