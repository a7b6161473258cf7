"""`target_options.NAME.tls` and HTTPS_PROXY at validation: files read at load and shipped with
the suite, every mistake a located error with the fix, the proxy only on loopback."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http.proxy import Proxy
from contval.spec import SuiteInvalid, load_suite
from tests.http.pki import Pki

SUITE = """\
version: 1
name: tls
targets:
  shop: https://127.0.0.1:8443
target_options:
  shop:
    tls:
{tls}
flows:
  f:
    target: shop
    steps:
      - {{name: home, request: GET /}}
workloads:
  w: {{executor: constant-vus, vus: 1, duration: 1s, mix: {{f: 1}}}}
scenarios:
  s: {{workload: w}}
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


def write(directory: Path, tls: str, suite: str = SUITE) -> Path:
    path = directory / "suite.yaml"
    body = "\n".join(f"      {line}" for line in tls.strip().splitlines())
    path.write_text(suite.format(tls=body))
    return path


def errors_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(path, environ=environ or {}, threshold_parser=None)
    return [str(error) for error in caught.value.errors]


def test_certificates_are_read_at_load_and_travel_with_the_suite(pki: Pki) -> None:
    path = write(
        pki.root,
        "ca_file: ca.pem\nclient_cert: client.pem\nclient_key: client.key\nserver_name: shop.test",
    )
    suite = pickle.loads(pickle.dumps(load_suite(path, environ={}, threshold_parser=None)))
    tls = suite.target_options["shop"].tls
    assert tls is not None and tls.ca_file is not None and tls.client_key is not None
    assert (tls.ca_file.path, tls.ca_file.data) == ("ca.pem", pki.ca.read_bytes())
    assert tls.client_key.data == pki.client_key.read_bytes()
    (route,) = compile_program(suite).routes
    assert route.url == "https://127.0.0.1:8443" and route.proxy is None
    assert route.tls is not None and route.tls.server_name == "shop.test"
    assert route.tls.cert_pem == pki.client_cert.read_bytes()
    assert route.tls.ca_pem == pki.ca.read_text()
    assert suite.target_options["shop"].model_dump()["tls"]["ca_file"] == "ca.pem"


@pytest.mark.parametrize(
    ("tls", "expected"),
    [
        ("ca_file: missing.pem", "8:16: file 'missing.pem' does not exist (relative paths start"
         " at the suite file)"),
        ("ca_file: client.key", "8:16: ca_file 'client.key' holds no PEM `-----BEGIN"
         " CERTIFICATE-----` block"),
        ("client_cert: client.pem\nclient_key: client.pem", "9:19: client_key 'client.pem' holds"
         " no PEM `PRIVATE KEY-----` block"),
        ("client_key: client.key", "8:7: `client_key` needs `client_cert`, the certificate it"
         " belongs to"),
        ("client_cert: client.pem\nclient_key: server.key", "9:19: client_key 'server.key' does"
         " not fit client_cert 'client.pem' (key values mismatch)"),
        ("client_cert: client.pem", "8:20: client_cert 'client.pem' holds no matching private"
         " key ("),
        ("verify: false\nca_file: ca.pem", "9:7: `ca_file` has no effect with `verify: false`;"
         " drop one of them"),
        ("server_name: https://shop.test", "8:20: server_name 'https://shop.test' is not a host"
         " name (letters, digits, `-` and `.`; no scheme, port or path)"),
        ("ca_file: /dev/zero", "8:16: refused: '/dev/zero' is a system file, not a certificate"),
        ("ca_file: .", "8:16: refused: '.' is not a regular file"),
        ("verfy: false", "8:7: unknown field `verfy`; did you mean `verify`?"),
    ],
)  # fmt: skip
def test_each_mistake_is_located_with_its_fix(pki: Pki, tls: str, expected: str) -> None:
    path = write(pki.root, tls)
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:{expected}")


def test_an_encrypted_key_is_refused_with_the_way_out(pki: Pki) -> None:
    encrypted = pki.root / "encrypted.key"
    subprocess.run(
        ["openssl", "pkey", "-in", str(pki.client_key), "-aes256", "-passout", "pass:x",
         "-out", str(encrypted)],
        check=True, capture_output=True,
    )  # fmt: skip
    path = write(pki.root, "client_cert: client.pem\nclient_key: encrypted.key")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:9:19: client_key 'encrypted.key' is encrypted")
    assert "openssl pkey -in KEY -out KEY.plain" in error


def test_tls_on_an_http_target_is_refused(pki: Pki) -> None:
    path = write(pki.root, "verify: false", SUITE.replace("https://", "http://"))
    assert errors_of(path) == [
        f"{path}:7:5: `tls` applies to https targets; `shop` is http://127.0.0.1:8443: use"
        " https:// or drop `tls`"
    ]


def test_two_targets_on_one_origin_need_the_same_tls(pki: Pki) -> None:
    suite = SUITE.replace(
        "  shop: https://127.0.0.1:8443\n",
        "  shop: https://127.0.0.1:8443\n  admin: https://127.0.0.1:8443/admin\n",
    )
    path = write(pki.root, "verify: false", suite)
    assert errors_of(path) == [
        f"{path}:5:3: `admin` and `shop` share the origin https://127.0.0.1:8443 (one connection"
        " pool) but not their `tls`; give both the same `tls`"
    ]


def test_a_proxy_off_loopback_is_refused_unless_no_proxy_exempts_the_target(pki: Pki) -> None:
    path = write(pki.root, "verify: false")
    remote = {"HTTPS_PROXY": "http://user:pw@10.9.9.9:3128"}
    assert errors_of(path, remote) == [
        f"{path}:4:9: `shop` would be tunnelled through HTTPS_PROXY (http://10.9.9.9:3128), which"
        " is not on loopback: contval sends load only to declared targets. Add 127.0.0.1 to"
        " NO_PROXY, unset HTTPS_PROXY, or run a proxy on this host"
    ]
    exempt = {**remote, "NO_PROXY": "localhost,127.0.0.1"}
    assert compile_program(load_suite(path, environ=exempt, threshold_parser=None)).routes


def test_an_unusable_proxy_url_is_located_at_the_target(pki: Pki) -> None:
    path = write(pki.root, "verify: false")
    (error,) = errors_of(path, {"https_proxy": "https://127.0.0.1:3128"})
    assert error.startswith(f"{path}:4:9: HTTPS_PROXY is unusable for `shop`: proxy scheme")


def test_a_loopback_proxy_is_read_at_load_and_shipped(pki: Pki) -> None:
    path = write(pki.root, "verify: false")
    environ = {"HTTPS_PROXY": "http://127.0.0.1:3128", "no_proxy": "example.com"}
    suite = pickle.loads(pickle.dumps(load_suite(path, environ=environ, threshold_parser=None)))
    assert dict(suite.environment.proxy_env) == {
        "https_proxy": "http://127.0.0.1:3128",
        "no_proxy": "example.com",
    }
    (route,) = compile_program(suite).routes
    assert route.proxy == Proxy("127.0.0.1", 3128)


def test_validate_exits_2_with_the_location_and_no_traceback(pki: Pki) -> None:
    path = write(pki.root, "client_key: client.key")
    result = subprocess.run(
        [sys.executable, "-m", "contval", "validate", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{path}:8:7: `client_key` needs `client_cert`" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
