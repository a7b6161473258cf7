"""A target's `tls:` options and the checks that need the whole suite (and the environment).

Certificate and key files are read when the suite is loaded and shipped with it (workers never
read files, as with feeders and uploads). A file is checked where it is named (exists, regular,
at most 1 MiB, the right kind of PEM); what needs two fields or the target's URL (a key without
a certificate, a key that does not match, `tls` on an http target, two targets on one origin
with different settings, an HTTPS_PROXY that is not on loopback) is checked in `check_tls`.
"""

from __future__ import annotations

import os
import re
import ssl
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import Field, PlainSerializer, PlainValidator, ValidationInfo, WithJsonSchema

from contval.http.proxy import proxy_for
from contval.http.tls import load_client_cert
from contval.spec.errors import SuiteError
from contval.spec.source import DocPath, SourceDocument
from contval.spec.types import Frozen

MAX_PEM: Final = 1024 * 1024
"""The largest certificate or key file a suite may name."""
_SYSTEM_DIRS: Final = (Path("/proc"), Path("/sys"), Path("/dev"))
_HOSTNAME: Final = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


@dataclass(frozen=True, slots=True)
class PemFile:
    """A PEM file as the suite names it, and its contents as read at load."""

    path: str
    data: bytes


def _reader(kind: str, marker: bytes) -> Any:
    def read(value: Any, info: ValidationInfo) -> PemFile:
        if isinstance(value, PemFile):
            return value
        if not isinstance(value, str) or not value:
            raise ValueError(f"`{kind}` is a file path (relative to the suite file)")
        data = _read(value, info.context)
        if marker not in data:
            raise ValueError(f"{kind} {value!r} holds no PEM `{marker.decode()}` block")
        if kind == "client_key" and (b"ENCRYPTED" in data):
            raise ValueError(
                f"client_key {value!r} is encrypted and contval takes no password; write a"
                " decrypted copy readable only by you (`openssl pkey -in KEY -out KEY.plain`)"
            )
        if kind == "ca_file":
            try:
                ssl.create_default_context(cadata=data.decode("latin-1"))
            except (ssl.SSLError, ValueError) as exc:
                raise ValueError(f"ca_file {value!r} holds no usable certificate ({exc})") from None
        return PemFile(value, data)

    return PlainValidator(read)


def _read(name: str, context: Mapping[str, Any] | None) -> bytes:
    """The bytes of `name` (relative to the suite's directory): a regular file, at most 1 MiB."""
    base = (context or {}).get("base_dir")
    path = Path(name)
    full = path if base is None or path.is_absolute() else Path(base) / path
    shown = repr(name[:200])
    try:
        resolved = full.resolve()
    except (OSError, ValueError) as exc:
        raise ValueError(f"invalid file name {shown}: {exc}") from None
    if any(resolved.is_relative_to(d) for d in _SYSTEM_DIRS):
        raise ValueError(f"refused: {shown} is a system file, not a certificate")
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        reason = "does not exist" if isinstance(exc, FileNotFoundError) else exc.strerror
        message = f"file {shown} {reason} (relative paths start at the suite file)"
        raise ValueError(message) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ValueError(f"refused: {shown} is not a regular file")
    with os.fdopen(fd, "rb") as file:
        if info.st_size > MAX_PEM:
            raise ValueError(f"file {shown} has {info.st_size} bytes; a PEM file has at most 1 MiB")
        return file.read(MAX_PEM + 1)[:MAX_PEM]


def _pem(kind: str, marker: bytes, description: str) -> Any:
    return Annotated[
        PemFile,
        _reader(kind, marker),
        PlainSerializer(lambda pem: pem.path, return_type=str),
        WithJsonSchema({"type": "string", "description": description}),
    ]


CaFile = _pem("ca_file", b"-----BEGIN CERTIFICATE-----", "PEM file of the CAs to trust")
CertFile = _pem("client_cert", b"-----BEGIN CERTIFICATE-----", "PEM client certificate")
KeyFile = _pem("client_key", b"PRIVATE KEY-----", "PEM private key of the client certificate")


def _hostname(value: Any) -> Any:
    if isinstance(value, str) and not _HOSTNAME.match(value):
        raise ValueError(
            f"server_name {value[:100]!r} is not a host name (letters, digits, `-` and `.`;"
            " no scheme, port or path)"
        )
    return value


class TlsSpec(Frozen):
    """How contval speaks TLS to one https target (docs/http.md#tls)."""

    verify: bool = Field(
        True, description="check the server's certificate and name (false: accept any)"
    )
    ca_file: CaFile | None = Field(  # type: ignore[valid-type]
        None, description="trust these CAs (PEM) instead of the system store"
    )
    client_cert: CertFile | None = Field(  # type: ignore[valid-type]
        None, description="client certificate for mutual TLS (PEM; may hold the key too)"
    )
    client_key: KeyFile | None = Field(  # type: ignore[valid-type]
        None, description="the client certificate's private key (PEM, not encrypted)"
    )
    server_name: Annotated[str, PlainValidator(_hostname), WithJsonSchema({"type": "string"})] | (
        None
    ) = Field(
        None,
        description="the name sent as SNI and checked in the certificate, instead of the URL's"
        " host (the Host header keeps the URL's)",
    )


def check_tls(
    targets: Mapping[str, str],
    options: Mapping[str, TlsSpec | None],
    doc: SourceDocument,
    environ: Mapping[str, str],
) -> list[SuiteError]:
    """Problems of each target's `tls` (target name → its `tls`, None when unset) that need more
    than one field, and of the HTTPS_PROXY that https targets would go through."""
    errors: list[SuiteError] = []
    by_origin: dict[tuple[str, str, int], tuple[str, TlsSpec | None]] = {}
    for name, url in targets.items():
        tls = options.get(name)
        path: DocPath = ("target_options", name, "tls")
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or (443 if scheme == "https" else 80)
        if tls is not None:
            if scheme != "https":
                message = (
                    f"`tls` applies to https targets; `{name}` is {url}: use https:// or drop `tls`"
                )
                errors.append(doc.error(path, message, at_key=True))
            else:
                errors += _check_one(tls, path, doc)
        if scheme == "https":
            errors += _check_proxy(name, host, port, environ, doc)
        first = by_origin.setdefault((scheme, host, port), (name, tls))
        if first[0] != name and first[1] != tls:
            message = (
                f"`{name}` and `{first[0]}` share the origin {scheme}://{host}:{port} (one"
                " connection pool) but not their `tls`; give both the same `tls`"
            )
            at: DocPath = path if tls is not None else ("targets", name)
            errors.append(doc.error(at, message, at_key=True))
    return errors


def _check_one(tls: TlsSpec, path: DocPath, doc: SourceDocument) -> list[SuiteError]:
    errors: list[SuiteError] = []
    if not tls.verify and tls.ca_file is not None:
        message = "`ca_file` has no effect with `verify: false`; drop one of them"
        errors.append(doc.error((*path, "ca_file"), message, at_key=True))
    if tls.client_key is not None and tls.client_cert is None:
        message = "`client_key` needs `client_cert`, the certificate it belongs to"
        errors.append(doc.error((*path, "client_key"), message, at_key=True))
    elif tls.client_cert is not None:
        key = None if tls.client_key is None else tls.client_key.data
        try:
            load_client_cert(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), tls.client_cert.data, key)
        except (ssl.SSLError, ValueError, OSError) as exc:
            if key is None:
                where, message = (
                    "client_cert",
                    (
                        f"client_cert {tls.client_cert.path!r} holds no matching private key"
                        f" ({_reason(exc)}); add `client_key`"
                    ),
                )
            else:
                where, message = (
                    "client_key",
                    (
                        f"client_key {tls.client_key.path!r} does not fit client_cert"
                        f" {tls.client_cert.path!r} ({_reason(exc)})"
                    ),
                )
            errors.append(doc.error((*path, where), message))
    return errors


def _reason(exc: Exception) -> str:
    """OpenSSL's reason in words (`KEY_VALUES_MISMATCH` → key values mismatch)."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.replace("_", " ").lower()
    return str(exc)[:200]


def _check_proxy(
    name: str, host: str, port: int, environ: Mapping[str, str], doc: SourceDocument
) -> list[SuiteError]:
    """An https target's proxy must be usable and on loopback: load goes only to declared
    targets, and a remote proxy would be an undeclared host carrying (and timing) all of it."""
    try:
        chosen = proxy_for("https", host, port, environ)
    except ValueError as exc:
        message = f"HTTPS_PROXY is unusable for `{name}`: {exc}; fix it or add {host} to NO_PROXY"
        return [doc.error(("targets", name), message)]
    if chosen is None or chosen[1].on_loopback:
        return []
    message = (
        f"`{name}` would be tunnelled through HTTPS_PROXY ({chosen[1].shown}), which is not on"
        f" loopback: contval sends load only to declared targets. Add {host} to NO_PROXY, unset"
        " HTTPS_PROXY, or run a proxy on this host"
    )
    return [doc.error(("targets", name), message)]
