"""The one rule every configured id follows (instances, agents, DNAs, interfaces, UI bundles and
UI interfaces, bridge handles), and the one way an id becomes part of a path.

Ids come from configuration files and from admin clients; an admin client once made
``admin/instance/add`` create databases outside ``persistence_dir`` with an id of
``../../tmp/x``, put one in ``storage/`` itself with an empty id, and got a traceback for a NUL.
An id is 1 to :data:`MAX_ID_LENGTH` characters of ASCII letters, digits and ``- _ . : @ + ~``,
starting with a letter, digit or ``_``: what holochain-rust's tools write (``test-instance``,
tryorama's ``dna::uuid``), and never a path, an option or a hidden file.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["MAX_ID_LENGTH", "id_problem", "path_for_id"]

MAX_ID_LENGTH = 128
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+~-]*")


def id_problem(kind: str, value: object) -> str | None:
    """Why ``value`` is not a valid ``kind`` id (a message naming it), or None when it is."""
    if not isinstance(value, str):
        return f"{kind} id must be a string, not {type(value).__name__}"
    shown = repr(value) if len(value) <= 60 else repr(value[:60]) + f"… ({len(value)} characters)"
    if not value:
        return f"{kind} id must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"{kind} id {shown} is too long: at most {MAX_ID_LENGTH} characters"
    if not _ID.fullmatch(value):
        return (
            f"{kind} id {shown} is not allowed: use ASCII letters, digits and - _ . : @ + ~, "
            "starting with a letter, a digit or _"
        )
    return None


def path_for_id(base: Path, kind: str, value: str) -> Path:
    """``base/value`` for a checked id; ValueError (with :func:`id_problem`'s message) otherwise,
    or when the result would not be a direct child of ``base``."""
    problem = id_problem(kind, value)
    if problem is not None:
        raise ValueError(problem)
    path = base / value
    if path.parent != base or path.name != value:
        raise ValueError(f"{kind} id {value!r} does not name a file in {base}")
    return path
