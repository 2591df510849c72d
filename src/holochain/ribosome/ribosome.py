"""The ribosome: runs a DNA's zome code (functions and callbacks).

One :class:`Ribosome` per DNA.  It loads each zome's code once, and runs a
function or callback in a zome-call greenlet (:mod:`.runner`) with the host
object the instance provides for that call.  Results come back as JSON
values; failures of the zome code itself (an exception that is not a
``ZomeApiError``) come back as :class:`ZomeFunctionFailure`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..core.dna import Dna
from ..core.errors import ZomeError
from ..hdk.host import ZomeHost
from ..hdk.zome import InitError, ValidationError, Zome, ZomeFunction
from . import runner
from .python_zome import ZomeCodeError, load_zome

__all__ = ["Ribosome", "ZomeFunctionFailure", "ZomeCodeError"]

log = logging.getLogger(__name__)


class ZomeFunctionFailure(ZomeError):
    """Zome code raised instead of returning: a bug in the zome, reported to the caller."""


class Ribosome:
    """A DNA's zomes, loaded: runs zome functions, ``init``, validation and ``receive`` callbacks
    with the host of the call, in a greenlet that may suspend for the network (:mod:`.runner`)."""

    def __init__(self, dna: Dna) -> None:
        self.dna = dna
        self.zomes: dict[str, Zome] = {}
        for name, code in dna.code.items():
            self.zomes[name] = load_zome(code, name)

    def function(self, zome: str, name: str) -> ZomeFunction | None:
        z = self.zomes.get(zome)
        return z.functions.get(name) if z is not None else None

    # -- zome functions ----------------------------------------------------------

    def call_function(self, fn: ZomeFunction, args: Any, host: ZomeHost, label: Any) -> Any:
        """Run a zome function; returns its JSON output or a :class:`runner.Pending`.

        ``label`` names the call in the log (its parts are joined with ``/``)."""

        def run() -> Any:
            try:
                return fn.invoke(args)
            except Exception as exc:
                name = "/".join(label) if isinstance(label, tuple) else label
                log.warning("zome function %s raised %s: %s", name, type(exc).__name__, exc, exc_info=exc)
                raise ZomeFunctionFailure(f"{type(exc).__name__}: {exc}") from exc

        return runner.start(run, host)

    # -- callbacks -------------------------------------------------------------------

    def run_callback(self, fn: Any, args: tuple[Any, ...], host: ZomeHost) -> Any:
        """Run a callback to completion or suspension (see :func:`runner.start`)."""
        return runner.start(lambda: fn(*args), host)

    def validate_entry(self, zome: str, type_name: str, validation: Any, host: ZomeHost) -> str | None:
        """Run an entry type's validator; ``None`` if valid, else the reason.

        Runs in the caller's greenlet (validation happens inside a commit).
        """
        definition = self.zomes[zome].entry_types.get(type_name)
        if definition is None or definition.validator is None:
            return None
        return _validation_outcome(lambda: definition.validator(validation), host)

    def validate_link(self, zome: str, link_type: str, validation: Any, host: ZomeHost) -> str | None:
        definition = self.zomes[zome].link_definition(link_type)
        if definition is None or definition.validator is None:
            return None
        return _validation_outcome(lambda: definition.validator(validation), host)

    def validate_agent(self, validation: Any, host_for: Callable[[str], ZomeHost]) -> list[tuple[str, str]]:
        """Run every zome's agent validator; the ``(zome, reason)`` failures."""
        failures = []
        for name, zome in self.zomes.items():
            if zome.validate_agent_callback is None:
                continue
            reason = _validation_outcome(lambda z=zome: z.validate_agent_callback(validation), host_for(name))
            if reason is not None:
                failures.append((name, reason))
        return failures

    def init(self, zome: str, host: ZomeHost) -> str | None:
        """Run a zome's ``init``; ``None`` on success, else the error text."""
        callback = self.zomes[zome].init_callback
        if callback is None:
            return None

        def run() -> str | None:
            try:
                callback()
            except InitError as exc:
                return str(exc)
            except runner.ZomeCallTimeout as exc:
                return str(exc)
            return None

        return runner.start(run, host)


def _validation_outcome(check: Any, host: ZomeHost) -> Any:
    def run() -> str | None:
        try:
            check()
        except ValidationError as exc:
            return str(exc)
        except runner.ZomeCallTimeout as exc:
            return f"validation callback failed: {exc}"
        except Exception as exc:  # a bug in the validator rejects, loudly
            log.warning("validation callback raised %s: %s", type(exc).__name__, exc, exc_info=exc)
            return f"validation callback failed: {type(exc).__name__}: {exc}"
        return None

    return runner.start(run, host)
