"""``python -m bench.wasm_calls``: what a WebAssembly zome call costs, against a Python zome, in one run.

In process (no sockets), on one event loop, bounded by ``--calls``:

* ``echo``: a call that only returns its argument; WASM on a worker thread
  (what the conductor does), WASM run on the event-loop thread (what it would
  cost to hold the loop instead), and a Python zome;
* ``commit``: one app-entry commit with validation (WASM validation runs in a
  fresh instance of its own, as in holochain-rust), WASM ÷ Python;
* ``read``: one get_entry of a committed entry, WASM ÷ Python.

The WASM zome is the WAT proxy zome of the tests (no HDK inside it, so the
figures are the host's and the ABI's costs, not serde's in the guest).
Ratios are Python-call time ÷ WASM-call time (1.0: as fast; the issue's target
is ≥ 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from holochain.core.crypto import AgentKey  # noqa: E402
from holochain.core.dna import Dna  # noqa: E402
from holochain.instance.instance import Instance  # noqa: E402
from holochain.ribosome.python_zome import bundle_directory  # noqa: E402
from holochain.storage.memory import MemoryStore  # noqa: E402
from wat_zomes import proxy_zome, wasm_dna  # noqa: E402

PY_ZOME = """
from holochain import hdk

zome = hdk.Zome()

@zome.entry_type("note", description="", links_to=[("note", "noted")])
class Note:
    text: str

@zome.validate("note")
def check(v):
    return None

@zome.function(public=True)
def echo(i: int) -> int:
    return i

@zome.function(public=True)
def commit(entry: dict) -> str:
    return hdk.commit_entry(hdk.Entry(entry))

@zome.function(public=True)
def get(address: str) -> dict:
    return hdk.get_entry_result(address)
"""


def _python_dna(tmp: Path) -> Dna:
    code_dir = tmp / "py"
    code_dir.mkdir()
    (code_dir / "__init__.py").write_text(PY_ZOME)
    import base64

    doc = wasm_dna(proxy_zome(), zome="py", functions=["echo", "commit", "get"])
    doc["zomes"]["py"]["code"]["code"] = base64.b64encode(bundle_directory(code_dir)).decode()
    return Dna.from_json(doc)


async def _make(dna: Dna, name: str) -> Instance:
    instance = Instance("bench", dna, AgentKey.for_test_agent(name), name, MemoryStore())
    await instance.initialize()
    instance.start()
    return instance


async def _call(instance: Instance, zome: str, fn: str, args: object) -> str:
    out = instance.call(zome, fn, args)
    if not isinstance(out, str):
        out = await out
    return out


async def _time(n: int, once) -> float:
    for _ in range(min(50, n)):
        await once(0)
    samples = []
    for i in range(n):
        start = time.perf_counter()
        await once(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def main(calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        wasm_instance = await _make(Dna.from_json(wasm_dna(proxy_zome())), "wasm")
        py_instance = await _make(_python_dna(Path(tmp)), "py")
        wat = wasm_instance.ribosome.wasm["wat"]
        from holochain.ribosome.host_api import CallHost
        from holochain.ribosome.wasm.callbacks import globals_json

        host = CallHost(wasm_instance, "wat", None)
        figures = {
            "echo_wasm_worker": await _time(calls, lambda i: _call(wasm_instance, "wat", "echo", {"i": i})),
            "echo_wasm_on_loop": await _time(
                calls,
                lambda i: asyncio.sleep(0, wat.zome.run_here("echo", json.dumps({"i": i}), host, globals_json(host))),
            ),
            "echo_python": await _time(calls, lambda i: _call(py_instance, "py", "echo", {"i": i})),
        }

        def entry(i):
            return {"entry": {"App": ["note", json.dumps({"text": f"note {i}"})]}}

        figures["commit_wasm"] = await _time(calls, lambda i: _call(wasm_instance, "wat", "commit", entry(i)))
        figures["commit_python"] = await _time(calls, lambda i: _call(py_instance, "py", "commit", entry(i + 10**6)))
        address = json.loads(json.loads(await _call(wasm_instance, "wat", "commit", entry(-1)))["value"])["address"]
        py_address = json.loads(await _call(py_instance, "py", "commit", entry(-1)))["Ok"]
        options = {"status_request": "Latest", "entry": True, "headers": False, "timeout": 1000}
        figures["read_wasm"] = await _time(
            calls, lambda i: _call(wasm_instance, "wat", "get", {"address": address, "options": options})
        )
        figures["read_python"] = await _time(calls, lambda i: _call(py_instance, "py", "get", {"address": py_address}))
        wasm_instance.close()
        py_instance.close()
    return figures


def report(figures: dict[str, float]) -> None:
    for name, seconds in figures.items():
        print(f"{name:22s} {seconds * 1e6:9.1f} µs (median)")
    print(f"worker thread ÷ on the loop (echo): {figures['echo_wasm_worker'] / figures['echo_wasm_on_loop']:.2f}x")
    print(f"commit: python ÷ wasm = {figures['commit_python'] / figures['commit_wasm']:.2f} (target ≥ 0.5)")
    print(f"read:   python ÷ wasm = {figures['read_python'] / figures['read_wasm']:.2f} (target ≥ 0.5)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500, help="calls timed per figure (default 500)")
    report(asyncio.run(main(parser.parse_args().calls)))
