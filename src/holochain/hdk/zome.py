"""Defining a zome in Python: the counterpart of the Rust HDK's ``define_zome!``.

A zome is a Python package whose ``__init__`` module creates one
:class:`Zome` named ``zome`` and decorates its entry types, functions and
callbacks with it::

    from dataclasses import dataclass
    from holochain import hdk

    zome = hdk.Zome(description="a tiny blog")

    @zome.entry_type("post", description="blog entry post")
    @dataclass
    class Post:
        content: str
        date_created: str

    @zome.validate("post")
    def validate_post(validation: hdk.EntryValidation) -> None:
        if len(validation.entry.content) >= 280:
            raise hdk.ValidationError("Content too long")

    @zome.function(public=True)
    def create_post(content: str) -> str:
        return hdk.commit_entry(Post(content, "now"))

What the decorators collect is what ``hc package`` writes into the DNA
(``entry_types``, ``traits``, ``fn_declarations``) and what the conductor
calls at run time.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from ..core import json as cjson
from ..core.entry import Entry
from ..core.errors import HolochainError, RibosomeError, ZomeApiError, ZomeError

__all__ = [
    "Zome",
    "ZomeFunction",
    "EntryTypeDefinition",
    "LinkDefinition",
    "ValidationError",
    "InitError",
    "ArgumentError",
    "to_json_value",
    "PUBLIC_TRAIT",
    "VALIDATION_PACKAGES",
]

PUBLIC_TRAIT = "hc_public"
VALIDATION_PACKAGES = ("Entry", "ChainEntries", "ChainHeaders", "ChainFull")
_SHARING = ("public", "private", "encrypted")


class ValidationError(ZomeError):
    """Raise from a validation callback to reject; the message is the reason."""


class InitError(ZomeError):
    """Raise from ``init`` to refuse to start the instance; the message says why."""


class ArgumentError(ZomeError):
    """Zome-call arguments that do not fit the function's parameters.

    It reaches the caller as holochain-rust's raw ``{"SerializationError": …}``.
    """


def to_json_value(value: Any) -> Any:
    """Turn entry dataclasses, entries and tuples into plain JSON values."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, Entry):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: to_json_value(getattr(value, name)) for name in _field_names(type(value))}
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json_value(to_json())
    raise TypeError(f"{type(value).__name__} cannot be turned into JSON")


@dataclasses.dataclass
class LinkDefinition:
    """A link type: from ``base_type`` to ``target_type``, with its validator."""

    link_type: str
    base_type: str
    target_type: str
    direction: str  # "to": declared on the base type; "from": on the target type
    validation_package: Any = "Entry"  # a name in VALIDATION_PACKAGES or {"Custom": "<text>"}
    validator: Callable[..., Any] | None = None


@dataclasses.dataclass
class EntryTypeDefinition:
    """One entry type a zome defines: its sharing, its validation package, its validator and the
    links from and to it."""

    name: str
    description: str
    sharing: str
    validation_package: Any
    cls: type | None
    validator: Callable[..., Any] | None = None
    links_to: list[LinkDefinition] = dataclasses.field(default_factory=list)
    linked_from: list[LinkDefinition] = dataclasses.field(default_factory=list)

    def dna_json(self) -> dict[str, Any]:
        return {
            "properties": self.description,
            "sharing": self.sharing,
            "links_to": [{"target_type": l.target_type, "link_type": l.link_type} for l in self.links_to],
            "linked_from": [{"base_type": l.base_type, "link_type": l.link_type} for l in self.linked_from],
        }

    def decode(self, value_json: str) -> Any:
        """The app value as this type's class (or plain JSON when it has none)."""
        value = cjson.loads(value_json)
        if self.cls is None:
            return value
        return convert_argument(value, self.cls, self.name)


class ZomeFunction:
    """One zome function: its declaration, and how to call it with JSON args."""

    def __init__(self, fn: Callable[..., Any], raw: bool, traits: tuple[str, ...]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.raw = raw
        self.traits = traits
        self.signature = inspect.signature(fn)
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # unresolvable forward references: fall back to no conversion
            hints = {}
        self.params: list[tuple[str, Any, bool]] = []  # name, annotation, required
        for p in self.signature.parameters.values():
            if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                raise TypeError(f"zome function {self.name}: only named parameters are supported")
            self.params.append((p.name, hints.get(p.name, Any), p.default is p.empty))
        self.return_hint = hints.get("return", Any)

    def declaration(self) -> dict[str, Any]:
        out_type = type_text(self.return_hint)
        if not self.raw:
            out_type = f"ZomeApiResult<{out_type}>"
        return {
            "name": self.name,
            "inputs": [{"name": n, "type": type_text(a)} for n, a, _ in self.params],
            "outputs": [{"name": "result", "type": out_type}],
        }

    def bind(self, args: Any) -> dict[str, Any]:
        """Map the call's JSON args onto parameters, converting by annotation."""
        if not self.params:
            return {}
        if not isinstance(args, dict):
            raise ArgumentError(f"invalid type: {_describe(args)}, expected struct {self.name}_input")
        kwargs: dict[str, Any] = {}
        for name, annotation, required in self.params:
            if name in args:
                kwargs[name] = convert_argument(args[name], annotation, name)
            elif _is_optional(annotation) and required:
                kwargs[name] = None
            elif required:
                raise ArgumentError(f"missing field `{name}`")
        return kwargs

    def invoke(self, args: Any) -> Any:
        """Run the function; returns the JSON value holochain-rust would send.

        ``{"Ok": value}`` / ``{"Err": error}`` unless declared ``raw``; a
        :class:`ZomeApiError` raised inside becomes the ``Err``.  Argument
        mismatches give the raw ``{"SerializationError": …}`` the Rust HDK's
        ``load_json!`` returns.
        """
        try:
            kwargs = self.bind(args)
        except ArgumentError as exc:
            return {"SerializationError": str(exc)}
        try:
            if self.raw:
                return to_json_value(self.fn(**kwargs))
            result = self.fn(**kwargs)
        except ZomeApiError as exc:
            return {"Err": exc.to_json()}
        except (HolochainError, RibosomeError) as exc:
            return {"Err": exc.to_zome_api_error().to_json()}
        return {"Ok": to_json_value(result)}


def _check_package(definition: Any) -> None:
    if definition in VALIDATION_PACKAGES:
        return
    if isinstance(definition, dict) and list(definition) == ["Custom"] and isinstance(definition["Custom"], str):
        return
    raise ValueError(f'validation_package must be one of {", ".join(VALIDATION_PACKAGES)} or {{"Custom": "<text>"}}')


class Zome:
    """Everything one zome defines.  Create exactly one per zome package."""

    def __init__(self, description: str = "") -> None:
        self.description = description
        self.entry_types: dict[str, EntryTypeDefinition] = {}
        self.functions: dict[str, ZomeFunction] = {}
        self.init_callback: Callable[[], Any] | None = None
        self.validate_agent_callback: Callable[..., Any] | None = None
        self.receive_callback: Callable[[str, str], str] | None = None
        self._links: dict[str, LinkDefinition] = {}

    # -- entry types -----------------------------------------------------------

    def entry_type(
        self,
        name: str,
        *,
        description: str = "",
        sharing: str = "public",
        validation_package: Any = "Entry",
        links_to: Iterable[tuple[str, str]] = (),
        linked_from: Iterable[tuple[str, str]] = (),
    ) -> Callable[[type], type]:
        """Declare an app entry type; decorate the (data)class of its values.

        ``links_to`` lists ``(target_type, link_type)`` pairs declared on this
        type as the base; ``linked_from`` lists ``(base_type, link_type)``
        pairs with this type as the target (``%agent_id`` for links from agents).
        """
        if not name or name.startswith("%"):
            raise ValueError(f"invalid entry type name {name!r}: non-empty, not starting with %")
        if sharing not in _SHARING:
            raise ValueError(f"sharing must be one of {', '.join(_SHARING)}, not {sharing!r}")
        _check_package(validation_package)
        if name in self.entry_types:
            raise ValueError(f"entry type {name!r} is defined twice")

        def decorate(cls: type) -> type:
            if not dataclasses.is_dataclass(cls):
                cls = dataclasses.dataclass(cls)
            definition = EntryTypeDefinition(name, description, sharing, validation_package, cls)
            for target, link_type in links_to:
                definition.links_to.append(self._add_link(LinkDefinition(link_type, name, target, "to")))
            for base, link_type in linked_from:
                definition.linked_from.append(self._add_link(LinkDefinition(link_type, base, name, "from")))
            self.entry_types[name] = definition
            cls.__hc_entry_type__ = name  # type: ignore[attr-defined]
            return cls

        return decorate

    def _add_link(self, link: LinkDefinition) -> LinkDefinition:
        if link.link_type in self._links:
            raise ValueError(f"link type {link.link_type!r} is defined twice")
        self._links[link.link_type] = link
        return link

    def validate(self, entry_type: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the validation callback of an entry type."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            definition = self.entry_types.get(entry_type)
            if definition is None:
                raise ValueError(f"validate({entry_type!r}): declare the entry type first")
            definition.validator = fn
            return fn

        return decorate

    def validate_link(
        self, link_type: str, *, validation_package: Any = "Entry"
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the validation callback of a link type (it receives an ``hdk.LinkValidation``).

        ``validation_package`` is what the validator needs of the author's chain.
        """
        _check_package(validation_package)

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            link = self._links.get(link_type)
            if link is None:
                raise ValueError(f"validate_link({link_type!r}): declare the link on an entry type first")
            link.validator = fn
            link.validation_package = validation_package
            return fn

        return decorate

    def link_definition(self, link_type: str) -> LinkDefinition | None:
        return self._links.get(link_type)

    # -- functions and callbacks ------------------------------------------------

    def function(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        public: bool = False,
        traits: Iterable[str] = (),
        raw: bool = False,
    ) -> Any:
        """Declare a zome function.

        ``public=True`` puts it in the ``hc_public`` trait (callable without a
        capability token); ``traits`` names other traits.  The return value is
        sent as ``{"Ok": value}`` and a raised ``ZomeApiError`` as ``{"Err": …}``,
        unless ``raw=True`` asks for the value as is.
        """

        def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
            names = tuple(dict.fromkeys(([PUBLIC_TRAIT] if public else []) + list(traits)))
            if f.__name__ in self.functions:
                raise ValueError(f"zome function {f.__name__!r} is defined twice")
            self.functions[f.__name__] = ZomeFunction(f, raw, names)
            return f

        return decorate(fn) if fn is not None else decorate

    def init(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Run once when an instance's chain is first created; raise ``InitError`` to refuse."""
        self.init_callback = fn
        return fn

    def validate_agent(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Validate other agents' AgentId entries before holding them.

        The callback gets an ``hdk.EntryValidation`` whose ``entry`` is the
        AgentId as ``{"nick": …, "pub_sign_key": …}``; raise
        ``hdk.ValidationError`` to refuse to hold that agent.
        """
        self.validate_agent_callback = fn
        return fn

    def receive(self, fn: Callable[[str, str], str]) -> Callable[[str, str], str]:
        """Answer a direct message ``(from_address, payload) -> reply``."""
        self.receive_callback = fn
        return fn

    # -- what hc package writes ---------------------------------------------------

    def traits(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, list[str]] = {}
        for fn in self.functions.values():
            for trait in fn.traits:
                out.setdefault(trait, []).append(fn.name)
        return {name: {"functions": out[name]} for name in sorted(out)}

    def definition(self) -> dict[str, Any]:
        """``{entry_types, traits, fn_declarations}``, as ``__hdk_get_json_definition``."""
        return {
            "entry_types": {n: d.dna_json() for n, d in sorted(self.entry_types.items())},
            "traits": self.traits(),
            "fn_declarations": [f.declaration() for f in self.functions.values()],
        }


# -- argument conversion ----------------------------------------------------------


def _describe(value: Any) -> str:
    """serde's wording for an unexpected value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{cjson.format_float(value)}`"
    if isinstance(value, str):
        return f"string {cjson.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _is_optional(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def type_text(annotation: Any) -> str:
    if annotation is Any or annotation is inspect.Parameter.empty:
        return "Any"
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


@functools.lru_cache(maxsize=1024)
def _dataclass_plan(cls: type) -> tuple[tuple[str, Any, bool, bool], ...]:
    """Per field of a dataclass: name, resolved type, optional?, required?  (Resolving the
    types is slow, and entry types are decoded at every commit's validation.)"""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints.get(f.name, Any),
            _is_optional(hints.get(f.name, Any)),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


@functools.lru_cache(maxsize=1024)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def convert_argument(value: Any, annotation: Any, name: str) -> Any:
    """Check/convert one JSON value against a parameter annotation."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return value
    if annotation is str:
        if type(value) is not str and not isinstance(value, str):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected a string")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected a boolean")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected an integer")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected f64")
        return float(value)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert_argument(value, option, name)
            except ArgumentError as exc:
                errors.append(str(exc))
        raise ArgumentError(errors[0] if errors else f"invalid value for `{name}`")
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected a sequence")
        args = typing.get_args(annotation)
        item = args[0] if args else Any
        return [convert_argument(v, item, name) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected a map")
        args = typing.get_args(annotation)
        item = args[1] if len(args) == 2 else Any
        return {k: convert_argument(v, item, name) for k, v in value.items()}
    if annotation in (list, dict):
        if not isinstance(value, annotation):
            expected = "a sequence" if annotation is list else "a map"
            raise ArgumentError(f"invalid type: {_describe(value)}, expected {expected}")
        return value
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise ArgumentError(f"invalid type: {_describe(value)}, expected struct {annotation.__name__}")
        kwargs = {}
        for field_name, hint, optional, required in _dataclass_plan(annotation):
            if field_name in value:
                kwargs[field_name] = convert_argument(value[field_name], hint, field_name)
            elif optional:
                kwargs[field_name] = None
            elif required:
                raise ArgumentError(f"missing field `{field_name}`")
        return annotation(**kwargs)
    return value
