"""core reads no clock and no random source of its own: given the same clock and random
source, the same keystore operations and the same commits give the same bytes."""

from __future__ import annotations

from holochain.core.crypto import AgentKey
from holochain.core.entry import Entry
from holochain.core.keys import AgentKeystore, sign_one_time
from holochain.core.randomness import seeded_random, system_random
from holochain.core.time import format_ns, stepping_clock, system_clock
from holochain.instance.chain import SourceChain
from holochain.storage.base import WriteBatch
from holochain.storage.memory_store import MemoryStore

AGENT = AgentKey.for_test_agent("alice")
START_NS = 1_600_000_000_123_000_000


def keystore_run(seed: bytes) -> tuple[str, str, dict[str, object]]:
    """A random seed's key, an encryption, a one-time signature: all from one random source."""
    random = seeded_random(seed)
    keys = AgentKeystore.for_agent(AGENT, random)
    keys.add_random_seed("app_seed", 32)
    public = keys.add_key_from_seed("app_seed", "app_key", "signing")
    return public, keys.encryption_key.encrypt("secret"), sign_one_time(["payload"], random)


def test_a_seeded_random_source_makes_keystore_operations_reproducible():
    assert keystore_run(b"one") == keystore_run(b"one")
    assert keystore_run(b"one") != keystore_run(b"two")


def test_a_reproducible_encryption_still_decrypts():
    keys = AgentKeystore.for_agent(AGENT, seeded_random(b"one"))
    assert keys.encryption_key.decrypt(keys.encryption_key.encrypt("secret")) == "secret"


def test_the_system_sources_are_not_deterministic():
    assert system_random(32) != system_random(32)
    assert AgentKeystore.for_agent(AGENT).encryption_key.encrypt("x") != (
        AgentKeystore.for_agent(AGENT).encryption_key.encrypt("x")
    )
    assert abs(system_clock() - system_clock()) < 60 * 1_000_000_000


def test_headers_are_stamped_by_the_clock_the_chain_is_given():
    def commit_two(clock_start: int) -> list[str]:
        chain = SourceChain(MemoryStore(), AGENT, "test", stepping_clock(clock_start, 5_000_000))
        addresses = []
        for entry in (Entry.dna('{"name":"d"}'), Entry.agent_id("alice", AGENT.address)):
            header = chain.new_header(entry)
            chain.append(header, entry, WriteBatch())
            addresses.append(header.address)
            assert header.timestamp == format_ns(clock_start + 5_000_000 * (len(addresses) - 1))
        return addresses

    assert commit_two(START_NS) == commit_two(START_NS)
    assert commit_two(START_NS) != commit_two(START_NS + 1)


def test_a_clock_that_stands_still_still_orders_headers():
    chain = SourceChain(MemoryStore(), AGENT, "test", lambda: START_NS)
    stamps = []
    for entry in (Entry.dna('{"name":"d"}'), Entry.agent_id("alice", AGENT.address)):
        header = chain.new_header(entry)
        chain.append(header, entry, WriteBatch())
        stamps.append(header.timestamp)
    assert stamps == [format_ns(START_NS), format_ns(START_NS + 1)]
