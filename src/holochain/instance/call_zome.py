"""The ``call_zome`` workflow: check the zome, the function and the capability, run the
function, reply once what it wrote is durable.

holochain-rust's ``validate_call`` decides who may call: the public grant
(open to everyone), a grant on this chain (its functions, its assignees, a
valid signature over ``fn:args``), or the agent's own key.  A call the
instance refuses raises :class:`InstanceError`, which clients see as
``Holochain Instance Error: <message>``.

The reply is a :data:`~holochain.ribosome.host_api.ZomeCallReply`: the
result's JSON text, or — when the call wrote (its reply waits for the group
commit) or had to wait (for the network, another call) — a future or an
awaitable of it.
"""

from __future__ import annotations

from typing import Any

from ..core import json as cjson
from ..core.crypto import PublicKeyError, encode_call_data_for_signing, verify
from ..core.errors import HolochainError, WorkflowError
from ..ribosome import runner
from ..ribosome.host_api import CallInfo, ZomeCallReply
from ..ribosome.ribosome import FunctionRef, ZomeFunctionFailure
from .workspace import Workspace

__all__ = ["CallZome", "InstanceError", "INSTANCE_ERROR_PREFIX"]

# how clients see an InstanceError (holochain-rust's words), in JSON-RPC errors and bridge failures
INSTANCE_ERROR_PREFIX = "Holochain Instance Error: "


class InstanceError(WorkflowError):
    """A zome call the instance refuses; shown to clients as
    ``Holochain Instance Error: <message>``."""


class CallZome:
    """Checks and runs zome calls over one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.dna_changed()

    def dna_changed(self) -> None:
        """Re-read what the DNA declares (its zome code was reloaded)."""
        # (zome, function) pairs the DNA declares
        dna = self.ws.dna
        self._declared = frozenset((zome, f["name"]) for zome, z in dna.zomes.items() for f in z["fn_declarations"])

    def declares(self, zome: str, function: str) -> bool:
        return (zome, function) in self._declared

    def check(
        self, zome: str, function: str, args: Any, token: str | None, provenance: list[str] | None
    ) -> tuple[FunctionRef, CallInfo]:
        """``validate_call``: raises :class:`HolochainError` in holochain-rust's kinds."""
        if not self.ws.ribosome.has_zome(zome):
            raise HolochainError.generic(f"Zome '{zome}' not found")
        fn = self.ws.ribosome.function(zome, function)
        if fn is None or (zome, function) not in self._declared:
            raise HolochainError.generic(f"Zome function '{function}' not found in Zome '{zome}'")
        if token is None:
            if self.ws.public_token is None:
                raise HolochainError.generic("Public token not found: No public CapTokenGrant entry type in chain")
            token = self.ws.public_token
        call = CallInfo(
            zome,
            function,
            token,
            provenance,
            None if provenance is not None else lambda: self._own_provenance(function, args),
            args,
        )
        if not self._capability_allows(call, args):
            raise HolochainError.capability_check_failed()
        return fn, call

    def call(
        self,
        zome: str,
        function: str,
        args: Any,
        *,
        token: str | None = None,
        provenance: list[str] | None = None,
    ) -> ZomeCallReply:
        """Check and run a call from a client; raises :class:`InstanceError`."""
        try:
            fn, call = self.check(zome, function, args, token, provenance)
        except HolochainError as exc:
            raise InstanceError(exc.display()) from None
        return self.run(fn, call)

    def run(self, fn: FunctionRef, call: CallInfo) -> ZomeCallReply:
        host = self.ws.zome_host(call.zome, call)
        try:
            outcome = self.ws.ribosome.call_function(
                fn, call.args, host, (self.ws.instance_id, call.zome, call.function)
            )
        except (ZomeFunctionFailure, runner.ZomeCallTimeout) as exc:
            raise InstanceError(f"Zome function failure: {exc}") from None
        if isinstance(outcome, runner.Pending):
            return self._finish_later(outcome, call)
        return self._reply(outcome, call)

    def _reply(self, value: Any, call: CallInfo) -> ZomeCallReply:
        """The result's JSON text, or (when the call wrote) a future of it that completes once
        what the call wrote is durable."""
        text = value if isinstance(value, cjson.RawJson) else cjson.dumps(value)
        if call.wrote:
            fut = self.ws.store.wait_durable(call.wrote, text)
            if fut is not None:
                return fut
        return text

    async def _finish_later(self, pending: runner.Pending, call: CallInfo) -> str:
        try:
            value = await pending.future
        except (ZomeFunctionFailure, runner.ZomeCallTimeout) as exc:
            raise InstanceError(f"Zome function failure: {exc}") from None
        result = self._reply(value, call)
        return result if isinstance(result, str) else await result

    def _own_provenance(self, function: str, args: Any) -> list[str]:
        args_json = "null" if args is None else cjson.dumps(args)
        return [self.ws.agent.address, self.ws.agent.sign(encode_call_data_for_signing(function, args_json))]

    def _capability_allows(self, call: CallInfo, args: Any) -> bool:
        """holochain-rust's ``validate_call``: a grant on this chain, or our own key."""
        if call.token == self.ws.public_token and (call.zome, call.function) in self.ws.public_functions:
            return True  # the public grant: open to everyone, the signature is not consulted
        grant = self.ws.chain.grants.get(call.token)
        if grant is not None:
            if call.function not in grant["functions"].get(call.zome, ()):
                return False
            if not self._call_signature_ok(call, args):
                return False
            assignees = grant["assignees"]
            return not assignees or call.provenance[0] in assignees
        if call.token == self.ws.agent.address:
            # holochain-rust accepted any valid signature here, from anyone, though an
            # agent's address is public; only the agent itself may use its own key.
            return call.provenance[0] == self.ws.agent.address and self._call_signature_ok(call, args)
        return False

    def _call_signature_ok(self, call: CallInfo, args: Any) -> bool:
        if call.made_by_conductor:
            return True  # made by this conductor for its own agent: trusted, not re-verified
        source, signature = call.provenance
        args_json = "null" if args is None else cjson.dumps(args)
        try:
            return verify(source, signature, encode_call_data_for_signing(call.function, args_json))
        except PublicKeyError:
            return False
