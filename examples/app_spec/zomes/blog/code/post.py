"""The ``post`` entry type: public, validated for length and for real changes."""

from dataclasses import dataclass

from holochain import hdk

from . import zome


@zome.entry_type("post", description="blog entry post", sharing="public", validation_package="ChainFull",
                 linked_from=[("%agent_id", "authored_posts"), ("%agent_id", "recommended_posts")])
@dataclass
class Post:
    content: str
    date_created: str


@zome.validate("post")
def validate_post(validation: hdk.EntryValidation) -> None:
    if validation.action == "create":
        if len(validation.entry.content.encode("utf-8")) >= 280:
            raise hdk.ValidationError("Content too long")
    elif validation.action == "modify":
        if validation.entry.content == validation.old_entry.content:
            raise hdk.ValidationError("Trying to modify with same data")
    elif validation.action == "delete":
        if validation.old_entry.content == "SYS":
            raise hdk.ValidationError("Trying to delete native type with content SYS")


@zome.validate_link("authored_posts", validation_package="Entry")
def validate_authored_posts(validation: hdk.LinkValidation) -> None:
    # test validation of links based on their tag
    if validation.action == "add" and validation.tag == "muffins":
        raise hdk.ValidationError("This is the one tag that is not allowed!")


@zome.validate_link("recommended_posts", validation_package="Entry")
def validate_recommended_posts(validation: hdk.LinkValidation) -> None:
    pass
