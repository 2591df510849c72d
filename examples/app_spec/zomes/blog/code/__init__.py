"""The blog zome of holochain-rust's app_spec, in Python.

A port of ``app_spec/zomes/blog`` (``lib.rs``, ``blog.rs``, ``post.rs``,
``memo.rs``): public posts linked from their authors, private memos,
updates and deletions, capability grants and claims, node-to-node messages
and a bridge.  Every function is in ``hc_public``, as there.
"""

from holochain import hdk

zome = hdk.Zome(description="The blog: posts, private memos, links, capabilities and messages")

from . import blog, memo, post  # noqa: E402,F401  (they register on `zome`)


@zome.init
def init() -> None:
    pass


@zome.validate_agent
def validate_agent(validation: hdk.EntryValidation) -> None:
    pass


@zome.receive
def receive(sender: str, payload: str) -> str:
    return blog.handle_receive(sender, payload)
