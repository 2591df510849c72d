"""``[dashboard]``: where the conductor serves its dashboard and ``/metrics`` (this conductor's extension).

::

    [dashboard]
    port = 8889                 # 0 (the default): a free port, printed at start
    bind_address = "127.0.0.1"  # the default; the dashboard is for this machine
    token = "…"                 # optional: a fixed access token (for a Prometheus scrape job);
                                # without it every start makes a new one

Without the table ``holochain`` serves no dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DashboardConfig", "parse_dashboard", "DASHBOARD_KEYS"]

DASHBOARD_KEYS = ("bind_address", "port", "token")
_MIN_TOKEN = 16


@dataclass
class DashboardConfig:
    port: int = 0
    bind_address: str = "127.0.0.1"
    token: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bind_address": self.bind_address, "port": self.port}
        if self.token is not None:
            out["token"] = self.token
        return out


def parse_dashboard(table: dict[str, Any], error: type[Exception]) -> DashboardConfig:
    """The ``[dashboard]`` table, checked; raises ``error`` naming the key that is wrong."""
    unknown = sorted(set(table) - set(DASHBOARD_KEYS))
    if unknown:
        raise error(f"dashboard: unknown key `{unknown[0]}`; the keys are {', '.join(DASHBOARD_KEYS)}")
    port = table.get("port", 0)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise error(f"dashboard: `port` must be an integer between 0 and 65535, not {port!r}")
    bind = table.get("bind_address", "127.0.0.1")
    if not isinstance(bind, str) or not bind:
        raise error("dashboard: `bind_address` must be a non-empty string")
    token = table.get("token")
    if token is not None and (not isinstance(token, str) or len(token) < _MIN_TOKEN or not token.isprintable()):
        raise error(f"dashboard: `token` must be a string of at least {_MIN_TOKEN} printable characters")
    return DashboardConfig(port=port, bind_address=bind, token=token)
