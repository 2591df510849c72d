"""The summer zome of holochain-rust's app_spec: adds two numbers."""

from holochain import hdk

zome = hdk.Zome(description="Adds two numbers")


@zome.init
def init() -> None:
    pass


@zome.validate_agent
def validate_agent(validation: hdk.EntryValidation) -> None:
    pass


@zome.function(public=True)
def sum(num1: int, num2: int) -> int:
    return num1 + num2
