"""What an instance stores, and the one write path every store implements.

One store per instance holds both halves of holochain-rust's state:

* the **source chain**: headers in order (``seq`` 0 is the Dna header), and
* the **DHT shard**: the content-addressed entries this agent holds (its own,
  private ones included, and those it holds for others), the headers it holds
  per entry, the CRUD state of each address, the links of each base, and EAV
  metadata (what else the shard marks).

**State, not logs, where reads would otherwise grow with use.**  An entry
committed again, or held for a thousand agents, gets a CRUD fact each time,
and a base gets a link fact per link: reading every fact on every validation
made the cost of a call grow with the data.  So a store keeps, per address,
one :class:`CrudState` (the strongest status, and the crud link of the
earliest update: all ``get_entry`` needs, see :mod:`holochain.core.crud`),
and per base and LinkAdd one current :class:`LinkFact` (the add, or the tombstone that won),
ordered by index with counts per type and tag, so a page of ``get_links``, a
count, or the links to one target cost the same whatever the base holds.
Facts are merged on write by :func:`merge_crud` and :func:`merge_link`, which
are commutative: batches may be applied in any grouping with the same result.

Every change goes through :meth:`Store.write` as one :class:`WriteBatch`, which
is applied atomically (the batch then belongs to the store: do not change it).  ``write`` returns a *ticket*; the batch is durable once
``durable_ticket >= ticket``.  Reads always see every batch already written,
durable or not, so the instance never waits on the disk to read its own writes,
and a reply waits only for the tickets of what it wrote (group commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..core.errors import StorageError

__all__ = [
    "WriteBatch",
    "Store",
    "StorageError",
    "ChainRow",
    "EavRow",
    "CrudFact",
    "CrudState",
    "LinkFact",
    "STATUS_RANK",
    "RANK_STATUS",
    "merge_crud",
    "merge_link",
    "link_key_matches",
]


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One source-chain record as stored: its position, its header (address and JSON text), and its
    entry's address and type."""

    seq: int
    header_address: str
    header: str  # header JSON text
    entry_address: str
    entry_type: str  # string form: post, %agent_id …


@dataclass(frozen=True, slots=True)
class EavRow:
    """One metadata fact: ``(entity, attribute, value)`` ordered by ``index`` (ns)."""

    entity: str
    attribute: str
    value: str
    index: int


STATUS_RANK = {"live": 1, "modified": 2, "deleted": 3}  # deleted > modified > live
RANK_STATUS = {v: k for k, v in STATUS_RANK.items()}


@dataclass(frozen=True, slots=True)
class CrudFact:
    """One CRUD fact about ``address``: it is held (``live``), updated (``modified``, with
    ``link`` the new version) or deleted, at ``index`` (ns)."""

    address: str
    status: str  # one of STATUS_RANK
    link: str | None
    index: int


@dataclass(frozen=True, slots=True)
class CrudState:
    """What an address's CRUD facts add up to: the strongest status seen (rank, 0 if none)
    and the crud link of the earliest update (ties: the smaller address)."""

    rank: int
    link: str | None = None
    link_index: int = 0

    @property
    def status(self) -> str | None:
        return RANK_STATUS.get(self.rank)


def merge_crud(state: CrudState | None, fact: CrudFact) -> CrudState:
    rank = STATUS_RANK.get(fact.status, 0)
    if state is None:
        return CrudState(rank, fact.link, fact.index if fact.link is not None else 0)
    link, link_index = state.link, state.link_index
    if fact.link is not None and (link is None or (fact.index, fact.link) < (link_index, link)):
        link, link_index = fact.link, fact.index
    return CrudState(max(rank, state.rank), link, link_index)


@dataclass(frozen=True, slots=True)
class LinkFact:
    """A link fact at a base: a LinkAdd (``removed_by`` None, ``target`` its target) or a
    tombstone of one (``removed_by`` the LinkRemove, ``index`` the removal time).  As a
    current state: the add, or the latest tombstone, which wins over it (holochain-rust's
    latest-per-LinkAdd rule); ``target`` is None while only a tombstone is held."""

    base: str
    link_add: str
    link_type: str
    tag: str
    target: str | None
    index: int
    removed_by: str | None = None

    @property
    def utag(self) -> str:
        return self.tag.upper()  # tags match ignoring case


def merge_link(state: LinkFact | None, fact: LinkFact) -> LinkFact:
    if state is None:
        return fact
    target = state.target if state.target is not None else fact.target
    if fact.removed_by is not None and (state.removed_by is None or fact.index > state.index):
        return replace(fact, target=target)
    return state if target is state.target else replace(state, target=target)


def link_key_matches(fact: LinkFact, link_type: str | None, utag: str | None) -> bool:
    return (link_type is None or fact.link_type == link_type) and (utag is None or fact.utag == utag)


@dataclass(slots=True)
class WriteBatch:
    """Rows to add in one atomic step."""

    chain: list[ChainRow] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)  # address -> entry JSON text
    headers: list[tuple[str, str, str]] = field(default_factory=list)  # entry, header address, header
    eav: list[EavRow] = field(default_factory=list)
    kv: dict[str, str] = field(default_factory=dict)
    crud: list[CrudFact] = field(default_factory=list)
    links: list[LinkFact] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.chain or self.contents or self.headers or self.eav or self.kv or self.crud or self.links)


class Store(Protocol):
    """The storage of one instance (see the module docstring)."""

    durable_ticket: int

    # -- writing ---------------------------------------------------------------
    def write(self, batch: WriteBatch) -> int: ...
    def wait_durable(self, ticket: int, result: Any = None) -> asyncio.Future[Any] | None:
        """None if ``ticket`` is durable, else a future that completes with ``result`` once it is."""
        ...

    # -- chain -----------------------------------------------------------------
    def chain_length(self) -> int: ...
    def chain_rows(self, start: int = 0) -> Iterator[ChainRow]: ...
    def chain_row(self, seq: int) -> ChainRow | None: ...
    def chain_seq(self, header_address: str) -> int | None: ...
    def chain_records(self, start: int = 0, end: int | None = None) -> Iterator[tuple[ChainRow, str | None]]:
        """Chain rows with their entry's content (``None`` if missing), in order (for loading)."""
        ...

    # -- content and shard -----------------------------------------------------
    def get_content(self, address: str) -> str | None: ...
    def held_headers(self, entry_address: str) -> list[str]: ...
    def eav(self, entity: str, attribute_prefix: str = "") -> list[EavRow]: ...
    def eav_any(self, entity: str, attribute_prefix: str = "") -> bool:
        """Whether ``entity`` has any row under ``attribute_prefix`` (without reading them all)."""
        ...

    def crud(self, address: str) -> CrudState | None: ...

    # -- links (current state per LinkAdd; see the module docstring) -----------
    def link_page(
        self,
        base: str,
        link_type: str | None,
        tag: str | None,
        *,
        descending: bool = True,
        offset: int = 0,
        limit: int | None = None,
        after_index: int | None = None,
    ) -> list[LinkFact]:
        """Current link states of ``base`` matching type (exactly) and tag (ignoring case; None:
        any), ordered by ``(index, link_add)``, from ``offset``, at most ``limit``, only those
        with an index above ``after_index`` if given."""
        ...

    def link_count(self, base: str, link_type: str | None, tag: str | None) -> tuple[int, int]:
        """``(live, deleted)`` links of ``base`` matching type and tag whose LinkAdd is held."""
        ...

    def links_to(self, base: str, target: str) -> list[LinkFact]: ...
    def kv_get(self, key: str) -> str | None: ...
    def held_counts(self) -> tuple[int, int]: ...  # (entries held, headers held), for InstanceStats

    def close(self) -> None: ...
