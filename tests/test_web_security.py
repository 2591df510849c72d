"""The web rules (interfaces/web_security.py) on their own: exact Origin parsing, Host checks,
CORS and headers. The servers' use of them is tested end to end in test_origin_host.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from holochain.interfaces.web_security import (
    HostPolicy,
    Origin,
    OriginPolicy,
    is_loopback_name,
    origin_is_loopback,
    parse_host_header,
    parse_origin,
    ui_content_security_policy,
)

LOOPBACK_ORIGINS = [
    "http://localhost",
    "http://localhost:3000",
    "http://LOCALHOST:3000",
    "https://127.0.0.1",
    "http://127.0.0.1:8888",
    "http://127.1.2.3:9",
    "http://[::1]:8080",
    "http://[::1]",
]

FOREIGN_ORIGINS = [
    "http://127.evil.example",  # a prefix match took this for loopback
    "https://127.0.0.1.nip.io",
    "http://127.0.0.1.evil.example:8888",
    "http://localhost.evil.example",
    "http://localhost.",
    "http://evil.example",
    "http://evil.example@127.0.0.1",  # userinfo: not an origin
    "http://127.0.0.1/path",
    "http://127.0.0.1:8888/",
    "http://127.0.0.1?x",
    "http://127.0.0.1#x",
    "http://127.0.0.1:0",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:+80",
    "http://127.0.0.1:８０",
    "http://[::ffff:127.0.0.1",
    "http://0x7f.0.0.1",
    "http://2130706433",
    "http://[fe80::1]",
    "file://",
    "null",
    "",
    "chrome-extension://abcdef",
    "ftp://127.0.0.1",
    "127.0.0.1",
    "http://127.0.0.1 ",
    "http://" + "a" * 3000,
]


@pytest.mark.parametrize("origin", LOOPBACK_ORIGINS)
def test_loopback_origins_are_recognised_exactly(origin):
    assert origin_is_loopback(origin)


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_names_that_only_look_like_loopback_are_foreign(origin):
    assert not origin_is_loopback(origin)
    assert not OriginPolicy.from_config(None).allows(origin)


def test_parse_origin_normalizes_scheme_host_and_default_port():
    assert parse_origin("HTTP://Example.COM") == Origin("http", "example.com", 80)
    assert parse_origin("https://example.com:443") == Origin("https", "example.com", 443)
    assert parse_origin("http://[::1]:80") == Origin("http", "::1", 80)
    assert str(Origin("http", "::1", 80)) == "http://[::1]:80"


def test_allowed_origins_add_exact_origins_and_star_only_when_written():
    policy = OriginPolicy.from_config(["https://app.example:8443", "http://other.example"])
    assert policy.allows(None)  # no Origin: not a browser
    assert policy.allows("https://app.example:8443")
    assert policy.allows("HTTPS://APP.EXAMPLE:8443")
    assert policy.allows("http://other.example:80")
    assert not policy.allows("https://app.example")  # another port is another origin
    assert not policy.allows("http://app.example:8443")  # another scheme too
    assert not policy.allows("https://app.example:8443.evil.example")
    assert not policy.allows("null")
    assert OriginPolicy.from_config(["*"]).allows("http://evil.example")
    assert OriginPolicy.from_config(["null"]).allows("null")
    assert not OriginPolicy.from_config([]).allows("http://evil.example")


def test_extra_origins_are_asked_on_each_check():
    current: list[Origin] = []
    policy = OriginPolicy.from_config(None, extra=lambda: current)
    assert not policy.allows("http://192.168.1.5:4000")
    current.append(Origin("http", "192.168.1.5", 4000))
    assert policy.allows("http://192.168.1.5:4000")


@pytest.mark.parametrize("entry", ["127.0.0.1", "http://x/path", "*.example", "http://", "localhost:80"])
def test_an_allowed_origins_entry_that_is_no_origin_is_named(entry):
    with pytest.raises(ValueError) as err:
        OriginPolicy.from_config([entry])
    assert repr(entry) in str(err.value)


def test_loopback_names():
    for name in ("localhost", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "LocalHost"):
        assert is_loopback_name(name), name
    for name in ("localhost.", "127.0.0.1.nip.io", "127.evil", "0.0.0.0", "::", "10.0.0.1", "", "[::1"):
        assert not is_loopback_name(name), name


def test_host_policy_accepts_loopback_names_with_the_port_reached():
    policy = HostPolicy()
    assert policy.allows("localhost:8888", 8888)
    assert policy.allows("127.0.0.1:8888", 8888)
    assert policy.allows("[::1]:8888", 8888)
    assert policy.allows(None, 8888)  # no Host: not a browser
    assert policy.allows("localhost", 80)
    assert not policy.allows("localhost", 8888)  # a browser always names a port that is not the default
    assert not policy.allows("localhost:8889", 8888)
    assert not policy.allows("evil.example:8888", 8888)  # DNS rebinding
    assert not policy.allows("127.0.0.1.nip.io:8888", 8888)
    assert not policy.allows("127.evil.example:8888", 8888)
    assert not policy.allows("192.168.1.5:8888", 8888)
    assert not policy.allows("localhost:8888:1", 8888)
    assert not policy.allows("local host:8888", 8888)
    assert not policy.allows("", 8888)


def test_host_policy_accepts_the_configured_bind_address():
    assert HostPolicy("192.168.1.5").allows("192.168.1.5:8888", 8888)
    assert not HostPolicy("192.168.1.5").allows("192.168.1.6:8888", 8888)
    assert HostPolicy("myhost.lan").allows("MyHost.lan:8888", 8888)
    assert HostPolicy("::1").allows("[::1]:8888", 8888)
    # bound everywhere: any IP literal (no DNS name can rebind to it), still no foreign names
    assert HostPolicy("0.0.0.0").allows("10.1.2.3:8888", 8888)
    assert HostPolicy("::").allows("[fd00::5]:8888", 8888)
    assert not HostPolicy("0.0.0.0").allows("evil.example:8888", 8888)


def test_parse_host_header():
    assert parse_host_header("Example.com:80") == ("example.com", 80)
    assert parse_host_header("[::1]") == ("::1", None)
    assert parse_host_header("[zz]:80") is None
    assert parse_host_header("a" * 3000) is None


def test_the_csp_lets_pages_reach_loopback_interfaces_only():
    csp = ui_content_security_policy(["ws://192.168.1.5:8888"])
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    connect = directives["connect-src"].split()
    assert "ws://localhost:*" in connect and "ws://127.0.0.1:*" in connect and "ws://192.168.1.5:8888" in connect
    assert "'unsafe-eval'" not in csp
    assert "*" not in connect


@given(st.text(max_size=80))
def test_any_text_either_parses_to_an_origin_that_round_trips_or_is_refused(text):
    origin = parse_origin(text)
    if origin is None:
        assert not origin_is_loopback(text)
        return
    assert parse_origin(str(origin)) == origin
    if origin_is_loopback(text):
        assert origin.host == "localhost" or origin.host.startswith(("127.", "::1", "0:0:0:0:0:0:0:1"))


@given(st.from_regex(r"\A[a-z0-9.\-]{1,30}\Z"), st.integers(1, 65535))
def test_a_dns_name_is_loopback_only_when_it_is_localhost(name, port):
    origin = f"http://{name}:{port}"
    try:
        import ipaddress

        literal = ipaddress.ip_address(name).is_loopback
    except ValueError:
        literal = False
    assert origin_is_loopback(origin) == (name == "localhost" or literal)
    assert HostPolicy().allows(f"{name}:{port}", port) == (name == "localhost" or literal)
