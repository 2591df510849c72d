"""WebAssembly test zomes written as WAT text, speaking holochain-rust's ABI.

wasmtime compiles WAT directly, so these need no toolchain.  ``proxy_zome``
exports, for each host function, a zome function that hands its own input
(the call's argument JSON, at address 0) to that host function unchanged and
returns the host's reply without its NUL: the tests drive every host import
with exactly the argument JSON an HDK would send and read the envelope it
gets back.  The bad-input functions do one wrong thing each.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import wasmtime

# host function -> the proxy zome function that calls it
PROXIED = {
    "hc_init_globals": "globals",
    "hc_debug": "debug",
    "hc_commit_entry": "commit",
    "hc_update_entry": "update",
    "hc_remove_entry": "remove",
    "hc_get_entry": "get",
    "hc_entry_address": "address",
    "hc_link_entries": "link",
    "hc_remove_link": "unlink",
    "hc_get_links": "links",
    "hc_get_links_count": "links_count",
    "hc_query": "query",
    "hc_call": "call",
    "hc_send": "send",
    "hc_sleep": "sleep",
    "hc_emit_signal": "signal",
    "hc_crypto": "crypto",
    "hc_sign_one_time": "sign_one_time",
    "hc_verify_signature": "verify",
    "hc_keystore_list": "keystore_list",
    "hc_keystore_new_random": "keystore_new_random",
    "hc_keystore_derive_seed": "keystore_derive_seed",
    "hc_keystore_derive_key": "keystore_derive_key",
    "hc_keystore_sign": "keystore_sign",
    "hc_keystore_get_public_key": "keystore_get_public_key",
    "hc_commit_capability_grant": "grant",
    "hc_commit_capability_claim": "claim",
    "hc_meta": "meta",
}

BAD = ["trap", "spin", "out_of_bounds", "oversized", "bad_utf8", "bad_json", "code_as_argument", "grow", "fail_code"]

_DATA_BASE = 1 << 20  # after a 1 MiB "shadow stack", as rustc lays zomes out


def _data(offset: int, text: bytes) -> str:
    escaped = "".join(f"\\{b:02x}" for b in text)
    return f'(data (i32.const {offset}) "{escaped}")'


def _alloc(offset: int, length: int) -> int:
    return (offset << 32) | length


def proxy_zome(
    *,
    validate: str = "accept",
    validate_link: str | None = None,
    extra_imports: tuple[str, ...] = (),
    receive: bool = True,
) -> bytes:
    """The proxy zome as WASM bytes.

    ``validate``: ``accept`` (every validation callback answers Success),
    ``echo`` (each fails with its own input as the reason, so a test can read
    the arguments the host sent), ``reject`` (fails with a fixed reason) or ``spin`` (never ends).
    """
    reject = b"rejected by the wat zome"
    bad_utf8 = b"\xff\xfe\xfd"
    not_json = b"this is not json"
    init_fail = b"init refused"
    lines = ["(module"]
    for name in PROXIED:
        lines.append(f'  (import "env" "{name}" (func ${name} (param i64) (result i64)))')
    for name in extra_imports:
        lines.append(f'  (import "env" "{name}" (func ${name} (param i64) (result i64)))')
    lines += [
        '  (memory (export "memory") 17)',
        _data(_DATA_BASE, reject),
        _data(_DATA_BASE + 64, bad_utf8),
        _data(_DATA_BASE + 128, not_json),
        _data(_DATA_BASE + 192, init_fail),
        "  (func $strip (param $r i64) (result i64)",
        "    (if (result i64) (i64.eqz (i64.and (local.get $r) (i64.const 0xffffffff)))",
        "      (then (local.get $r)) (else (i64.sub (local.get $r) (i64.const 1)))))",
    ]
    for host, fn in PROXIED.items():
        lines.append(f'  (func (export "{fn}") (param i64) (result i64) (call $strip (call ${host} (local.get 0))))')
    # the validation callbacks
    answers = {
        "accept": "(i64.const 0)",
        "echo": "(local.get 0)",
        "reject": f"(i64.const {_alloc(_DATA_BASE, len(reject))})",
        "spin": "(loop $l (br $l)) (i64.const 0)",
    }
    modes = {
        "__hdk_validate_app_entry": validate,
        "__hdk_validate_agent_entry": "echo" if validate == "echo" else "accept",
        "__hdk_validate_link": validate_link or validate,
    }
    for export, mode in modes.items():
        body = answers[mode]
        lines.append(f'  (func (export "{export}") (param i64) (result i64) {body})')
    lines += [
        '  (func (export "__hdk_hdk_version") (param i64) (result i64) (i64.const 0))',
        '  (func (export "init") (param i64) (result i64) (i64.const 0))',
        # echo: the input back as the result (a zome function that returns its argument JSON)
        '  (func (export "echo") (param i64) (result i64) (local.get 0))',
        # the bad inputs
        '  (func (export "trap") (param i64) (result i64) unreachable)',
        '  (func (export "spin") (param i64) (result i64) (loop $l (br $l)) (i64.const 0))',
        f'  (func (export "out_of_bounds") (param i64) (result i64) (i64.const {_alloc(0xFFFF0000, 100)}))',
        f'  (func (export "oversized") (param i64) (result i64) (i64.const {_alloc(16, 0xFFFFFFFF)}))',
        f'  (func (export "bad_utf8") (param i64) (result i64) (i64.const {_alloc(_DATA_BASE + 64, len(bad_utf8))}))',
        f'  (func (export "bad_json") (param i64) (result i64) (i64.const {_alloc(_DATA_BASE + 128, len(not_json))}))',
        # an error code passed where a host function expects an allocation
        f'  (func (export "code_as_argument") (param i64) (result i64) (call $hc_debug (i64.const {5 << 32})))',
        '  (func (export "grow") (param i64) (result i64)',
        "    (if (i32.lt_s (memory.grow (i32.const 60000)) (i32.const 0)) (then unreachable)) (i64.const 0))",
        f'  (func (export "fail_code") (param i64) (result i64) (i64.const {5 << 32}))',
    ]
    if receive:
        lines.append('  (func (export "receive") (param i64) (result i64) (local.get 0))')
    lines.append(")")
    return wasmtime.wat2wasm("\n".join(lines))


def wasm_dna(
    code: bytes,
    *,
    zome: str = "wat",
    entry_types: dict[str, Any] | None = None,
    functions: list[str] | None = None,
    extra_zomes: dict[str, Any] | None = None,
    name: str = "wat-dna",
) -> dict[str, Any]:
    """A .dna.json document with one WASM zome whose functions are all public."""
    fns = functions if functions is not None else [*PROXIED.values(), "echo", *BAD]
    types = entry_types if entry_types is not None else {"note": _entry_type(links=["noted"])}
    zomes = {
        zome: {
            "description": "a WAT test zome",
            "config": {},
            "entry_types": types,
            "traits": {"hc_public": {"functions": fns}},
            "fn_declarations": [{"name": f, "inputs": [], "outputs": []} for f in fns],
            "code": {"code": base64.b64encode(code).decode()},
            "bridges": [],
        }
    }
    zomes.update(extra_zomes or {})
    return {
        "name": name,
        "description": "",
        "version": "",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "dna_spec_version": "2.0",
        "properties": {"answer": 42},
        "zomes": zomes,
    }


def _entry_type(links: list[str] = ()) -> dict[str, Any]:
    return {
        "description": "",
        "sharing": "public",
        "links_to": [{"target_type": "note", "link_type": t} for t in links],
        "linked_from": [],
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc)
