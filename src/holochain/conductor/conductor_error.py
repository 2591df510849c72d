"""The conductor layer's own error (a :class:`~holochain.core.errors.HostingError`)."""

from __future__ import annotations

from ..core.errors import HostingError

__all__ = ["ConductorError"]


class ConductorError(HostingError):
    """A conductor operation failed; the message is shown to the operator or client."""
