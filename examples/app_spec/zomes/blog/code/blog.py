"""The blog's functions (``app_spec/zomes/blog/code/src/blog.rs``)."""

from __future__ import annotations

import json

from holochain import hdk

from . import zome
from .memo import Memo
from .post import Post

public = zome.function(public=True)

BOB_AGENT_ID = "HcSCJCqoIY3uwiw34acyvNmJMyzkk4y9groHdYKBekqp7y48mvwfVTQQkzcjnfz"


def _dumps(value) -> str:
    """Compact JSON, as serde_json writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def post_entry(content: str) -> Post:
    return Post(content=content, date_created="now")


def memo_entry(content: str) -> Memo:
    return Memo(content=content, date_created="now")


@public
def show_env() -> dict:
    """The globals a zome sees (after reading the DNA and agent entries back)."""
    hdk.get_entry(hdk.DNA_ADDRESS)
    hdk.get_entry(hdk.AGENT_ADDRESS)
    return {
        "dna_name": hdk.DNA_NAME,
        "dna_address": hdk.DNA_ADDRESS,
        "agent_id": hdk.AGENT_ID_STR,
        "agent_address": hdk.AGENT_ADDRESS,
        "cap_request": hdk.CAPABILITY_REQ,
        "properties": hdk.PROPERTIES,
    }


@public
def get_test_properties():
    return hdk.property("test_property")


@public
def get_sources(address: str) -> list:
    result = hdk.get_entry_result(address, hdk.GetEntryOptions(headers=True))["result"]["Single"]
    return [header["provenances"][0][0] for header in result["headers"]]


@zome.function(public=True, raw=True)
def check_sum(num1: int, num2: int):
    """``summer.sum`` through ``hdk.call``; its ``ZomeApiResult`` is ours."""
    return hdk.call(hdk.THIS_INSTANCE, "summer", hdk.PUBLIC_TOKEN, "sum", {"num1": num1, "num2": num2})


@public
def ping(to_agent: str, message: str):
    received = hdk.send(to_agent, _dumps({"msg_type": "ping", "body": message}),
                        20000)
    return json.loads(received)


@public
def post_address(content: str) -> str:
    return hdk.entry_address(post_entry(content))


@public
def memo_address(content: str) -> str:
    return hdk.entry_address(memo_entry(content))


def _link_reply(address: str, in_reply_to: str | None) -> None:
    if in_reply_to is not None:
        # return with Err if in_reply_to points to a missing entry
        hdk.get_entry_result(in_reply_to)
        hdk.link_entries(in_reply_to, address, "comments", "")


@public
def create_post(content: str, in_reply_to: str | None = None) -> str:
    address = hdk.commit_entry(post_entry(content))
    hdk.link_entries(hdk.AGENT_ADDRESS, address, "authored_posts", "")
    _link_reply(address, in_reply_to)
    return address


@public
def create_tagged_post(content: str, tag: str) -> str:
    address = hdk.commit_entry(post_entry(content))
    hdk.link_entries(hdk.AGENT_ADDRESS, address, "authored_posts", tag)
    return address


@public
def create_post_with_agent(agent_id: str, content: str, in_reply_to: str | None = None) -> str:
    address = hdk.commit_entry(post_entry(content))
    hdk.link_entries(agent_id, address, "authored_posts", "")
    _link_reply(address, in_reply_to)
    return address


@public
def create_post_countersigned(content: str, in_reply_to: str | None, counter_signature: list[str]) -> str:
    address = hdk.commit_entry_result(post_entry(content), [counter_signature])["address"]
    hdk.link_entries(hdk.AGENT_ADDRESS, address, "authored_posts", "")
    _link_reply(address, in_reply_to)
    return address


def _is_my_friend(address: str) -> bool:
    return address == BOB_AGENT_ID


@public
def request_post_grant() -> str | None:
    # as in app_spec, the friend is hard-coded to bob
    address = BOB_AGENT_ID
    if _is_my_friend(address):
        return hdk.commit_capability_grant("can_post", "assigned", [address], {"blog": ["create_post"]})
    return None


@public
def get_grants() -> list:
    return hdk.query("%cap_token_grant", 0, 0)


@public
def commit_post_claim(grantor: str, claim: str) -> str:
    return hdk.commit_capability_claim("can post", grantor, claim)


def _check_claim_against_grant(claim: str, provenance: list[str], payload: str) -> bool:
    """The payload was signed by the provenance, and a grant at ``claim`` is assigned to it."""
    try:
        if not hdk.verify_signature(provenance, payload):
            return False
        result = hdk.query_result("%cap_token_grant", entries=True)
    except hdk.ZomeApiError:
        return False
    for address, entry in result["Entries"]:
        grant = entry.get("CapTokenGrant")
        if address == claim and grant is not None and grant["assignees"] and provenance[0] in grant["assignees"]:
            return True
    return False


def handle_receive(sender: str, payload: str) -> str:
    """Typed messages: ``ping`` answers, ``post`` creates a post for a claim holder."""
    try:
        message = json.loads(payload)
        msg_type, body = message["msg_type"], message["body"]
        if not isinstance(msg_type, str) or not isinstance(body, str):
            raise ValueError("msg_type and body must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        response = f"error: {exc}"
    else:
        if msg_type == "ping":
            response = f"got {body} from {sender}"
        elif msg_type == "post":
            try:
                post_body = json.loads(body)
                claim, signature, args = post_body["claim"], post_body["signature"], post_body["args"]
                content = args["content"]
            except (ValueError, KeyError, TypeError) as exc:
                response = f"error: couldn't parse body: {exc}"
            else:
                if not _check_claim_against_grant(claim, [sender, signature], content):
                    response = "error: no matching grant for claim"
                else:
                    try:
                        response = hdk.commit_entry(post_entry(content))
                    except hdk.ZomeApiError as exc:
                        response = f"error: couldn't create post: {exc}"
        else:
            response = f"unknown message type: {msg_type}"
    return _dumps({"msg_type": "response", "body": response})


def _find_claim() -> str:
    # the first claim on the chain, as in app_spec (the arguments are ignored there too)
    entries = hdk.query_result("%cap_token_claim", entries=True)["Entries"]
    if not entries:
        raise hdk.ZomeApiError.internal("failed to get claim")
    return entries[0][1]["CapTokenClaim"]["token"]


@public
def create_post_with_claim(grantor: str, content: str, in_reply_to: str | None = None) -> str:
    post_body = {
        "claim": _find_claim(),
        "signature": hdk.sign(content),
        "args": {"content": content, "in_reply_to": in_reply_to},
    }
    message = {"msg_type": "post", "body": _dumps(post_body)}
    response = hdk.send(grantor, _dumps(message), 10000)
    return json.loads(response)["body"]


@public
def create_memo(content: str) -> str:
    return hdk.commit_entry(memo_entry(content))


@public
def delete_post(content: str) -> str:
    address = hdk.entry_address(post_entry(content))
    hdk.remove_link(hdk.AGENT_ADDRESS, address, "authored_posts", "")
    return address


@public
def delete_entry_post(post_address: str) -> str:
    hdk.get_entry(post_address)
    return hdk.remove_entry(post_address)


@public
def update_post(post_address: str, new_content: str) -> str:
    old = hdk.get_entry(post_address)
    if old is not None and old.is_app:
        post = Post(**json.loads(old.app_value_json))
        return hdk.update_entry(Post(content=new_content, date_created=post.date_created), post_address)
    raise hdk.ZomeApiError.internal("failed to update post")


@public
def posts_by_agent(agent: str) -> dict:
    return hdk.get_links(agent, "authored_posts", None)


@public
def authored_posts_with_sources(agent: str) -> dict:
    return hdk.get_links_with_options(agent, "authored_posts", None, hdk.GetLinksOptions(headers=True))


@public
def my_posts(tag: str | None = None) -> dict:
    return hdk.get_links(hdk.AGENT_ADDRESS, "authored_posts", tag)


@public
def my_posts_with_load(tag: str | None = None) -> list:
    return hdk.get_links_and_load_type(hdk.AGENT_ADDRESS, "authored_posts", tag, Post)


@public
def my_memos() -> list:
    return hdk.query("memo", 0, 0)


@public
def get_memo(memo_address: str) -> hdk.Entry | None:
    # memos are private: only their author gets them
    return hdk.get_entry(memo_address)


@public
def my_posts_immediate_timeout() -> dict:
    # a link type that doesn't exist, with a zero timeout (answered locally: the base is us)
    return hdk.get_links_with_options(hdk.AGENT_ADDRESS, "non-existent-link", None, hdk.GetLinksOptions(timeout=0))


@public
def my_posts_as_committed() -> list:
    return hdk.query("post", 0, 0)


@public
def get_post(post_address: str) -> hdk.Entry | None:
    return hdk.get_entry(post_address)


@public
def get_initial_post(post_address: str) -> hdk.Entry | None:
    return hdk.get_entry_initial(post_address)


@public
def get_history_post(post_address: str) -> dict:
    history = hdk.get_entry_history(post_address)
    if history is None:
        raise hdk.ZomeApiError.internal("Could not get History")
    return history


@public
def get_post_with_options(post_address: str) -> dict:
    return hdk.get_entry_result(post_address, hdk.GetEntryOptions(status_request="All", entry=False))


@public
def get_post_with_options_latest(post_address: str) -> hdk.Entry:
    result = hdk.get_entry_result(post_address, hdk.GetEntryOptions(status_request="All", entry=False))
    items = result["result"]["All"]["items"]
    if not items:
        raise hdk.ZomeApiError.internal("Could not get latest")
    return hdk.Entry(items[-1]["entry"])


@zome.function(public=True, raw=True)
def get_post_bridged(post_address: str):
    """``get_post`` of the instance across the ``test-bridge`` bridge; its result is ours."""
    return hdk.call("test-bridge", "blog", hdk.PUBLIC_TOKEN, "get_post", {"post_address": post_address})


@public
def recommend_post(post_address: str, agent_address: str) -> str:
    hdk.debug(f"my address:\n{hdk.AGENT_ADDRESS!r}")
    hdk.debug(f"other address:\n{agent_address!r}")
    return hdk.link_entries(agent_address, post_address, "recommended_posts", "")


@public
def my_recommended_posts() -> dict:
    return hdk.get_links(hdk.AGENT_ADDRESS, "recommended_posts", None)


@public
def get_chain_header_hashes() -> list:
    headers = hdk.query_result("**", headers=True)["Headers"]
    return [hdk.ChainHeader.from_json(header).address for header in headers]
