"""Agent keys and signatures: Ed25519 keys named by HCID, base64 signatures.

An agent's address is its Ed25519 public key in HCID ``hcs0`` form.  Every
signature holochain-rust produces is a 64-byte detached Ed25519 signature in
standard padded base64, over the UTF-8 bytes of some text (an entry address,
or ``base64("<fn>:<args>")`` for a zome-call capability request).
"""

from __future__ import annotations

import base64
import binascii
import hashlib

import nacl.bindings
import nacl.exceptions

from . import hcid
from .errors import CoreError

__all__ = [
    "AgentKey",
    "PublicKeyError",
    "verify",
    "test_agent_seed",
    "encode_call_data_for_signing",
]


class PublicKeyError(CoreError, ValueError):
    """A public key or signature that cannot even be decoded."""


class AgentKey:
    """A signing key pair plus its HCID address; the secret never leaves it."""

    __slots__ = ("_secret", "seed", "address", "public_bytes")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self.seed = seed
        self.public_bytes, self._secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        self.address = hcid.encode(self.public_bytes)

    @classmethod
    def for_test_agent(cls, name: str) -> AgentKey:
        """The deterministic key holochain-rust gives a ``test_agent`` named ``name``."""
        return cls(test_agent_seed(name))

    def sign_bytes(self, data: bytes) -> bytes:
        # libsodium directly: PyNaCl's SigningKey.sign wraps the same call in objects (~2 µs a commit)
        return nacl.bindings.crypto_sign(data, self._secret)[:64]

    def sign(self, text: str) -> str:
        """Base64 Ed25519 signature over the UTF-8 of ``text``."""
        return base64.b64encode(self.sign_bytes(text.encode("utf-8"))).decode("ascii")

    def __repr__(self) -> str:  # never show the secret
        return f"AgentKey({self.address})"


def test_agent_seed(name: str) -> bytes:
    """holochain-rust's ``test_keystore``: the seed is SHA-256 of the name."""
    return hashlib.sha256(name.encode("utf-8")).digest()


def decode_signature(signature: str) -> bytes:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise PublicKeyError("signature is not valid base64") from None
    if len(raw) != 64:
        raise PublicKeyError("signature is not 64 bytes")
    return raw


def verify(address: str, signature: str, text: str) -> bool:
    """Check ``signature`` by agent ``address`` over ``text``.

    Returns False for a well-formed signature that does not verify, and raises
    :class:`PublicKeyError` when the key or the signature cannot be decoded,
    as holochain-rust's ``verify`` does.
    """
    try:
        public = hcid.decode(address)
    except (hcid.HcidError, UnicodeError) as exc:
        raise PublicKeyError(f"invalid public key {address!r}: {exc}") from None
    raw = decode_signature(signature)
    try:
        nacl.bindings.crypto_sign_open(raw + text.encode("utf-8"), public)
    except nacl.exceptions.BadSignatureError:
        return False
    except (nacl.exceptions.ValueError, nacl.exceptions.TypeError, ValueError) as exc:
        raise PublicKeyError(str(exc)) from None
    return True


def encode_call_data_for_signing(function: str, args_json: str) -> str:
    """What a zome-call capability request signs: ``base64("<fn>:<args>")``."""
    return base64.b64encode(f"{function}:{args_json}".encode()).decode("ascii")
