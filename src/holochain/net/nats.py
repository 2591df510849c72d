"""The NATS switchboard: conductors in different processes and machines share a DHT
through a NATS server or cluster — the role holochain-rust's sim2h relay played,
on a proven engine (``nats-server``; client ``nats-py``).

One connection per conductor.  In each space (a DNA address) an agent has
an inbox subject ``hc.<space>.agent.<agent>``; a request is a NATS request
to it (``hc-from`` header: the sender), answered by the agent's node.  The
relay tells "nobody is subscribed" (:class:`Unreachable`, from NATS's
no-responders status) apart from "no answer in time"
(:class:`RequestTimeout`).  Agents of one conductor reach each other
directly, relay or no relay.

Nothing is broadcast.  Who is in a space the DHT learns itself, from
signed agent records spread by its gossip rounds (:mod:`.peers`); the relay
only adds two things: a request for *any one* member of a space (a queue
group on ``hc.<space>.any``, so a newcomer's bootstrap reaches one random
member, never all), and NATS's no-responders status, which tells at once
that an agent is not subscribed (:class:`Unreachable`: killed, gone, cut
off).  The connection is made with ``no_echo``, so a conductor's requests
never come back to itself.  Agents of one conductor see each other join and
leave directly.  No JetStream is needed: a plain ``nats-server`` (or a
cluster; clients fail over between the servers listed) is enough.

The conductor starts, and serves local calls, even when no server can be
reached: the connection is retried in the background (with backoff, as
long as the conductor runs); until it is up an agent sees only the agents
of its own conductor, and when it comes up bootstrap and gossip catch up;
requests made meanwhile fail with :class:`Offline` (nobody is marked gone
for it).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

from .switchboard import Inbox, NetworkError, Offline, RequestTimeout, Unreachable

__all__ = ["NatsSwitchboard", "NatsOptions"]

log = logging.getLogger(__name__)

_SUBJECT_TOKEN = re.compile(r"[A-Za-z0-9_\-]+")
_FROM = "hc-from"
_MAX_INBOUND = 1024  # requests being answered at once; more are dropped (their senders time out)
ANYONE = "*"


@dataclass
class NatsOptions:
    """How to reach and authenticate to the relay (``[network]`` keys, see :mod:`.network_config`)."""

    servers: list[str]
    heartbeat: float = 1.0  # the connection to the relay is pinged every 4 heartbeats (at least 2 s)
    presence_ttl: float = 0.0  # kept for old configurations (presence is no longer broadcast)
    connect_timeout: float = 2.0
    reconnect_wait: float = 0.5
    user: str | None = None
    password: str | None = None
    token: str | None = None
    credentials: str | None = None  # a .creds file (JWT + nkey seed); needs the `nkeys` package
    nkey_seed: str | None = None  # a file holding an nkey seed; needs the `nkeys` package
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_hostname: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ttl(self) -> float:
        return self.presence_ttl if self.presence_ttl > 0 else 3.5 * self.heartbeat

    def tls_context(self) -> ssl.SSLContext | None:
        if not (self.tls_ca_file or self.tls_cert_file):
            return None
        context = ssl.create_default_context(cafile=self.tls_ca_file)
        if self.tls_cert_file:
            context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
        return context


def _relay_errors() -> tuple[type[BaseException], ...]:
    """What nats-py raises when the connection is going or gone (imported only when used)."""
    import nats.errors

    return (nats.errors.Error, OSError, asyncio.TimeoutError)


def _token(value: str) -> str:
    """A string as one NATS subject token (ids are base58/base32 already; anything else is hashed)."""
    if _SUBJECT_TOKEN.fullmatch(value) and len(value) <= 128:
        return value
    return "x" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


class _Space:
    def __init__(self, space: str) -> None:
        self.space = space
        self.token = _token(space)
        self.local: dict[str, Inbox] = {}
        self.inbox_subs: dict[str, Any] = {}
        self.any_sub: Any = None

    def agent_subject(self, agent: str) -> str:
        return f"hc.{self.token}.agent.{_token(agent)}"

    @property
    def any_subject(self) -> str:
        return f"hc.{self.token}.any"


class NatsSwitchboard:
    """A switchboard over a NATS relay (see the module docstring)."""

    announces_all = False  # it reports only this conductor's agents; the DHT learns the rest

    def __init__(self, options: NatsOptions, *, name: str = "nats") -> None:
        if not options.servers:
            raise ValueError("a NATS network needs at least one server URL")
        self.name = name
        self.options = options
        self.max_message_bytes = 1024 * 1024  # NATS's default max_payload, until the server says
        self._random = random.Random()
        self._spaces: dict[str, _Space] = {}
        self._nc: Any = None
        self._connected = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sending: set[asyncio.Task[Any]] = set()  # notifications (goodbyes) not yet handed to the client
        self._inbound = 0
        self._runner: asyncio.Task[None] | None = None
        self._closed = False
        self._last_error: str | None = None

    # -- the connection ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def server(self) -> str | None:
        """The URL of the server the connection is on now (``None`` while disconnected)."""
        nc = self._nc
        return nc.connected_url.geturl() if nc is not None and self.connected and nc.connected_url else None

    def _start(self) -> None:
        if self._runner is None and not self._closed:
            self._runner = asyncio.ensure_future(self._run())
            self._runner.add_done_callback(self._runner_done)

    def _runner_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "network '%s' stopped: %s: %s",
                self.name,
                type(task.exception()).__name__,
                task.exception(),
                exc_info=task.exception(),
            )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("network '%s': %r", self.name, task.exception(), exc_info=task.exception())

    async def _run(self) -> None:
        from nats.aio.client import Client as NatsClient

        opts = self.options
        kwargs: dict[str, Any] = dict(
            servers=opts.servers,
            name=f"holochain-py {self.name}",
            allow_reconnect=True,
            no_echo=True,
            dont_randomize=True,  # the servers are tried in the order given (the first is the nearest)
            max_reconnect_attempts=-1,
            reconnect_time_wait=opts.reconnect_wait,
            connect_timeout=opts.connect_timeout,
            ping_interval=max(2, int(opts.heartbeat * 4)),
            max_outstanding_pings=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            closed_cb=self._on_closed,
        )
        for key, value in (
            ("user", opts.user),
            ("password", opts.password),
            ("token", opts.token),
            ("user_credentials", opts.credentials),
            ("nkeys_seed", opts.nkey_seed),
            ("tls", opts.tls_context()),
            ("tls_hostname", opts.tls_hostname),
        ):
            if value is not None:
                kwargs[key] = value
        kwargs.update(opts.extra)
        log.info("network '%s': connecting to %s", self.name, ", ".join(opts.servers))
        nc = NatsClient()
        try:
            await nc.connect(**kwargs)  # retries until a server answers (or we are closed)
        except BaseException:
            # a client that never connected still holds its transport (for ws:// an aiohttp session)
            await asyncio.shield(_close_quietly(nc))
            raise
        self._nc = nc
        self.max_message_bytes = self._nc.max_payload
        log.info("network '%s': connected to %s", self.name, self._nc.connected_url.geturl())
        for space in list(self._spaces.values()):
            await self._subscribe_space(space)
        self._connected.set()
        self._tell_reconnected()

    async def _on_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text != self._last_error:  # the client retries forever; say each new reason once
            self._last_error = text
            log.warning("network '%s': %s", self.name, text)

    async def _on_disconnected(self) -> None:
        if not self._closed:
            self._connected.clear()
            log.warning("network '%s': disconnected from the relay; reconnecting", self.name)

    async def _on_reconnected(self) -> None:
        self._last_error = None
        log.info("network '%s': reconnected to %s", self.name, self._nc.connected_url.geturl())
        for space in list(self._spaces.values()):
            await self._subscribe_space(space)
        self._connected.set()
        self._tell_reconnected()

    def _tell_reconnected(self) -> None:
        for space in list(self._spaces.values()):
            for inbox in list(space.local.values()):
                callback = getattr(inbox, "on_reconnected", None)
                if callback is not None:
                    callback()

    async def _on_closed(self) -> None:
        self._connected.clear()

    async def close(self) -> None:
        """Let what is queued (goodbyes) go out, then close the connection."""
        if self._closed:
            return
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=2)
        nc = self._nc
        if nc is not None and self.connected:
            try:
                await asyncio.wait_for(nc.flush(), 2)
            except _relay_errors() as exc:
                log.debug("network '%s': flushing before close: %s", self.name, exc)
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.wait([self._runner], timeout=5)  # it closes a connection still being made
        for task in list(self._tasks):
            task.cancel()
        nc, self._nc = self._nc, None
        self._connected.clear()
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.close(), 5)
            except (TimeoutError, OSError) as exc:
                log.warning("network '%s': closing the connection: %s", self.name, exc)

    # -- membership ------------------------------------------------------------------------------

    async def join(self, space_id: str, agent: str, inbox: Inbox) -> None:
        if self._closed:
            raise NetworkError(f"network '{self.name}' is closed")
        space = self._spaces.get(space_id)
        if space is None:
            space = self._spaces[space_id] = _Space(space_id)
        if agent in space.local:
            raise ValueError(f"agent {agent} is already in space {space_id} on network '{self.name}'")
        others = list(space.local.items())
        space.local[agent] = inbox
        for other, other_inbox in others:
            inbox.on_membership("join", other)
            other_inbox.on_membership("join", agent)
        self._start()
        if self.connected:
            await self._subscribe_space(space)

    def leave(self, space_id: str, agent: str) -> None:
        space = self._spaces.get(space_id)
        if space is None or agent not in space.local:
            return
        space.local.pop(agent)
        for other_inbox in list(space.local.values()):
            other_inbox.on_membership("leave", agent)
        subs = [space.inbox_subs.pop(agent, None)]
        if not space.local:
            del self._spaces[space_id]
            subs.append(space.any_sub)
            space.any_sub = None
        if self.connected and not self._closed:
            self._spawn(self._unsubscribe([sub for sub in subs if sub is not None]))

    async def _unsubscribe(self, subs: list[Any]) -> None:
        for sub in subs:
            try:
                await sub.unsubscribe()
            except _relay_errors() as exc:
                log.debug("network '%s': unsubscribing: %s", self.name, exc)

    def members(self, space_id: str, viewer: str | None = None) -> list[str]:
        """The agents of this conductor in the space (the DHT learns the others itself)."""
        space = self._spaces.get(space_id)
        return list(space.local) if space is not None else []

    async def _subscribe_space(self, space: _Space) -> None:
        nc = self._nc
        if space.any_sub is None:
            space.any_sub = await nc.subscribe(
                space.any_subject, queue="any", cb=functools.partial(self._on_request, space, None)
            )
        for agent in list(space.local):
            if agent not in space.inbox_subs:
                space.inbox_subs[agent] = await nc.subscribe(
                    space.agent_subject(agent), cb=functools.partial(self._on_request, space, agent)
                )

    # -- requests --------------------------------------------------------------------------------

    async def request(self, space_id: str, sender: str, to: str, data: bytes, timeout: float) -> bytes:
        if not isinstance(data, bytes):
            raise TypeError("only bytes cross a switchboard")
        space = self._spaces.get(space_id)
        if space is None or sender not in space.local:
            raise Unreachable(f"agent {sender} is not in space {space_id} on network '{self.name}'")
        local = space.local.get(to)
        if local is not None and to != sender:  # an agent of this conductor: no relay needed
            task = asyncio.ensure_future(local.on_message(sender, data))
            self._tasks.add(task)
            task.add_done_callback(self._task_done)
            try:
                return await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                raise RequestTimeout(f"no reply from {to} within {timeout:g}s") from None
        if len(data) > self.max_message_bytes:
            raise NetworkError(
                f"a message of {len(data)} bytes exceeds the relay's limit of "
                f"{self.max_message_bytes} (the server's max_payload)"
            )
        import nats.errors

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not self.connected:  # failing over: wait for the connection, within the time allowed
            try:
                await asyncio.wait_for(self._connected.wait(), timeout)
            except TimeoutError:
                raise Offline(f"not connected to the relay of network '{self.name}' within {timeout:g}s") from None
        nc = self._nc
        if nc is None:
            raise Unreachable(f"network '{self.name}' is closed")
        subject = space.any_subject if to == ANYONE else space.agent_subject(to)
        try:
            msg = await nc.request(subject, data, timeout=max(0.001, deadline - loop.time()), headers={_FROM: sender})
        except nats.errors.NoRespondersError:
            who = "nobody else is in the space" if to == ANYONE else f"agent {to} is not subscribed"
            raise Unreachable(f"{who} on network '{self.name}'") from None
        except nats.errors.TimeoutError:
            raise RequestTimeout(f"no reply from {to} within {timeout:g}s") from None
        except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError) as exc:
            raise Offline(f"network '{self.name}': {type(exc).__name__}: {exc}") from None
        except (nats.errors.OutboundBufferLimitError, nats.errors.MaxPayloadError) as exc:
            raise NetworkError(f"network '{self.name}': {type(exc).__name__}: {exc}") from None
        return msg.data

    def notify(self, space_id: str, sender: str, to: str, data: bytes) -> None:
        """Publish to ``to``'s inbox without a reply subject (best effort; queued while connected)."""
        space = self._spaces.get(space_id)
        if space is None or sender not in space.local or len(data) > self.max_message_bytes:
            return
        local = space.local.get(to)
        if local is not None:
            self._spawn(local.on_message(sender, data))
            return
        nc = self._nc
        if nc is not None and self.connected:
            task = asyncio.ensure_future(self._publish(space.agent_subject(to), data, sender))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _publish(self, subject: str, data: bytes, sender: str) -> None:
        try:
            await self._nc.publish(subject, data, headers={_FROM: sender})
        except _relay_errors() as exc:
            log.debug("network '%s': could not send to %s: %s", self.name, subject, exc)

    async def _on_request(self, space: _Space, agent: str | None, msg: Any) -> None:
        # answered in its own task: one slow request never holds up the others
        if self._inbound >= _MAX_INBOUND:
            log.warning(
                "network '%s': %d requests are being answered; dropped one for %s",
                self.name,
                self._inbound,
                (agent or "any member")[:12],
            )
            return
        self._inbound += 1
        self._spawn(self._answer(space, agent, msg))

    async def _answer(self, space: _Space, agent: str | None, msg: Any) -> None:
        try:
            if agent is None:  # a request to any member: one of ours answers
                agent = self._random.choice(sorted(space.local)) if space.local else ""
            inbox = space.local.get(agent)
            sender = (msg.headers or {}).get(_FROM)
            if inbox is None or not sender:
                return
            reply = await inbox.on_message(sender, msg.data)
            if not msg.reply:  # a notification: nobody waits for the answer
                return
            try:
                await msg.respond(reply)
            except _relay_errors() as exc:  # the connection went away; the requester times out
                log.debug("network '%s': could not answer %s: %s", self.name, sender[:12], exc)
        finally:
            self._inbound -= 1

    def __repr__(self) -> str:
        return f"NatsSwitchboard({self.name!r}, {', '.join(self.options.servers)})"


async def _close_quietly(nc: Any) -> None:
    try:
        await asyncio.wait_for(nc.close(), 5)
    except Exception as exc:  # closing what never opened: nothing to report beyond debug
        log.debug("closing a NATS client that never connected: %r", exc)
