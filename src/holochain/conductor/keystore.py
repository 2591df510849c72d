"""Keystore files: an agent's secret seed, encrypted with a passphrase.

The file is JSON; the seed is sealed with libsodium's secretbox under a key
derived from the passphrase by Argon2id (PyNaCl), with a random salt and
nonce.  Wrong passphrases are told apart from damaged files, and no secret
or passphrase ever reaches a log line or an error message.

As in holochain-rust, every key of the agent derives from its ``root_seed``:
the signing key pair (the agent's address) and the encryption key pair, named
``primary_keybundle:sign_key`` and ``primary_keybundle:enc_key``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ..core.crypto import AgentKey
from ..core.errors import HostingError
from ..core.private_files import write_private

__all__ = ["KeystoreFileError", "Keystore", "NULL_PASSPHRASE", "KDF_LEVELS", "store_key"]

FORMAT = "holochain-py keystore"
VERSION = 1
NULL_PASSPHRASE = "convenient and insecure keystore"
KDF_LEVELS = {
    "interactive": (nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "sensitive": (nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE, nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE),
}


def store_key(agent_key: AgentKey) -> str:
    """The SQLCipher key (64 hex digits) of the encrypted stores of an agent.

    Derived (keyed BLAKE2b) from the agent's root seed, which only its keystore passphrase
    unlocks: whoever cannot unlock the keystore cannot open the stores, a passphrase change
    (the keystore saved again) leaves them readable, and the key itself is never stored.
    A test agent's seed follows from its name, so its "encrypted" stores protect nothing.
    """
    return hashlib.blake2b(
        b"SQLCipher key of an instance store", key=agent_key.seed, person=b"holochain-py v1", digest_size=32
    ).hexdigest()


class KeystoreFileError(HostingError):
    """A keystore that cannot be read or unlocked; never includes secrets."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str, path: Path) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (TypeError, ValueError):
        raise KeystoreFileError(f"keystore {path} is damaged: {what} is not base64") from None


@dataclass
class Keystore:
    """An agent's keystore file: the root seed its key is derived from, sealed with a passphrase
    (holochain-rust's ``hc keygen`` format)."""

    root_seed: bytes

    @classmethod
    def generate(cls) -> Keystore:
        return cls(nacl.utils.random(32))

    @property
    def agent_key(self) -> AgentKey:
        return AgentKey(self.root_seed)

    @property
    def public_address(self) -> str:
        return self.agent_key.address

    # -- files ---------------------------------------------------------------------

    def save(self, path: Path, passphrase: str, *, kdf: str = "moderate") -> None:
        opslimit, memlimit = KDF_LEVELS[kdf]
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
        )
        sealed = nacl.secret.SecretBox(key).encrypt(self.root_seed)
        document = {
            "format": FORMAT,
            "version": VERSION,
            "public_address": self.public_address,
            "kdf": {"algorithm": "argon2id13", "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
            "secrets": {"root_seed": _b64(bytes(sealed))},
        }
        write_private(path, json.dumps(document, indent=2) + "\n")

    @classmethod
    def read_public_address(cls, path: Path) -> str:
        return str(cls._read(path)["public_address"])

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeystoreFileError(f"keystore file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeystoreFileError(f"keystore file {path} cannot be read: {exc}") from None
        except json.JSONDecodeError:
            raise KeystoreFileError(f"keystore {path} is damaged: not JSON") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeystoreFileError(f"{path} is not a {FORMAT} file")
        if document.get("version") != VERSION:
            raise KeystoreFileError(f"keystore {path} has version {document.get('version')}; expected {VERSION}")
        return document

    @classmethod
    def load(cls, path: Path, passphrase: str) -> Keystore:
        document = cls._read(path)
        try:
            kdf = document["kdf"]
            salt = _unb64(kdf["salt"], "the salt", path)
            sealed = _unb64(document["secrets"]["root_seed"], "the root seed", path)
            opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
        except (KeyError, TypeError, ValueError):
            raise KeystoreFileError(f"keystore {path} is damaged: missing fields") from None
        try:
            key = nacl.pwhash.argon2id.kdf(
                nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
            )
        except (nacl.exceptions.ValueError, nacl.exceptions.RuntimeError):
            raise KeystoreFileError(f"keystore {path} is damaged: bad key-derivation parameters") from None
        try:
            seed = nacl.secret.SecretBox(key).decrypt(sealed)
        except nacl.exceptions.CryptoError:
            raise KeystoreFileError(f"wrong passphrase for keystore {path} (or the file was altered)") from None
        keystore = cls(seed)
        if keystore.public_address != document.get("public_address"):
            raise KeystoreFileError(f"keystore {path} is damaged: its key does not match its public address")
        return keystore
