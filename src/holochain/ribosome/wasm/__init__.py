"""The WebAssembly engine: holochain-rust's compiled zomes, run unchanged and sandboxed."""

from .engine import WasmLimits, set_limits
from .wasm_zome import HDK_VERSION, WasmFunction, WasmZome

__all__ = ["WasmLimits", "set_limits", "WasmZome", "WasmFunction", "HDK_VERSION"]
