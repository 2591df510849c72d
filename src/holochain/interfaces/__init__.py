"""interfaces: the conductor on the wire — JSON-RPC over WebSocket and HTTP, and UI hosting.

:class:`ConductorService` (:mod:`.service`) starts and stops the servers
(:mod:`.servers`) a configuration lists; each interface answers with its
method table (:mod:`.methods`, :mod:`.admin_methods`) through a transport-free
JSON-RPC :class:`Dispatcher` (:mod:`.jsonrpc`).  Errors become JSON-RPC
error replies in one place, :mod:`.error_replies`.
"""

from .jsonrpc import Dispatcher, JsonRpcError
from .service import ConductorService

__all__ = ["ConductorService", "Dispatcher", "JsonRpcError"]
