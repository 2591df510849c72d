"""Properties of the pure rules in holochain.core (hypothesis)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holochain.core import hcid
from holochain.core import json as cjson
from holochain.core.address import address_of, b58decode, b58encode, is_address
from holochain.core.crypto import AgentKey, PublicKeyError, verify
from holochain.core.dna import Dna, DnaError, json_merge_patch
from holochain.core.entry import Entry, EntryShapeError
from holochain.core.time import format_ns, parse_iso8601_ns

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text())
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=25,
)


@given(json_values)
def test_canonical_json_matches_serde_style_for_non_floats(value):
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert cjson.dumps(value) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_format_round_trips(x):
    text = cjson.format_float(x)
    assert float(text) == x
    assert "+" not in text  # ryu never writes an exponent sign for positive exponents


@pytest.mark.parametrize(
    "x,text",
    [
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.1, "0.1"),
        (1e21, "1e21"),
        (1.5e-7, "1.5e-7"),
        (1e-5, "0.00001"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e16"),
        (-0.0, "-0.0"),
        (123456789012.0, "123456789012.0"),
        (1.2345e30, "1.2345e30"),
        (0.000123, "0.000123"),
    ],
)
def test_float_format_is_ryus(x, text):
    assert cjson.format_float(x) == text
    assert cjson.dumps({"v": x}) == '{"v":' + text + "}"


def test_big_integers_are_written_as_serde_reads_them():
    assert cjson.dumps(2**70) == cjson.format_float(float(2**70))
    assert cjson.dumps(2**64 - 1) == str(2**64 - 1)


def test_nan_is_null_like_serde():
    assert cjson.dumps([math.nan, math.inf]) == "[null,null]"


@given(st.binary(max_size=64))
def test_base58_round_trip(data):
    assert b58decode(b58encode(data)) == data


@given(st.text())
def test_addresses_are_stable_46_char_multihashes(text):
    address = address_of(text)
    assert address == address_of(text.encode("utf-8"))
    assert len(address) == 46 and address.startswith("Qm") and is_address(address)


@given(st.text(max_size=40), json_values)
def test_app_entry_address_is_hash_of_its_serde_form(type_name, value):
    entry = Entry.app(type_name or "t", cjson.dumps(value))
    assert entry.address == address_of(cjson.dumps({"App": [type_name or "t", cjson.dumps(value)]}))


@given(st.binary(min_size=32, max_size=32))
@settings(max_examples=50)
def test_hcid_round_trip_and_case_folding(key):
    text = hcid.encode(key)
    assert len(text) == 63 and text.startswith("HcS")
    assert hcid.decode(text) == key
    # all-lower-case text lost its case parity, yet still decodes
    assert hcid.decode(text.lower()) == key


# chars 0-4 hold the (unprotected) kind prefix; the last char carries padding bits
@given(st.binary(min_size=32, max_size=32), st.integers(5, 61))
@settings(max_examples=50)
def test_hcid_corrects_one_transcription_error(key, position):
    text = hcid.encode(key)
    replacement = "A" if text[position].upper() != "A" else "B"
    damaged = text[:position] + replacement + text[position + 1 :]
    assert hcid.decode(damaged) == key


def test_hcid_refuses_garbage():
    with pytest.raises(hcid.HcidError):
        hcid.decode("HcS" + "_" * 60)
    with pytest.raises(hcid.HcidError):
        hcid.decode("too short")


def test_signatures_verify_and_forgeries_do_not():
    alice, bob = AgentKey.for_test_agent("alice"), AgentKey.for_test_agent("bob")
    sig = alice.sign("QmSomething")
    assert verify(alice.address, sig, "QmSomething")
    assert not verify(alice.address, sig, "QmOther")
    assert not verify(bob.address, sig, "QmSomething")
    with pytest.raises(PublicKeyError):
        verify("not a key", sig, "QmSomething")
    with pytest.raises(PublicKeyError):
        verify(alice.address, "not base64!", "QmSomething")


@given(st.integers(0, 2**62))
def test_timestamps_round_trip(ns):
    text = format_ns(ns)
    assert text.endswith("+00:00")
    assert parse_iso8601_ns(text) == ns


@pytest.mark.parametrize(
    "ns,text",
    [
        (1539228218 * 10**9, "2018-10-11T03:23:38+00:00"),
        (1539228218 * 10**9 + 234_000_000, "2018-10-11T03:23:38.234+00:00"),
        (1539228218 * 10**9 + 234_567_000, "2018-10-11T03:23:38.234567+00:00"),
        (1539228218 * 10**9 + 234_567_891, "2018-10-11T03:23:38.234567891+00:00"),
    ],
)
def test_timestamps_use_chronos_shortest_fraction(ns, text):
    assert format_ns(ns) == text


def test_entry_shape_errors_name_the_problem():
    with pytest.raises(EntryShapeError, match="exactly one key"):
        Entry.from_json({"App": ["a", "1"], "Dna": {}})
    with pytest.raises(EntryShapeError, match="unknown entry kind"):
        Entry.from_json({"Nope": 1})
    with pytest.raises(EntryShapeError, match="App entry"):
        Entry.from_json({"App": ["post", {"not": "a string"}]})


def test_dna_errors_name_the_problem():
    with pytest.raises(DnaError, match="has no code"):
        Dna.from_json({"zomes": {"z": {"code": {"code": ""}}}})
    with pytest.raises(DnaError, match="base64"):
        Dna.from_json({"zomes": {"z": {"code": {"code": "@@@"}}}})
    with pytest.raises(DnaError, match="sharing"):
        Dna.from_json({"zomes": {"z": {"code": {"code": "AA=="}, "entry_types": {"e": {"sharing": "secret"}}}}})


def test_dna_hash_ignores_formatting_key_order_and_extra_keys():
    a = Dna.from_json({"name": "n", "zomes": {"z": {"code": {"code": "AAEC"}}}, "authors": ["x"]})
    b = Dna.from_json({"zomes": {"z": {"code": {"code": "AAEC"}, "description": ""}}, "name": "n"})
    assert a.address == b.address
    assert a.with_uuid("other").address != a.address


def test_merge_patch_is_rfc_7396():
    assert json_merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}, "e": 4}) == {
        "a": 1,
        "b": {"d": 3},
        "e": 4,
    }
    assert json_merge_patch({"a": 1}, None) is None


def _base58_digit_by_digit(data: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, text = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        text = alphabet[r] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


@settings(max_examples=300)
@given(st.binary(max_size=48))
def test_base58_matches_the_digit_by_digit_definition(data):
    assert b58encode(data) == _base58_digit_by_digit(data)
    assert b58decode(b58encode(data)) == data
