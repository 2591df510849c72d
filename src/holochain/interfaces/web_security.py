"""The rules a browser's request must pass before any server of the conductor answers it.

A conductor runs on its user's own machine, and every page that user's browser
opens can reach ``localhost``.  Three rules keep those pages out:

* **Origin** — a page's ``Origin`` header is parsed exactly (scheme, host,
  port), never matched by prefix: ``http://127.evil.example`` and
  ``https://127.0.0.1.nip.io`` are names an attacker's DNS controls, not
  loopback.  Loopback means the name ``localhost`` or an IP literal that is
  loopback (``127.0.0.0/8``, ``::1``).  Clients without an ``Origin`` (Node,
  Python, curl) are not browsers and pass.  An :class:`OriginPolicy` adds
  exact origins from configuration, and ``"*"`` only where it is written out.
* **Host** — DNS rebinding makes a foreign name resolve to ``127.0.0.1``; the
  browser then treats our server as that foreign origin, and the Origin rule
  alone would let the page in (it is "same-origin" to itself).  The ``Host``
  header gives it away: a :class:`HostPolicy` accepts only loopback names and
  the configured bind address, with the port the connection really reached;
  anything else gets ``421 Misdirected Request``.
* **Headers** — every answer says ``nosniff`` and may not be framed; pages we
  serve get a Content Security Policy (:func:`ui_content_security_policy`).

:func:`guard_middleware` applies the first two to an aiohttp application (every
route, unknown paths too), so each server states its policy once.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from aiohttp import web

__all__ = [
    "Origin",
    "parse_origin",
    "is_loopback_name",
    "origin_is_loopback",
    "OriginPolicy",
    "parse_host_header",
    "HostPolicy",
    "cors_headers",
    "SECURITY_HEADERS",
    "ui_content_security_policy",
    "guard_middleware",
]

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_MAX_HEADER = 2048  # an Origin or Host longer than this is no origin or host we would ever allow
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")

# Sent with every answer of every server: no content sniffing, no framing, no referrer leaks.
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class Origin(NamedTuple):
    """A serialized origin, normalized: lower-case scheme and host, the port always explicit."""

    scheme: str
    host: str  # IPv6 literals without brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _split_host_port(text: str) -> tuple[str, int | None] | None:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (host, port); None when malformed."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        host = host.lower()
    else:
        host, sep, port_text = text.partition(":")
        rest = sep + port_text
        host = host.lower()
        if not host or not _HOST_CHARS.issuperset(host):
            return None
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isdigit() or not rest[1:].isascii() or len(rest) > 6:
        return None
    port = int(rest[1:])
    return (host, port) if 0 < port < 65536 else None


def parse_origin(value: str) -> Origin | None:
    """An ``Origin`` header as (scheme, host, port), or None if it is not exactly an origin.

    An origin is ``scheme://host[:port]`` and nothing more: no user, path,
    query or fragment (``"null"``, sent by sandboxed and ``file:`` pages, is
    not one).
    """
    if len(value) > _MAX_HEADER or not value.isascii():
        return None
    scheme, sep, rest = value.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS or not rest or any(c in rest for c in "/?#@\\ \t"):
        return None
    parsed = _split_host_port(rest)
    if parsed is None:
        return None
    host, port = parsed
    return Origin(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])


def is_loopback_name(host: str) -> bool:
    """``localhost``, or an IP literal that is loopback (brackets around IPv6 allowed).

    Exact: ``localhost.``, ``127.evil.example`` or ``127.0.0.1.nip.io`` are
    DNS names and do not count.
    """
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_is_loopback(value: str) -> bool:
    """Whether an ``Origin`` header names a page served from this machine's loopback."""
    origin = parse_origin(value)
    return origin is not None and is_loopback_name(origin.host)


@dataclass
class OriginPolicy:
    """Which browser pages may use a server.

    Clients that send no ``Origin`` always pass (browsers always send one on
    WebSocket handshakes and cross-origin requests).  Pages pass when their
    origin is loopback, is one of ``allowed``, or is given by ``extra`` (asked
    on each check: e.g. the conductor's UI servers, which come and go), or
    when ``any_origin`` was asked for by writing ``"*"``.
    """

    allowed: frozenset[Origin] = frozenset()
    any_origin: bool = False
    allow_null: bool = False  # the literal origin "null", only when written out
    extra: Callable[[], Iterable[Origin]] | None = field(default=None, compare=False)

    @classmethod
    def from_config(
        cls, allowed_origins: Iterable[str] | None, *, extra: Callable[[], Iterable[Origin]] | None = None
    ) -> OriginPolicy:
        """A policy from an interface's ``allowed_origins``; ValueError names an entry that is no origin."""
        allowed: set[Origin] = set()
        any_origin = allow_null = False
        for entry in allowed_origins or ():
            if entry == "*":
                any_origin = True
            elif entry == "null":
                allow_null = True
            else:
                origin = parse_origin(entry)
                if origin is None:
                    raise ValueError(
                        f"allowed_origins entry {entry!r} is not an origin: write scheme://host[:port] "
                        'as a browser sends it (e.g. "https://app.example:8443"), or "*" for every origin'
                    )
                allowed.add(origin)
        return cls(frozenset(allowed), any_origin, allow_null, extra)

    def allows(self, value: str | None) -> bool:
        if value is None or self.any_origin:
            return True
        if value == "null":
            return self.allow_null
        origin = parse_origin(value)
        if origin is None:
            return False
        if is_loopback_name(origin.host) or origin in self.allowed:
            return True
        return self.extra is not None and origin in set(self.extra())


def parse_host_header(value: str) -> tuple[str, int | None] | None:
    """A ``Host`` header as (lower-case host without brackets, port or None); None when malformed."""
    if len(value) > _MAX_HEADER or not value.isascii():
        return None
    return _split_host_port(value.strip())


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` header values a server answers (the defence against DNS rebinding).

    Accepted names: ``localhost``, loopback IP literals, and the configured
    ``bind_address``.  A server bound to every address (``0.0.0.0``, ``::``)
    also accepts any IP literal: a page can only reach it by IP through a
    browser that then sees the IP as its origin, which no DNS trick changes.
    The port must be the one the connection reached (a missing port means the
    scheme's default, as browsers send it).  A request without ``Host`` is no
    browser's and passes.
    """

    bind_address: str | None = None

    def allows(self, value: str | None, port: int | None, scheme: str = "http") -> bool:
        if value is None:
            return True
        parsed = parse_host_header(value)
        if parsed is None:
            return False
        host, given = parsed
        if port is not None and (given if given is not None else _DEFAULT_PORTS.get(scheme, 80)) != port:
            return False
        if is_loopback_name(host):
            return True
        bind = (self.bind_address or "").lower().strip("[]")
        if not bind:
            return False
        if host == bind:
            return True
        try:
            wildcard = ipaddress.ip_address(bind).is_unspecified
        except ValueError:
            return False
        if not wildcard:
            return False
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


def cors_headers(origin: str, requested_headers: str | None = None) -> dict[str, str]:
    """CORS answer headers for one origin that its policy allowed (never a wildcard: no reflection
    of an origin that was not checked)."""
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "OPTIONS, POST",
        "Vary": "Origin",
    }
    if requested_headers:
        headers["Access-Control-Allow-Headers"] = requested_headers
    return headers


def ui_content_security_policy(connect: Iterable[str] = ()) -> str:
    """The CSP of a page the conductor serves.

    Scripts, styles and images only from the page's own server (inline code
    allowed: hApp UIs of holochain-rust's time inline theirs; no ``eval``);
    network access only to the page's own server, to loopback WebSocket and
    HTTP ports (where hc-web-client finds the conductor's interfaces), and to
    ``connect`` (e.g. ``ws://192.168.1.5:8888`` for an interface bound there);
    no plugins, no framing by other pages, forms post only to the page's own server.
    """
    loopback = [f"{scheme}://{host}:*" for scheme in ("ws", "http") for host in ("localhost", "127.0.0.1", "[::1]")]
    sources = " ".join(["'self'", *loopback, *connect])
    return (
        "default-src 'self'; "
        "script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        f"connect-src {sources}; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def _local_port(request: web.Request) -> int | None:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guard_middleware(name: str, hosts: HostPolicy, origins: OriginPolicy | None = None) -> Callable[..., Awaitable]:
    """An aiohttp middleware that refuses, before any handler runs, a request whose ``Host`` the
    policy does not accept (421) or whose ``Origin`` it does not allow (403), and adds
    :data:`SECURITY_HEADERS` to every answer.  ``origins=None`` checks no Origin (static files:
    reading them cross-origin is the browser's to forbid)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if not hosts.allows(host, _local_port(request)):
            log.warning("%s: refused a request for host %r (DNS rebinding?)", name, host)
            return web.Response(
                status=421, headers=SECURITY_HEADERS, text=f"host {host!r} is not served here; use localhost\n"
            )
        origin = request.headers.get("Origin")
        if origins is not None and not origins.allows(origin):
            log.warning("%s: refused a request from origin %r", name, origin)
            return web.Response(
                status=403, headers=SECURITY_HEADERS, text=f"origin {origin} is not allowed on this interface\n"
            )
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # 404s and the like: they carry the headers too
            for key, value in SECURITY_HEADERS.items():
                exc.headers.setdefault(key, value)
            raise
        if not response.prepared:  # a WebSocket or streamed answer has sent its headers already
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
        return response

    return guard
