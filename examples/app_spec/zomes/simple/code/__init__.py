"""The simple zome of holochain-rust's app_spec (``app_spec/zomes/simple``), in Python.

Links from agents to ``simple`` entries, with every ``get_links`` option:
status, tags, size and time pagination, sort order and counts; plus
encryption and a signal.
"""

from dataclasses import dataclass

from holochain import hdk

zome = hdk.Zome(description="The simple App")
public = zome.function(public=True)


@zome.entry_type("simple", description="this is a simple definition for lightweight app_spec tests",
                 sharing="public", validation_package="Entry", linked_from=[("%agent_id", "authored_simple_posts")])
@dataclass
class Simple:
    content: str


@zome.validate("simple")
def validate_simple(validation: hdk.EntryValidation) -> None:
    pass


@zome.validate_link("authored_simple_posts", validation_package="ChainFull")
def validate_authored_simple_posts(validation: hdk.LinkValidation) -> None:
    pass


@zome.init
def init() -> None:
    pass


@zome.validate_agent
def validate_agent(validation: hdk.EntryValidation) -> None:
    if validation.action != "create":
        raise hdk.ValidationError("Cannot update or delete an agent at this time")
    if validation.entry["nick"] == "reject_agent::app":
        raise hdk.ValidationError("This agent will always be rejected")


@public
def create_anchor() -> str:
    return hdk.commit_entry(Simple("ANCHOR"))


@public
def get_entry(address: str) -> hdk.Entry | None:
    return hdk.get_entry(address)


@public
def create_link(base: str, target: str) -> None:
    address = hdk.commit_entry(Simple(target))
    hdk.link_entries(base, address, "authored_simple_posts", "tag")


@public
def create_link_with_tag(base: str, target: str, tag: str) -> None:
    address = hdk.commit_entry(Simple(target))
    hdk.link_entries(base, address, "authored_simple_posts", tag)


@public
def delete_link(base: str, target: str) -> None:
    hdk.remove_link(base, hdk.entry_address(Simple(target)), "authored_simple_posts", "tag")


@public
def delete_link_with_tag(base: str, target: str, tag: str) -> None:
    hdk.remove_link(base, hdk.entry_address(Simple(target)), "authored_simple_posts", tag)


@public
def get_my_links(base: str, status_request: str | None = None, sort_order: str | None = None) -> dict:
    # unlike the HDK's default (Live), this asks for All when no status is given
    options = hdk.GetLinksOptions(status_request=status_request or "All", sort_order=sort_order)
    return hdk.get_links_with_options(base, "authored_simple_posts", None, options)


@public
def get_my_links_with_tag(base: str, status_request: str, tag: str) -> dict:
    return hdk.get_links_with_options(base, "authored_simple_posts", tag,
                                      hdk.GetLinksOptions(status_request=status_request))


@public
def get_my_links_with_pagination(base: str, pagesize: int, pagenumber: int) -> dict:
    options = hdk.GetLinksOptions(pagination=hdk.SizePagination(page_number=pagenumber, page_size=pagesize))
    return hdk.get_links_with_options(base, "authored_simple_posts", None, options)


@public
def get_my_links_with_time_pagination(base: str, from_seconds: int, limit: int) -> dict:
    options = hdk.GetLinksOptions(pagination=hdk.TimePagination(from_time=from_seconds, limit=limit))
    return hdk.get_links_with_options(base, "authored_simple_posts", None, options)


@public
def get_my_links_count(base: str, status_request: str, tag: str) -> dict:
    return hdk.get_links_count_with_options(base, "authored_simple_posts", tag,
                                            hdk.GetLinksOptions(status_request=status_request))


@public
def encrypt(payload: str) -> str:
    return hdk.encrypt(payload)


@public
def decrypt(payload: str) -> str:
    return hdk.decrypt(payload)


@public
def test_emit_signal(message: str) -> None:
    hdk.emit_signal("test-signal", {"message": message})
