"""The blog zome: posts, as in the holochain-rust guide.

``create_post`` commits a post and answers its address; ``get_post`` reads
an entry back.  A post's ``date_created`` is the literal ``"now"`` (as in
holochain-rust's app_spec), so the same content always has the same address.
"""

from dataclasses import dataclass

from holochain import hdk

zome = hdk.Zome(description="Posts: create them, read them back, validate their length")

MAX_LENGTH = 280


@zome.entry_type("post", description="blog entry post", sharing="public")
@dataclass
class Post:
    content: str
    date_created: str


@zome.validate("post")
def validate_post(validation: hdk.EntryValidation) -> None:
    if validation.action == "create" and len(validation.entry.content.encode()) >= MAX_LENGTH:
        raise hdk.ValidationError("Content too long")


@zome.init
def init() -> None:
    hdk.debug("blog zome initialised")


@zome.function(public=True)
def create_post(content: str, in_reply_to: str | None = None) -> str:
    """Commit a post; answers its address."""
    return hdk.commit_entry(Post(content=content, date_created="now"))


@zome.function(public=True)
def get_post(post_address: str) -> hdk.Entry | None:
    """The entry at ``post_address`` (latest version), or null."""
    return hdk.get_entry(post_address)


@zome.function(public=True)
def post_address(content: str) -> str:
    """The address a post with this content has, without committing it."""
    return hdk.entry_address(Post(content=content, date_created="now"))


@zome.function(public=True)
def get_greeting() -> str:
    """The DNA property ``greeting``."""
    return hdk.property("greeting")


@zome.function(public=True)
def show_env() -> dict:
    """What the conductor tells this zome about itself."""
    return {
        "dna_name": hdk.DNA_NAME,
        "dna_address": hdk.DNA_ADDRESS,
        "agent_id": hdk.AGENT_ID_STR,
        "agent_address": hdk.AGENT_ADDRESS,
        "cap_request": hdk.CAPABILITY_REQ,
        "properties": hdk.PROPERTIES,
    }
