"""Who may see the dashboard: the one check every dashboard request passes.

The same rules as the admin interface, for a page that shows everything a
conductor holds:

* the **Host** must name this machine (a loopback name or address, or the
  configured ``bind_address``), so a DNS-rebinding page cannot reach it
  under a name of its own (the shared guard of every server checks it);
* a browser's **Origin**, when sent, must be the dashboard's own
  (``http://<Host>``): another page, even on another loopback port, cannot
  read it or open its WebSocket with the browser's cookie;
* the **token** printed at start must come with the request: in the URL
  (``?token=…``, how the printed link opens the page), as a cookie the page
  then carries (``hc_dashboard_<port>``, HttpOnly, SameSite=Strict), or as
  ``Authorization: Bearer …`` (a Prometheus scrape job).

Origin and token are checked here, after the shared Host guard.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from ..web_security import parse_host_header, parse_origin

__all__ = ["refusal", "cookie_name"]


def cookie_name(port: int) -> str:
    return f"hc_dashboard_{port}"


def _same_origin(origin: str, host: str | None, port: int) -> bool:
    """Whether ``origin`` is exactly the dashboard's own ``http://<Host>`` (the page itself)."""
    parsed = parse_origin(origin)
    named = parse_host_header(host) if host else None
    return (
        parsed is not None
        and named is not None
        and parsed.scheme == "http"
        and (parsed.host, parsed.port)
        == (
            named[0],
            port,
        )
    )


def refusal(request: web.Request, token: str, port: int) -> tuple[int, str] | None:
    """``None`` if the request may be served, else ``(HTTP status, why)``.

    The Host was judged before, by the server's shared guard
    (:mod:`holochain.interfaces.web_security`, 421 for a foreign one).  The
    Origin rule here is stricter than an interface's: the page's own origin
    only, because the page's cookie would ride along with a request from any
    other loopback page.
    """
    host = request.headers.get("Host")
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin, host, port):
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
