"""The ``memo`` entry type: a private post that never leaves its author."""

from dataclasses import dataclass

from holochain import hdk

from . import zome


@zome.entry_type("memo", description="A private memo entry type.", sharing="private",
                 validation_package="Entry")
@dataclass
class Memo:
    content: str
    date_created: str


@zome.validate("memo")
def validate_memo(validation: hdk.EntryValidation) -> None:
    pass
