"""``python -m bench.wasm_calls``: what a WebAssembly zome call costs, against a Python zome, in one run.

In process (no sockets), on one event loop, bounded by ``--calls``:

* ``echo``: a call that only returns its argument;
* ``commit``: one app-entry commit with validation (WASM validation runs in a
  fresh instance of its own, as in holochain-rust), WASM ÷ Python;
* ``read``: one get_entry of a committed entry, WASM ÷ Python.

The WASM zome is the WAT proxy zome of the tests (no HDK inside it, so the
figures are the host's and the ABI's costs, not serde's in the guest).
Each WASM figure twice: ``loop`` (the conductor's default: on the event-loop
thread, yielding to it at every epoch tick and whenever a host call waits) and
``worker`` (on a worker thread, every host call marshalled back to the loop;
what calls use while another holds the loop).  Ratios are Python-call time ÷
WASM-call time (1.0: as fast; the issue's target is ≥ 0.5).
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
from holochain.storage.memory_store import MemoryStore  # noqa: E402
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
    from holochain.ribosome.wasm import zome as wasm_zome

    def entry(i):
        return {"entry": {"App": ["note", json.dumps({"text": f"note {i}"})]}}

    options = {"status_request": "Latest", "entry": True, "headers": False, "timeout": 1000}
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        py_instance = await _make(_python_dna(Path(tmp)), "py")
        figures["echo_python"] = await _time(calls, lambda i: _call(py_instance, "py", "echo", {"i": i}))
        figures["commit_python"] = await _time(calls, lambda i: _call(py_instance, "py", "commit", entry(i)))
        py_address = json.loads(await _call(py_instance, "py", "commit", entry(-1)))["Ok"]
        figures["read_python"] = await _time(calls, lambda i: _call(py_instance, "py", "get", {"address": py_address}))
        py_instance.close()
        for mode, on_loop in (("loop", True), ("worker", False)):
            wasm_zome.ON_LOOP = on_loop
            instance = await _make(Dna.from_json(wasm_dna(proxy_zome())), f"wasm-{mode}")
            figures[f"echo_wasm_{mode}"] = await _time(
                calls, lambda i, inst=instance: _call(inst, "wat", "echo", {"i": i})
            )
            figures[f"commit_wasm_{mode}"] = await _time(
                calls, lambda i, inst=instance: _call(inst, "wat", "commit", entry(i))
            )
            address = json.loads(json.loads(await _call(instance, "wat", "commit", entry(-1)))["value"])["address"]
            figures[f"read_wasm_{mode}"] = await _time(
                calls, lambda i, inst=instance, a=address: _call(inst, "wat", "get", {"address": a, "options": options})
            )
            instance.close()
        wasm_zome.ON_LOOP = True
    return figures


def report(figures: dict[str, float]) -> None:
    for name, seconds in figures.items():
        print(f"{name:22s} {seconds * 1e6:9.1f} µs (median)")
    for mode in ("loop", "worker"):
        print(
            f"[{mode}] commit: python ÷ wasm = {figures['commit_python'] / figures[f'commit_wasm_{mode}']:.2f}, "
            f"read: python ÷ wasm = {figures['read_python'] / figures[f'read_wasm_{mode}']:.2f} (target ≥ 0.5)"
        )
    print(f"worker threads ÷ on the loop (commit): {figures['commit_wasm_worker'] / figures['commit_wasm_loop']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500, help="calls timed per figure (default 500)")
    report(asyncio.run(main(parser.parse_args().calls)))
