"""The conductor's dashboard and ``/metrics``, served on a port of their own.

See :mod:`.server` for the routes, :mod:`.state` for what the page shows,
:mod:`.metrics` for the Prometheus metrics and :mod:`.access` for who may see them.
"""

from .server import DashboardServer, dashboard_url, new_token

__all__ = ["DashboardServer", "dashboard_url", "new_token", "DASHBOARD_LINE_PREFIX"]

DASHBOARD_LINE_PREFIX = "Dashboard: "
