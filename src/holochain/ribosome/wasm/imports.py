"""The ``hc_*`` host functions a holochain-rust zome imports from ``env``.

Each one reads its argument JSON from the zome's memory, deserializes it as
holochain-rust's argument struct would (a wrong shape is the bare code
``ArgumentDeserializationFailed``), runs the shared host API
(:class:`~holochain.ribosome.host_api.CallHost`) and writes back the
``ZomeApiInternalResult`` envelope ``{"ok","value","error"}`` (``value`` and
``error`` are JSON texts).  Failures the host API reports as error codes come
back as bare codes, as ``ribosome_error_code!`` returned them; core errors
come back in the envelope as CoreError JSON.

Functions marked ``local`` run on the zome's worker thread (they read only
immutable state); the others run on the event loop (see :mod:`.wasm_zome`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core import json as cjson
from ...core.entry import Entry, EntryShapeError
from ...core.errors import HolochainError, RibosomeError, RibosomeErrorCode, ZomeApiError

if TYPE_CHECKING:
    from .wasm_zome import WasmCall

__all__ = ["HOST_FUNCTIONS", "HostFunction", "ArgumentError", "NOT_PROVIDED"]

# Declared by some HDKs but never provided by holochain-rust's host: a zome importing
# one fails to instantiate there too.
NOT_PROVIDED = frozenset({"hc_property", "hc_start_bundle", "hc_close_bundle"})

_CODE_TEXTS = {code.text: code for code in RibosomeErrorCode}
_MAX_SLEEP_NS = 3600 * 10**9


class ArgumentError(Exception):
    """The argument does not deserialize as the host function's struct."""


class HostFunction:
    __slots__ = ("name", "run", "local")

    def __init__(self, name: str, run: Callable[[WasmCall, Any], Any], local: bool) -> None:
        self.name = name
        self.run = run
        self.local = local


HOST_FUNCTIONS: dict[str, HostFunction] = {}


def _host(name: str, local: bool = False) -> Callable[[Callable[[WasmCall, Any], Any]], Callable[[WasmCall, Any], Any]]:
    def register(fn: Callable[[WasmCall, Any], Any]) -> Callable[[WasmCall, Any], Any]:
        HOST_FUNCTIONS[name] = HostFunction(name, fn, local)
        return fn

    return register


# -- results ----------------------------------------------------------------------------------


class Success:
    """``ribosome_success!()``: the encoded value 0, no envelope."""


SUCCESS = Success()


class Raw:
    """An envelope whose ``value`` is this JSON text as given (not re-serialized)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def envelope_ok(value: Any) -> str:
    text = value.text if isinstance(value, Raw) else cjson.dumps(value)
    return cjson.dumps({"ok": True, "value": text, "error": "null"})


def envelope_error(core_error_json: str) -> str:
    return cjson.dumps({"ok": False, "value": "null", "error": core_error_json})


def outcome(fn: Callable[[], Any]) -> Any:
    """Run a host-API operation: its value, a :class:`RibosomeErrorCode`, or an error envelope text."""
    try:
        return fn()
    except ArgumentError:
        return RibosomeErrorCode.ArgumentDeserializationFailed
    except RibosomeError as exc:
        return exc.code
    except HolochainError as exc:
        return _Failed(exc.core_error_json())
    except ZomeApiError as exc:
        message = exc.message or exc.display()
        code = _CODE_TEXTS.get(message)
        if code is not None:
            return code
        if message.startswith('{"kind":'):
            return _Failed(message)
        return _Failed(HolochainError.generic(message).core_error_json())


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: str) -> None:
        self.error = error


def is_failure(value: Any) -> bool:
    return isinstance(value, _Failed)


def failure_text(value: Any) -> str:
    return envelope_error(value.error)


# -- argument shapes ----------------------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ArgumentError()
    return value


def _field(value: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if key not in value:
        if default is ...:
            raise ArgumentError()
        return default
    got = value[key]
    if isinstance(got, bool) and kind is int:
        raise ArgumentError()
    if not isinstance(got, kind):
        raise ArgumentError()
    return got


def _opt_str(value: dict[str, Any], key: str) -> str | None:
    got = value.get(key)
    if got is not None and not isinstance(got, str):
        raise ArgumentError()
    return got


def _entry(value: Any) -> Entry:
    try:
        return Entry.from_json(value)
    except (EntryShapeError, TypeError, KeyError, ValueError):
        raise ArgumentError() from None


def _provenances(options: Any) -> list[list[str]]:
    if options is None:
        return []
    provenance = _field(_obj(options), "provenance", list, [])
    for item in provenance:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(p, str) for p in item)):
            raise ArgumentError()
    return provenance


_LITERAL = re.compile(r"\^((?:[^\\.^$*+?()\[\]{}|]|\\.)*)\$")
_META = set("\\.^$*+?()[]{}|")


class _Pattern:
    """A get_links ``link_type`` or ``tag`` as an HDK sent it.

    HDKs up to 0.0.42 sent regexes, built by ``LinkMatch::to_regex_string``:
    ``".*"`` for any, ``"^<escaped>$"`` for exactly, or the app's own regex;
    later ones send the plain name, or null for any."""

    __slots__ = ("exact", "regex")

    def __init__(self, value: str | None) -> None:
        self.exact: str | None = value
        self.regex: re.Pattern[str] | None = None
        if value is None or value in (".*", "^.*$"):
            self.exact = None
            return
        found = _LITERAL.fullmatch(value)
        if found is not None:
            self.exact = re.sub(r"\\(.)", r"\1", found.group(1))
        elif any(c in _META for c in value):
            try:
                self.regex = re.compile(value)
                self.exact = None
            except re.error:
                pass  # not a regex after all: the name itself

    def matches(self, text: str) -> bool:
        return self.regex is None or self.regex.search(text) is not None


def _declared_link_types(call: WasmCall) -> list[str]:
    names: list[str] = []
    for zome in call.host.core.dna.zomes.values():
        for definition in zome.get("entry_types", {}).values():
            for link in [*definition.get("links_to", []), *definition.get("linked_from", [])]:
                if link["link_type"] not in names:
                    names.append(link["link_type"])
    return names


# -- the functions --------------------------------------------------------------------------------


@_host("hc_debug", local=True)
def _debug(call: WasmCall, arg: Any) -> Any:
    call.debug(arg)
    return SUCCESS


@_host("hc_init_globals", local=True)
def _init_globals(call: WasmCall, arg: Any) -> Any:
    return Raw(call.globals_json)


@_host("hc_commit_entry")
def _commit(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    entry = _entry(args.get("entry"))
    provenances = _provenances(args.get("options"))
    return {"address": call.host.commit_entry(entry, provenances)}  # CommitEntryResult


@_host("hc_update_entry")
def _update(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    return call.host.update_entry(_entry(args.get("new_entry")), _field(args, "address", str))


@_host("hc_remove_entry")
def _remove(call: WasmCall, arg: Any) -> Any:
    if not isinstance(arg, str):
        raise ArgumentError()
    return call.host.remove_entry(arg)


@_host("hc_get_entry")
def _get_entry(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    return call.host.get_entry_result(_field(args, "address", str), _field(args, "options", dict, {}))


@_host("hc_entry_address", local=True)
def _entry_address(call: WasmCall, arg: Any) -> Any:
    return call.host.entry_address(_entry(arg))


def _link_args(arg: Any) -> tuple[str, str, str, str]:
    args = _obj(arg)
    return (
        _field(args, "base", str),
        _field(args, "target", str),
        _field(args, "link_type", str),
        _field(args, "tag", str, ""),
    )


@_host("hc_link_entries")
def _link(call: WasmCall, arg: Any) -> Any:
    return call.host.link_entries(*_link_args(arg))


@_host("hc_remove_link")
def _remove_link(call: WasmCall, arg: Any) -> Any:
    call.host.remove_link(*_link_args(arg))
    return None


def _links(call: WasmCall, arg: Any, count: bool) -> Any:
    args = _obj(arg)
    base = _field(args, "entry_address", str)
    raw_type, raw_tag = _opt_str(args, "link_type"), _opt_str(args, "tag")
    options = _field(args, "options", dict, {})
    get = call.host.get_links_count if count else call.host.get_links
    if "pagination" in options or "sort_order" in options:  # HDK 0.0.47+: plain names, null for any
        return get(base, raw_type, raw_tag, options)
    link_type, tag = _Pattern(raw_type), _Pattern(raw_tag)  # up to 0.0.42: regexes
    if link_type.regex is None and tag.regex is None:
        return get(base, link_type.exact, tag.exact, options)
    # a regex: ask for each declared link type it matches, then filter the tags
    types = [t for t in _declared_link_types(call) if link_type.matches(t)] if link_type.regex else [link_type.exact]
    links = []
    for name in types:
        links += call.host.get_links(base, name, tag.exact, options)["links"]
    links = [link for link in links if tag.matches(link["tag"])]
    return {"count": len(links)} if count else {"links": links}


@_host("hc_get_links")
def _get_links(call: WasmCall, arg: Any) -> Any:
    return _links(call, arg, count=False)


@_host("hc_get_links_count")
def _get_links_count(call: WasmCall, arg: Any) -> Any:
    return _links(call, arg, count=True)


@_host("hc_query")
def _query(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    names = args.get("entry_type_names")
    if not (isinstance(names, str) or (isinstance(names, list) and all(isinstance(n, str) for n in names))):
        raise ArgumentError()
    return call.host.query(names, _field(args, "options", dict, {}))


@_host("hc_call")
def _call(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    fn_args_text = _field(args, "fn_args", str)
    try:
        fn_args = cjson.loads(fn_args_text) if fn_args_text.strip() else None
    except cjson.JSONDecodeError:
        raise ArgumentError() from None
    result = call.host.call(
        _field(args, "instance_handle", str),
        _field(args, "zome_name", str),
        _field(args, "cap_token", str),
        _field(args, "fn_name", str),
        fn_args,
    )
    return result


@_host("hc_send")
def _send(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    timeout = args.get("options", 60_000)
    if isinstance(timeout, dict):  # SendOptions as a struct in some HDKs
        timeout = timeout.get("timeout", 60_000)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise ArgumentError()
    reply = call.host.send(_field(args, "to_agent", str), _field(args, "payload", str), timeout)
    return Raw(reply)


@_host("hc_sleep", local=True)
def _sleep(call: WasmCall, arg: Any) -> Any:
    if isinstance(arg, bool) or not isinstance(arg, int) or not 0 <= arg <= _MAX_SLEEP_NS:
        raise ArgumentError()
    call.sleep(arg / 1e9)
    return SUCCESS


@_host("hc_emit_signal")
def _emit_signal(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    arguments = args.get("arguments")
    if not isinstance(arguments, str):
        arguments = cjson.dumps(arguments)
    call.host.emit_signal(_field(args, "name", str), arguments)
    return SUCCESS


@_host("hc_crypto")
def _crypto(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    payload = _field(args, "payload", str)
    method = args.get("method")
    if method == "Sign":
        return Raw(call.host.sign(payload))
    if method == "Encrypt":
        return Raw(call.host.encrypt(payload))
    if method == "Decrypt":
        return Raw(call.host.decrypt(payload))
    raise ArgumentError()


@_host("hc_sign_one_time", local=True)
def _sign_one_time(call: WasmCall, arg: Any) -> Any:
    return call.host.sign_one_time(_field(_obj(arg), "payloads", list))


@_host("hc_verify_signature", local=True)
def _verify_signature(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    return call.host.verify_signature(_field(args, "provenance", list), _field(args, "payload", str))


@_host("hc_keystore_list")
def _keystore_list(call: WasmCall, arg: Any) -> Any:
    return call.host.keystore("list", {})


@_host("hc_keystore_new_random")
def _keystore_new_random(call: WasmCall, arg: Any) -> Any:
    call.host.keystore("add_random_seed", _obj(arg))
    return None


@_host("hc_keystore_derive_seed")
def _keystore_derive_seed(call: WasmCall, arg: Any) -> Any:
    call.host.keystore("add_seed_from_seed", _obj(arg))
    return None


@_host("hc_keystore_derive_key")
def _keystore_derive_key(call: WasmCall, arg: Any) -> Any:
    return call.host.keystore("add_key_from_seed", _obj(arg))


@_host("hc_keystore_sign")
def _keystore_sign(call: WasmCall, arg: Any) -> Any:
    # holochain-rust hands back the signature's text itself, not a JSON string
    return Raw(call.host.keystore("sign", _obj(arg)))


@_host("hc_keystore_get_public_key")
def _keystore_get_public_key(call: WasmCall, arg: Any) -> Any:
    return call.host.keystore("get_public_key", _obj(arg))


@_host("hc_commit_capability_grant")
def _grant(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    assignees = args.get("assignees")
    if assignees is not None and not (isinstance(assignees, list) and all(isinstance(a, str) for a in assignees)):
        raise ArgumentError()
    return call.host.commit_capability_grant(
        _field(args, "id", str), _field(args, "cap_type", str), assignees, _field(args, "functions", dict)
    )


@_host("hc_commit_capability_claim")
def _claim(call: WasmCall, arg: Any) -> Any:
    args = _obj(arg)
    return call.host.commit_capability_claim(
        _field(args, "id", str), _field(args, "grantor", str), _field(args, "token", str)
    )


@_host("hc_meta", local=True)
def _meta(call: WasmCall, arg: Any) -> Any:
    method = _field(_obj(arg), "method", str)
    if method not in ("Version", "Hash"):
        raise ArgumentError()
    return {method: call.host.meta(method)}


def sleep_bounded(seconds: float, deadline: float) -> None:
    time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))
