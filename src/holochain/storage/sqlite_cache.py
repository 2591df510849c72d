"""What the SQLite store keeps in memory between the event loop and the disk.

A :class:`Group` is the batches of one transaction with their overlay (the
rows as :class:`.memory.Tables`, so reads see them before they are durable);
a :class:`Cache` bounds what was read from disk, in items or in characters.
"""

from __future__ import annotations

import collections
from typing import Any

from .base import WriteBatch
from .memory_store import Tables

__all__ = ["Group", "Cache"]


class Group:
    """Batches written in one transaction, and their overlay for reads until they are durable."""

    __slots__ = ("tables", "batches", "last_ticket")

    def __init__(self) -> None:
        self.tables = Tables(link_facts=True)
        self.batches: list[WriteBatch] = []
        self.last_ticket = 0


class Cache:
    """A mapping bounded in items or in the characters of its values; the oldest insertions go first."""

    __slots__ = ("items", "limit", "size", "by_size")

    def __init__(self, limit: int, *, by_size: bool) -> None:
        self.items: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self.limit = limit
        self.size = 0
        self.by_size = by_size

    def get(self, key: Any) -> Any:
        return self.items.get(key)

    def put(self, key: Any, value: Any) -> None:
        items = self.items
        if key in items:
            return
        cost = len(value) if self.by_size else 1
        if cost > self.limit:
            return
        items[key] = value
        self.size += cost
        while self.size > self.limit:
            _, old = items.popitem(last=False)
            self.size -= len(old) if self.by_size else 1

    def drop(self, key: Any) -> None:
        value = self.items.pop(key, None)
        if value is not None:
            self.size -= len(value) if self.by_size else 1
