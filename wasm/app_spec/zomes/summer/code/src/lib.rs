//! The summer zome of the app_spec twin: adds two numbers.

use hdk_lite::*;

fn handle_sum(num1: u32, num2: u32) -> ZomeApiResult<u32> {
    Ok(num1 + num2)
}

fn handle_init() -> Result<(), String> {
    Ok(())
}

fn handle_validate_agent(_data: EntryValidationData<AgentId>) -> Result<(), String> {
    Ok(())
}

define_zome! {
    entries: []
    init: handle_init;
    validate_agent: handle_validate_agent;
    functions: [
        sum(num1: u32, num2: u32) -> ZomeApiResult<u32> = handle_sum;
    ]
    traits: { hc_public [sum] }
}
