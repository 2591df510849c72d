"""The requests the benchmark sends, as load-generator templates.

``@ID@`` is replaced by each call's JSON-RPC id, which also makes every
committed post unique within a run; ``tag`` keeps posts of different runs
against the same conductor apart.
"""

from __future__ import annotations

import json

__all__ = ["INFO", "zome_call", "create_post", "get_post", "OK", "INSTANCE_ID"]

INSTANCE_ID = "test-instance"

#: what a successful zome call's reply contains (the result is a JSON string, so quotes are escaped)
OK = '\\"Ok\\"'

INFO = '{"jsonrpc":"2.0","id":@ID@,"method":"info/instances","params":{}}'


def zome_call(function: str, args: dict) -> str:
    params = {"instance_id": INSTANCE_ID, "zome": "blog", "function": function, "args": args}
    return '{"jsonrpc":"2.0","id":@ID@,"method":"call","params":' + json.dumps(params, separators=(",", ":")) + "}"


def create_post(tag: str) -> str:
    """``create_post`` with content unique per call (``bench <tag> <id>``)."""
    return zome_call("create_post", {"content": f"bench {tag} @ID@", "in_reply_to": None})


def get_post(address: str) -> str:
    return zome_call("get_post", {"post_address": address})
