"""Text the way Rust's ``{:?}`` (Debug) writes it.

Some holochain-rust error messages embed Debug output — of a string
(``PublicInstanceIdentifier("app")``) or of a struct (``Link { base: … }``) —
and clients match those messages, so they are reproduced exactly.
"""

from __future__ import annotations

__all__ = ["rust_debug_str"]


def rust_debug_str(text: str) -> str:
    """A string as Rust's ``{:?}`` writes it: quoted, escapes for quotes, backslash and controls."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            out.append("\\0")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
