"""Who may see the dashboard: the one check every dashboard request passes.

The same rules as the admin interface, for a page that shows everything a
conductor holds:

* the **Host** must name this machine (a loopback name or address, or the
  configured ``bind_address``), so a DNS-rebinding page cannot reach it
  under a name of its own;
* a browser's **Origin**, when sent, must be the dashboard's own
  (``http://<Host>``): another page, even on another loopback port, cannot
  read it or open its WebSocket with the browser's cookie;
* the **token** printed at start must come with the request: in the URL
  (``?token=…``, how the printed link opens the page), as a cookie the page
  then carries (``hc_dashboard_<port>``, HttpOnly, SameSite=Strict), or as
  ``Authorization: Bearer …`` (a Prometheus scrape job).

Kept in this one function so the project's shared web-security rules can
replace it in one place.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

__all__ = ["refusal", "cookie_name", "LOOPBACK_NAMES"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def cookie_name(port: int) -> str:
    return f"hc_dashboard_{port}"


def _host_name(host: str) -> str | None:
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


def _is_local(name: str, bind_address: str) -> bool:
    if name in LOOPBACK_NAMES or name == bind_address.strip("[]"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # a name, not an address: only "localhost" is known to be this machine
        return False


def refusal(request: web.Request, token: str, bind_address: str, port: int) -> tuple[int, str] | None:
    """``None`` if the request may be served, else ``(HTTP status, why)``."""
    host = request.headers.get("Host")
    name = _host_name(host) if host else None
    if name is None or not _is_local(name, bind_address):
        return 403, f"Host {host!r} is not this machine's dashboard"
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"http://{host}":
        return 403, f"origin {origin} may not use this dashboard"
    given = request.query.get("token") or request.cookies.get(cookie_name(port))
    authorization = request.headers.get("Authorization", "")
    if not given and authorization.startswith("Bearer "):
        given = authorization[7:].strip()
    if not given:
        return 401, "the dashboard needs its access token: open the URL the conductor printed at start"
    if not hmac.compare_digest(given.encode(), token.encode()):
        return 401, "wrong dashboard token: open the URL the conductor printed at start"
    return None
