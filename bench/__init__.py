"""holochain-py's benchmark: the conductor measured side by side with a
reference JSON-RPC WebSocket server (npm rpc-websockets 4.x) in one run, on
loopback only.  Run it with ``python -m bench`` (``--quick`` for a smoke
run); README.md, "Benchmarks", says what each figure means.
"""
