"""The entries validation refused lately, and why: what the dashboard shows an operator.

Both validations note here: the author's, when a zome commits an entry its
DNA refuses (the zome gets ``{"Err": …}``), and a holder's, when a peer
sends an op that fails sys or app validation.  Bounded: the latest
:data:`KEPT` refusals, and a count of all of them.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass

__all__ = ["ValidationFailure", "ValidationLog", "KEPT"]

KEPT = 200


@dataclass(frozen=True, slots=True)
class ValidationFailure:
    seq: int
    at: float  # seconds since the epoch
    address: str
    entry_type: str
    where: str  # "committed here" | "held for a peer"
    reason: str


class ValidationLog:
    def __init__(self) -> None:
        self.count = 0
        self.recent: collections.deque[ValidationFailure] = collections.deque(maxlen=KEPT)

    def note(self, address: str, entry_type: str, holding: bool, reason: str) -> None:
        """Validation refused an entry (``holding``: one a peer sent us, else one of our commits)."""
        self.count += 1
        where = "held for a peer" if holding else "committed here"
        self.recent.append(ValidationFailure(self.count, time.time(), address, entry_type, where, reason[:1000]))

    def since(self, seq: int) -> list[ValidationFailure]:
        return [f for f in self.recent if f.seq > seq]
