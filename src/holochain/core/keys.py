"""An agent's named secrets: seeds, signing keys and encryption keys.

holochain-rust gives every agent a keystore of named secrets.  A test
agent's starts with ``root_seed`` (SHA-256 of the agent name) and the
*primary key bundle* derived from it: ``primary_keybundle:sign_key`` (an
Ed25519 key pair, the agent's address) and ``primary_keybundle:enc_key`` (an
X25519 key pair from libsodium's ``crypto_kx_seed_keypair``).  Zome code
adds more through the keystore API: random seeds, seeds derived with
libsodium's ``crypto_kdf`` (BLAKE2b keyed by the parent seed, salted with the
little-endian index, personalised with an 8-byte context) and key pairs
derived from seeds (``crates/conductor_lib/src/keystore.rs``,
``crates/dpki/src/{keypair.rs,utils.rs}``).

``encrypt``/``decrypt`` are libsodium's XChaCha20-Poly1305-IETF AEAD keyed
with the agent's *own* encryption secret key, written as
``base64(ciphertext || nonce)``: only the agent that encrypted can decrypt.
(holochain-rust ignores the AEAD's failure and hands back a zeroed buffer;
here a failed decryption is an error that says so.)

Everything here is in memory and deterministic given the seeds; files and
passphrases are the conductor's business.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions

from . import hcid
from .crypto import AgentKey
from .errors import CoreError
from .randomness import RandomSource, system_random

__all__ = [
    "AgentKeystore",
    "KeystoreError",
    "kdf_derive",
    "EncryptionKey",
    "sign_one_time",
    "ROOT_SEED",
    "PRIMARY_KEYBUNDLE",
    "SIGN_KEY_ID",
    "ENC_KEY_ID",
]

ROOT_SEED = "root_seed"
PRIMARY_KEYBUNDLE = "primary_keybundle"
SIGN_KEY_ID = PRIMARY_KEYBUNDLE + ":sign_key"
ENC_KEY_ID = PRIMARY_KEYBUNDLE + ":enc_key"
SEED_SIZE = 32
CONTEXT_SIZE = 8
_NONCE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_MAX_RANDOM_SEED = 1024


class KeystoreError(CoreError):
    """A keystore operation holochain-rust would refuse; the text is its message."""


def kdf_derive(parent: bytes, index: int, context: bytes, size: int = SEED_SIZE) -> bytes:
    """libsodium ``crypto_kdf_derive_from_key`` (the BLAKE2b construction)."""
    if index < 1:
        raise KeystoreError("Invalid index")
    if len(context) != CONTEXT_SIZE:
        raise KeystoreError("`context` has to be 8 bytes")
    if not 16 <= size <= 64:
        raise KeystoreError(f"Invalid 'out' Buffer length:{size}")
    if len(parent) != 32:
        raise KeystoreError("source seed must be 32 bytes")
    return hashlib.blake2b(b"", digest_size=size, key=parent, salt=index.to_bytes(8, "little"), person=context).digest()


class EncryptionKey:
    """An X25519 key pair derived from a seed (``crypto_kx_seed_keypair``)."""

    __slots__ = ("_random", "_secret", "public_bytes", "address")

    def __init__(self, seed: bytes, random: RandomSource = system_random) -> None:
        if len(seed) != SEED_SIZE:
            raise KeystoreError("a key seed is 32 bytes")
        public, secret = nacl.bindings.crypto_kx_seed_keypair(seed)
        self._random = random  # the nonces
        self._secret = secret
        self.public_bytes = public
        self.address = hcid.encode(public, hcid.ENCRYPTING_KIND)

    def encrypt(self, plaintext: str) -> str:
        nonce = self._random(_NONCE)
        cipher = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext.encode("utf-8"), None, nonce, self._secret
        )
        return base64.b64encode(cipher + nonce).decode("ascii")

    def decrypt(self, payload: str) -> str:
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise KeystoreError("the payload to decrypt is not base64") from None
        if len(raw) < _NONCE + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES:
            raise KeystoreError("the payload to decrypt is too short to be a ciphertext")
        cipher, nonce = raw[:-_NONCE], raw[-_NONCE:]
        try:
            plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(cipher, None, nonce, self._secret)
        except nacl.exceptions.CryptoError:
            raise KeystoreError(
                "decryption failed: the payload was not encrypted with this agent's key (or was altered)"
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise KeystoreError("the decrypted payload is not UTF-8") from None

    def __repr__(self) -> str:
        return f"EncryptionKey({self.address})"


@dataclass(frozen=True)
class _Secret:
    kind: str  # "seed" | "signing" | "encrypting"
    seed: bytes


def sign_one_time(payloads: list[str], random: RandomSource = system_random) -> dict[str, object]:
    """Sign each payload with a fresh random key that is then forgotten."""
    key = AgentKey(random(SEED_SIZE))
    return {"pub_key": key.address, "signatures": [key.sign(p) for p in payloads]}


class AgentKeystore:
    """One agent's named secrets, as holochain-rust's ``Keystore`` holds them."""

    def __init__(self, root_seed: bytes, random: RandomSource = system_random) -> None:
        if len(root_seed) != SEED_SIZE:
            raise KeystoreError("a root seed is 32 bytes")
        self._random = random  # random seeds and encryption nonces
        self._secrets: dict[str, _Secret] = {ROOT_SEED: _Secret("seed", root_seed)}
        self._signing: dict[str, AgentKey] = {}
        self._encrypting: dict[str, EncryptionKey] = {}
        self.add_key_from_seed(ROOT_SEED, SIGN_KEY_ID, "signing")
        self.add_key_from_seed(ROOT_SEED, ENC_KEY_ID, "encrypting")

    @classmethod
    def for_agent(cls, agent: AgentKey, random: RandomSource = system_random) -> AgentKeystore:
        return cls(agent.seed, random)

    @property
    def agent_key(self) -> AgentKey:
        return self._signing[SIGN_KEY_ID]

    @property
    def encryption_key(self) -> EncryptionKey:
        return self._encrypting[ENC_KEY_ID]

    # -- holochain-rust's operations ---------------------------------------------------

    def list(self) -> list[str]:
        return sorted(self._secrets)

    def _check_dst(self, dst_id: str) -> None:
        if dst_id in self._secrets:
            raise KeystoreError("identifier already exists")

    def _get(self, src_id: str) -> _Secret:
        secret = self._secrets.get(src_id)
        if secret is None:
            raise KeystoreError("unknown source identifier")
        return secret

    def add_random_seed(self, dst_id: str, size: int) -> None:
        self._check_dst(dst_id)
        if not 1 <= size <= _MAX_RANDOM_SEED:
            raise KeystoreError(f"seed size must be between 1 and {_MAX_RANDOM_SEED} bytes")
        self._secrets[dst_id] = _Secret("seed", self._random(size))

    def add_seed_from_seed(self, src_id: str, dst_id: str, context: str, index: int) -> None:
        self._check_dst(dst_id)
        source = self._get(src_id)
        if source.kind != "seed":
            raise KeystoreError("source secret is not a root seed")
        derived = kdf_derive(source.seed, index, context.encode("utf-8"))
        self._secrets[dst_id] = _Secret("seed", derived)

    def add_key_from_seed(self, src_id: str, dst_id: str, key_type: str) -> str:
        """Derive a key pair; ``key_type`` is ``signing`` or ``encrypting``.  Returns the public key."""
        self._check_dst(dst_id)
        source = self._get(src_id)
        if source.kind != "seed":
            raise KeystoreError("source secret is not a seed")
        if len(source.seed) != SEED_SIZE:
            raise KeystoreError("source seed must be 32 bytes to derive a key")
        kind = key_type.lower()
        if kind == "signing":
            key = AgentKey(source.seed)
            self._signing[dst_id] = key
            address = key.address
        elif kind == "encrypting":
            enc = EncryptionKey(source.seed, self._random)
            self._encrypting[dst_id] = enc
            address = enc.address
        else:
            raise KeystoreError("`key_type` has to be one of 'signing' or 'encrypting'")
        self._secrets[dst_id] = _Secret(kind, source.seed)
        return address

    def sign(self, src_id: str, payload: str) -> str:
        self._get(src_id)
        key = self._signing.get(src_id)
        if key is None:
            raise KeystoreError("source secret is not a signing key")
        return key.sign(payload)

    def get_public_key(self, src_id: str) -> str:
        self._get(src_id)
        if src_id in self._signing:
            return self._signing[src_id].address
        if src_id in self._encrypting:
            return self._encrypting[src_id].address
        raise KeystoreError(f'"{src_id}" must be a signing or encrypting key')

    def __repr__(self) -> str:  # never show a secret
        return f"AgentKeystore({self.agent_key.address}, {len(self._secrets)} secrets)"
