"""Signed envelopes: what every message between agents looks like on the wire.

An envelope is compact JSON ``{"space","from","to","kind","body","sig"}``;
``sig`` is the sender's Ed25519 signature over the canonical JSON of the
other fields, as sim2h's ``SignedWireMessage`` was.  A relay or a peer can
drop or delay messages but cannot make one appear to come from another
agent: :func:`open_envelope` refuses anything whose signature, sender key,
space or recipient does not check out.  (Entries and headers inside carry
their own signatures, which holders verify separately.)
"""

from __future__ import annotations

from typing import Any

from ..core import json as cjson
from ..core.crypto import AgentKey, PublicKeyError, verify
from ..core.errors import NetworkError

__all__ = ["seal_envelope", "open_envelope", "EnvelopeError", "MAX_MESSAGE_BYTES"]

# A bound on anything accepted from the network (the NATS default payload limit is 1 MiB;
# entries are limited far below this by the instance).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class EnvelopeError(NetworkError, ValueError):
    """A message that is malformed, forged or misaddressed; the text says which."""


def _signed_text(space: str, sender: str, to: str, kind: str, body: Any) -> str:
    return cjson.dumps({"space": space, "from": sender, "to": to, "kind": kind, "body": body})


def seal_envelope(key: AgentKey, space: str, to: str, kind: str, body: Any) -> bytes:
    text = _signed_text(space, key.address, to, kind, body)
    signature = key.sign(text)
    return cjson.dumps_bytes(
        {"space": space, "from": key.address, "to": to, "kind": kind, "body": body, "sig": signature}
    )


def open_envelope(data: bytes, *, space: str, to: str, sender: str | None = None) -> tuple[str, str, Any]:
    """Check an envelope; returns ``(from, kind, body)`` or raises :class:`EnvelopeError`."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise EnvelopeError(f"message of {len(data)} bytes exceeds the limit of {MAX_MESSAGE_BYTES}")
    try:
        value = cjson.loads(data)
    except cjson.JSONDecodeError:
        raise EnvelopeError("message is not JSON") from None
    if not isinstance(value, dict):
        raise EnvelopeError("message is not a JSON object")
    fields: dict[str, Any] = {k: value.get(k) for k in ("space", "from", "to", "kind", "sig")}
    if not all(isinstance(v, str) for v in fields.values()) or "body" not in value:
        raise EnvelopeError("message lacks space, from, to, kind, body or sig")
    if fields["space"] != space:
        raise EnvelopeError(f"message is for space {fields['space']}, not {space}")
    if fields["to"] != to:
        raise EnvelopeError(f"message is addressed to {fields['to']}, not {to}")
    if sender is not None and fields["from"] != sender:
        raise EnvelopeError(f"message claims to be from {fields['from']} but came from {sender}")
    text = _signed_text(space, fields["from"], to, fields["kind"], value["body"])
    try:
        ok = verify(fields["from"], fields["sig"], text)
    except PublicKeyError as exc:
        raise EnvelopeError(f"message signature cannot be checked: {exc}") from None
    if not ok:
        raise EnvelopeError(f"message signature does not verify for sender {fields['from']}")
    return fields["from"], fields["kind"], value["body"]
