"""The one exception tree, and the errors in the shapes holochain-rust puts on the wire.

Every error this conductor raises on purpose is a :class:`HolochainPyError`,
in one subtree per layer (the leaves live beside the code that raises them):

* :class:`CoreError` — core: a value that breaks a rule of the data model
  (``DnaError``, ``EntryShapeError``, ``DhtOpError``, …, and :class:`HolochainError`);
* :class:`StorageError` — storage: a store cannot be opened, read or written;
* :class:`NetworkError` — net: a peer cannot be reached, a request timed out,
  a message or a ``[network]`` table is malformed;
* :class:`ZomeError` — ribosome and hdk: zome code that cannot be loaded or
  failed, a host call refused (:class:`RibosomeError`, :class:`ZomeApiError`);
* :class:`WorkflowError` — instance: a zome call refused
  (``InstanceError``), a dependency not yet found (``Unresolved``);
* :class:`HostingError` — conductor, config, keystore and passphrase files;
* :class:`InterfaceError` — interfaces: a JSON-RPC error reply (``JsonRpcError``).

Errors become wire shapes in one place each: JSON-RPC errors at the
interfaces (:mod:`holochain.interfaces.error_replies`), a zome's ``{"Err": …}``
through ``to_zome_api_error`` below, boot errors in the CLIs
(``Error while trying to boot from config: …``).  The one exception outside
the tree is the ribosome's ``ZomeCallTimeout``: a :class:`BaseException` on
purpose, so zome code's ``except Exception`` cannot swallow it.

Three shapes reach clients and zome code:

* :class:`HolochainError` — core's error enum.  A host function that fails
  hands the zome ``ZomeApiError::Internal(<CoreError JSON text>)``, where the
  CoreError is ``{"kind": <HolochainError JSON>, "file": …, "line": …}``;
  app_spec tests parse that text and read ``.kind.ValidationFailed``.
* :class:`RibosomeErrorCode` — a bare error code a host function returns;
  zome code sees ``Internal("<code text>")``, e.g. ``Entry Could Not Be Found``.
* :class:`ZomeApiError` — what an HDK call raises in zome code and what a
  zome function's ``{"Err": …}`` holds.
"""

from __future__ import annotations

import enum
from typing import Any

from . import json as cjson

__all__ = [
    "HolochainPyError",
    "CoreError",
    "StorageError",
    "NetworkError",
    "ZomeError",
    "WorkflowError",
    "HostingError",
    "InterfaceError",
    "HolochainError",
    "RibosomeErrorCode",
    "RibosomeError",
    "ZomeApiError",
    "ZomeExecutionError",
    "CORE_ERROR_FILE",
    "CORE_ERROR_LINE",
]

# Where holochain-rust's host functions wrap errors (``core_error!`` in
# runtime.rs); JS tests check these keys are present.
CORE_ERROR_FILE = "crates/core/src/wasm_engine/runtime.rs"
CORE_ERROR_LINE = "220"

_UNIT_KINDS = {
    "LoggingError": "logging failed",
    "DnaMissing": "DNA is missing",
    "InvalidOperationOnSysEntry": "operation cannot be done on a system entry type",
    "CapabilityCheckFailed": "Caller does not have Capability to make that call",
    "ValidationPending": "Entry validation could not be completed",
    "EntryNotFoundLocally": "The requested entry could not be found locally",
    "EntryIsPrivate": "The requested entry is private and should not be shared via gossip",
}


class HolochainPyError(Exception):
    """The root of every error holochain-py raises on purpose; the message says what and why."""


class CoreError(HolochainPyError):
    """core: a value that breaks a rule of the data model (a malformed DNA, entry, op, option…)."""


class StorageError(HolochainPyError):
    """storage: a store cannot be opened, read or written (the message names it)."""


class NetworkError(HolochainPyError):
    """net: a network request failed (a peer unreachable, a timeout), or what came over the wire is malformed."""


class ZomeError(HolochainPyError):
    """ribosome and hdk: zome code that cannot be loaded or that failed, or a host call it made refused."""


class WorkflowError(HolochainPyError):
    """instance: a workflow step refused its input or cannot finish yet."""


class HostingError(HolochainPyError):
    """conductor: a configuration, keystore, passphrase or conductor operation that cannot be carried out."""


class InterfaceError(HolochainPyError):
    """interfaces: a request answered with an error."""


class HolochainError(CoreError):
    """core's ``HolochainError``: a kind (enum variant) and its payload."""

    def __init__(self, kind: str, payload: Any = None) -> None:
        self.kind = kind
        self.payload = payload
        super().__init__(self.display())

    # convenience constructors for the common kinds
    @classmethod
    def generic(cls, message: str) -> HolochainError:
        return cls("ErrorGeneric", message)

    @classmethod
    def validation_failed(cls, message: str) -> HolochainError:
        return cls("ValidationFailed", message)

    @classmethod
    def timeout(cls, message: str) -> HolochainError:
        return cls("Timeout", message)

    @classmethod
    def serialization(cls, message: str) -> HolochainError:
        return cls("SerializationError", message)

    @classmethod
    def not_implemented(cls, message: str) -> HolochainError:
        return cls("NotImplemented", message)

    @classmethod
    def capability_check_failed(cls) -> HolochainError:
        return cls("CapabilityCheckFailed")

    def to_json(self) -> Any:
        """The serde form: ``"CapabilityCheckFailed"`` or ``{"ValidationFailed": "…"}``."""
        if self.kind in _UNIT_KINDS and self.payload is None:
            return self.kind
        if self.kind == "Ribosome":
            return {"Ribosome": RibosomeErrorCode(self.payload).name}
        return {self.kind: self.payload}

    def display(self) -> str:
        """Display text, as Rust's ``impl Display for HolochainError`` writes it."""
        kind, payload = self.kind, self.payload
        if kind in _UNIT_KINDS:
            return _UNIT_KINDS[kind]
        if kind == "NotImplemented":
            return f"not implemented: {payload}"
        if kind == "Timeout":
            return f"timeout {payload}"
        if kind == "Ribosome":
            return RibosomeErrorCode(payload).text
        if kind == "DnaHashMismatch":
            a, b = payload
            return f"Provided DNA hash does not match actual DNA hash! {a} != {b}"
        if kind == "List":
            return "A list of errors has been generated " + "\n".join(str(e) for e in payload)
        return str(payload)

    def core_error_json(self) -> str:
        """The CoreError JSON text a host function hands back to zome code."""
        return cjson.dumps({"kind": self.to_json(), "file": CORE_ERROR_FILE, "line": CORE_ERROR_LINE})

    def to_zome_api_error(self) -> ZomeApiError:
        """How the HDK sees a failed host call: ``Internal(<CoreError JSON>)``."""
        return ZomeApiError.internal(self.core_error_json())

    def __repr__(self) -> str:
        return f"HolochainError({self.kind!r}, {self.payload!r})"


class RibosomeErrorCode(enum.Enum):
    """Error codes a host function can return instead of a result."""

    Unspecified = "Unspecified"
    ArgumentDeserializationFailed = "Argument deserialization failed"
    OutOfMemory = "Out of memory"
    ReceivedWrongActionResult = "Received wrong action result"
    CallbackFailed = "Callback failed"
    RecursiveCallForbidden = "Recursive call forbidden"
    ResponseSerializationFailed = "Response serialization failed"
    NotAnAllocation = "Not an allocation"
    ZeroSizedAllocation = "Zero-sized allocation"
    UnknownEntryType = "Unknown entry type"
    MismatchWasmCallDataType = "Mismatched WasmCallData type"
    EntryNotFound = "Entry Could Not Be Found"
    WorkflowFailed = "Workflow failed"

    @property
    def text(self) -> str:
        return self.value

    def to_zome_api_error(self) -> ZomeApiError:
        return ZomeApiError.internal(self.value)


class RibosomeError(ZomeError):
    """A host function failing with a bare error code (zome code sees ``Internal("<code text>")``)."""

    def __init__(self, code: RibosomeErrorCode) -> None:
        self.code = code
        super().__init__(code.text)

    def to_zome_api_error(self) -> ZomeApiError:
        return self.code.to_zome_api_error()


class ZomeApiError(ZomeError):
    """The HDK's error: ``Internal(String)``, ``FunctionNotImplemented``,
    ``HashNotFound``, ``ValidationFailed(String)`` or ``Timeout(String)``."""

    VARIANTS = ("Internal", "FunctionNotImplemented", "HashNotFound", "ValidationFailed", "Timeout")

    def __init__(self, variant: str, message: str | None = None) -> None:
        if variant not in self.VARIANTS:
            raise ValueError(f"unknown ZomeApiError variant {variant!r}")
        self.variant = variant
        self.message = message
        super().__init__(self.display())

    @classmethod
    def internal(cls, message: str) -> ZomeApiError:
        return cls("Internal", message)

    def to_json(self) -> Any:
        if self.variant in ("FunctionNotImplemented", "HashNotFound"):
            return self.variant
        return {self.variant: self.message}

    def display(self) -> str:
        if self.variant == "FunctionNotImplemented":
            return "Function not implemented"
        if self.variant == "HashNotFound":
            return "Hash not found"
        if self.variant == "Timeout":
            return f"Timeout({self.message})"
        return str(self.message)

    def __repr__(self) -> str:
        return f"ZomeApiError({self.variant!r}, {self.message!r})"


class ZomeExecutionError(ZomeError):
    """Zome code that could not run to a result: a WebAssembly trap, fuel or time
    exhausted, a bad pointer or output, or a module that cannot load.

    ``zome`` and ``function`` name what failed (``function`` is empty when the
    module itself failed to load); the message says what happened.
    """

    def __init__(self, zome: str, function: str, message: str) -> None:
        self.zome = zome
        self.function = function
        super().__init__(message)
