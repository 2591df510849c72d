"""Logs: holochain-rust's `[logger]` table (level, rules, colours, state dumps) and `--log-format json`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pty
import subprocess
from pathlib import Path

from conftest import HC, HOLOCHAIN, one_instance_config, read_until
from holochain.cli.logs import log_state_dumps, setup_logging
from holochain.testing import DnaSpec, PlayerConfig

DONE = "*** Done. All interfaces started."


def run_holochain(spawn, tmp_path: Path, dna: Path, logger: str, *args: str) -> list[str]:
    """Start the conductor, stop it once it is up; its stderr lines."""
    config = one_instance_config(tmp_path, dna, extra=logger)
    conductor = spawn([HOLOCHAIN, "-c", str(config), *args], tmp_path, ready=DONE)
    assert conductor.stop() == 0
    return conductor.output()[1].splitlines()


RULES = """
[logger]
type = "debug"
state_dump = false
[[logger.rules.rules]]
pattern = ".*"
exclude = true
[[logger.rules.rules]]
pattern = "^holochain\\\\.(zome|interfaces)"
exclude = false
color = "red"
[[logger.rules.rules]]
pattern = "blog zome initialised"
exclude = true
"""


def test_the_logger_table_sets_the_level_and_its_rules_filter(spawn, tmp_path, blog_dna):
    lines = run_holochain(spawn, tmp_path, blog_dna, RULES)
    # the last matching rule decides: everything excluded, the interfaces put back, one zome line dropped again
    assert any("INFO    holochain.interfaces.service: interface 'ws' (websocket, admin) listening" in l for l in lines)
    assert not any("holochain.instance" in l or "holochain.conductor" in l for l in lines), lines
    assert not any("blog zome initialised" in l for l in lines)
    assert not any("\x1b[" in l for l in lines)  # colours only on a terminal

    everything = run_holochain(spawn, tmp_path, blog_dna, '[logger]\ntype = "debug"\n')
    assert any("DEBUG   holochain.zome: dna: 'blog zome initialised'" in l for l in everything)
    assert any("holochain.instance.instance: instance 'app': no chain found" in l for l in everything)


def test_the_level_comes_from_the_table_unless_the_command_line_says(spawn, tmp_path, blog_dna):
    quiet = run_holochain(spawn, tmp_path, blog_dna, '[logger]\ntype = "error"\n')
    assert not any(" INFO " in l or " DEBUG " in l for l in quiet), quiet
    told = run_holochain(spawn, tmp_path, blog_dna, '[logger]\ntype = "error"\n', "--log-level", "info")
    assert any("INFO    holochain.instance.instance" in l for l in told)
    assert not any(" DEBUG " in l for l in told)
    unknown = run_holochain(spawn, tmp_path, blog_dna, '[logger]\ntype = ""\n')
    assert "Fail to parse the logging level from string: ''." in unknown
    assert not any(" INFO " in l for l in unknown)  # the default level: warnings and errors


def test_a_bad_rule_stops_the_boot_naming_it(tmp_path, blog_dna):
    logger = '[logger]\ntype = "debug"\n[[logger.rules.rules]]\npattern = "foo["\n'
    done = subprocess.run(
        [HOLOCHAIN, "-c", str(one_instance_config(tmp_path, blog_dna, extra=logger))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "Error while trying to boot from config: logger.rules.rules[0].pattern: invalid regular expression 'foo['"
        in done.stderr
    )


def test_json_logs_are_one_object_per_line(spawn, tmp_path, blog_dna):
    lines = run_holochain(spawn, tmp_path, blog_dna, RULES, "--log-format", "json")
    records = [json.loads(l) for l in lines]
    assert records and all(set(r) == {"time", "level", "logger", "message"} for r in records)
    listening = next(r for r in records if r["logger"] == "holochain.interfaces.service")
    assert listening["level"] == "info" and listening["message"].startswith("interface 'ws' (websocket, admin)")
    assert listening["time"].endswith("Z") and len(listening["time"]) == len("2026-01-01T00:00:00.000Z")


def test_hc_run_logs_json_too(spawn, tmp_path, blog_dna):
    conductor = spawn([HC, "run", "--port", "0", "--dna", str(blog_dna), "--logging", "--log-format", "json"], tmp_path)
    assert conductor.stop() == 0
    records = [json.loads(l) for l in conductor.output()[1].splitlines()]
    assert any(r["message"].startswith("instance 'test-instance': no chain found") for r in records)
    assert {r["level"] for r in records} >= {"debug", "info"}


def test_rule_colours_on_a_terminal(tmp_path):
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w")
    try:
        rules = {"rules": [{"pattern": "^colour", "color": "cyan"}, {"pattern": "plain$", "color": "nope"}]}
        setup_logging("info", rules=rules, stream=stream)
        logging.getLogger("colour.test").info("shown in cyan")
        logging.getLogger("other").info("shown plain")
        stream.flush()
        text = read_until(master, "shown plain")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_holochain", False)]:
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        stream.close()
        os.close(master)
    cyan = next(l for l in text.splitlines() if "shown in cyan" in l)
    assert cyan.startswith("\x1b[36m") and cyan.endswith("\x1b[0m")
    plain = next(l for l in text.splitlines() if "shown plain" in l)
    assert "\x1b[" not in plain  # an unknown colour name shows the line uncoloured


async def test_state_dump_logs_each_instance(scenario, blog_dna, caplog):
    alice = await scenario.player("alice", PlayerConfig({"app": DnaSpec(blog_dna)}))
    await alice.call("app", "blog", "create_post", {"content": "dumped"})
    caplog.set_level(logging.INFO, logger="holochain.state_dump")
    task = asyncio.ensure_future(log_state_dumps(alice.conductor, interval=0.01))
    try:
        while not any("STATE DUMP" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    message = next(r.getMessage() for r in caplog.records if "STATE DUMP" in r.getMessage())
    assert message.startswith("STATE DUMP of instance 'app': source chain 4 records, active; holding ")
