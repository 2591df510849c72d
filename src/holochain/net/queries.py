"""Queries: gets, link queries, direct messages and validation packages.

A get asks the holders of its basis nearest first, two at a time and only
the nearest few, within the caller's timeout; "no holder has it" (``None``)
is told apart from "nobody answered in time" (:class:`RequestTimeout`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .node_base import NodeBase
from .switchboard import NetworkError, RequestTimeout

__all__ = ["Queries", "DirectMessageError"]

log = logging.getLogger(__name__)

_QUERY_FANOUT = 2
_QUERY_MAX = 6  # holders asked at most (with full sync every member holds; the nearest few suffice)


class DirectMessageError(NetworkError):
    """The recipient could not answer a direct message (its reason is the text)."""


class Queries(NodeBase):
    """The query side of :class:`~.dht.DhtNode` (a mixin)."""

    async def _ask_holders(self, basis: str, kind: str, body: Any, timeout: float, found: Any) -> Any:
        """Ask holders of ``basis`` nearest first, two at a time (the nearest few only), each for
        at most the network's request timeout; while time remains, holders that did not answer
        are asked again.  The first answer ``found`` accepts wins."""
        candidates = self.holders(basis)[: max(self.network.redundancy, _QUERY_MAX)]
        if not candidates:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        answered = timed_out = False
        while candidates:
            silent = []
            for start in range(0, len(candidates), _QUERY_FANOUT):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    if timed_out and not answered:
                        raise RequestTimeout(f"no holder of {basis} answered within {timeout:g}s")
                    return None
                wave = candidates[start : start + _QUERY_FANOUT]
                each = min(remaining, self.network.request_timeout)
                replies = await asyncio.gather(
                    *(self.request(c, kind, body, each) for c in wave), return_exceptions=True
                )
                for candidate, reply in zip(wave, replies):
                    if isinstance(reply, RequestTimeout):
                        timed_out = True
                        silent.append(candidate)
                    elif isinstance(reply, BaseException):
                        if not isinstance(reply, NetworkError):
                            raise reply
                        log.debug("%s: %s query failed: %s", self.agent[:12], kind, reply)
                    else:
                        answered = True
                        value = found(reply)
                        if value is not None:
                            return value
            if answered or not silent:
                break
            candidates = silent  # nobody answered yet: ask again those that were silent
        if timed_out and not answered:
            raise RequestTimeout(f"no holder of {basis} answered within {timeout:g}s")
        return None

    async def get_entry(self, address: str, timeout: float) -> dict[str, Any] | None:
        """The record a holder keeps for ``address`` (see ``answer_entry``), or ``None``."""
        return await self._ask_holders(
            address,
            "get_entry",
            {"address": address},
            timeout,
            lambda reply: reply.get("record") if isinstance(reply, dict) else None,
        )

    async def get_links(self, base: str, query: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """A holder's answer for links on ``base``; ``None`` if no holder holds the base."""
        return await self._ask_holders(
            base,
            "get_links",
            {"base": base, "query": query},
            timeout,
            lambda reply: reply.get("answer") if isinstance(reply, dict) else None,
        )

    async def send_direct(self, to: str, zome: str, payload: str, timeout: float) -> str:
        if to == self.agent:
            return await self.handler.receive_direct(self.agent, zome, payload)
        reply = await self.request(to, "direct", {"zome": zome, "payload": payload}, timeout)
        if isinstance(reply, dict) and isinstance(reply.get("ok"), str):
            return reply["ok"]
        if isinstance(reply, dict) and isinstance(reply.get("err"), str):
            raise DirectMessageError(reply["err"])
        raise NetworkError(f"malformed reply to a direct message from {to}")

    async def get_validation_package(self, author: str, header_address: str, timeout: float) -> dict[str, Any] | None:
        if author == self.agent:
            return self.handler.validation_package(header_address)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:  # idempotent: asked again, within the time allowed, if an answer is lost
            each = max(0.001, min(deadline - loop.time(), self.network.request_timeout))
            try:
                reply = await self.request(author, "validation_package", {"header_address": header_address}, each)
                break
            except RequestTimeout:
                if deadline - loop.time() <= 0:
                    raise
        package = reply.get("package") if isinstance(reply, dict) else None
        return package if isinstance(package, dict) else None
