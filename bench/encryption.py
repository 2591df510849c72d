"""The ``encryption`` section: what an encrypted (SQLCipher) store costs.

The same ``holochain -c`` configuration (one test agent, the blog DNA, one SQLite store) with
and without ``encrypted = true``, in a shuffled order in each repetition: ``create_post`` and
``get_post`` of a stored entry at every load, and the time to the first answer.  The summary
(bench/report.py) gives encrypted ÷ plain for the same load in the same repetition.
"""

from __future__ import annotations

import random
import time
from typing import Any

import tomli_w

from . import calls
from .procs import Server, venv_script
from .suite import _HC_PORT_LINE, Lab, Settings, _ok, _print_row
from .wsclient import rpc

__all__ = ["encryption"]

KINDS = ("plain", "encrypted")


def _config(lab: Lab, home: Any, encrypted: bool) -> dict[str, Any]:
    storage: dict[str, Any] = {"type": "sqlite", "path": str(home / "store")}
    if encrypted:
        storage["encrypted"] = True
    return {
        "persistence_dir": str(home),
        "agents": [
            {"id": "a", "name": "a", "public_address": "[REWRITTEN]", "keystore_file": "[UNUSED]", "test_agent": True}
        ],
        "dnas": [{"id": "blog", "file": str(lab.dna), "hash": lab.dna_hash}],
        "instances": [{"id": calls.INSTANCE_ID, "dna": "blog", "agent": "a", "storage": storage}],
        "interfaces": [
            {"id": "websocket", "driver": {"type": "websocket", "port": 0}, "instances": [{"id": calls.INSTANCE_ID}]}
        ],
    }


def encryption(settings: Settings, lab: Lab) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rep in range(settings.reps):
        lab.log(f"encryption, repetition {rep + 1}/{settings.reps}")
        kinds = list(KINDS)
        random.Random(rep).shuffle(kinds)
        for kind in kinds:
            home = lab.dir(f"encryption-{rep}-{kind}")
            config = home / "conductor-config.toml"
            config.write_text(tomli_w.dumps(_config(lab, home, kind == "encrypted")), encoding="utf-8")
            started = time.perf_counter()
            args = [*venv_script("holochain"), "-c", str(config), "--log-level", "warning"]
            with Server(f"holochain -c ({kind} store)", args, cwd=home, ready=_HC_PORT_LINE) as server:
                assert server.port is not None
                content = f"benchencrypted{rep}"
                stored = rpc(
                    server.port,
                    "call",
                    {
                        "instance_id": calls.INSTANCE_ID,
                        "zome": "blog",
                        "function": "create_post",
                        "args": {"content": content},
                    },
                )
                first_reply_s = time.perf_counter() - started
                address = _ok(stored)
                for workload, body, expect in (
                    ("create_post", calls.create_post(f"e{rep}{kind}"), calls.OK),
                    ("get_post", calls.get_post(address), content),
                ):
                    for conns, inflight in settings.loads:
                        row = lab.load(settings, server, conns=conns, inflight=inflight, body=body, expect=expect)
                        row.update(workload=workload, store=kind, rep=rep, first_reply_s=round(first_reply_s, 4))
                        rows.append(row)
                        _print_row(lab, f"{workload} ({kind})", row)
    return rows
