//! A zome with the exports of an older HDK generation (see zome.json); its init commits a
//! `marker` entry, so a test sees whether the host ran it.

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Marker {
    zome: String,
}

fn validate_marker(data: EntryValidationData<Entry>) -> Result<(), String> {
    entry_to_native::<Marker>(data).map(|_| ())
}

fn marker_definition() -> EntryDefinition {
    EntryDefinition::new("marker", "committed by init", Sharing::Public, ValidationPackageDefinition::Entry, validate_marker)
}

fn handle_init() -> Result<(), String> {
    commit_entry(&Entry::app("marker", &Marker { zome: "genesis".to_string() })).map(|_| ()).map_err(String::from)
}

fn handle_validate_agent(_data: EntryValidationData<AgentId>) -> Result<(), String> {
    Ok(())
}

/// The markers on this agent's chain (one per zome whose init ran).
fn handle_markers() -> ZomeApiResult<Vec<Address>> {
    query(QueryArgsNames::QueryName("marker".to_string()), 0, 0)
}

fn handle_echo(text: String) -> ZomeApiResult<String> {
    Ok(text)
}

define_zome! {
    generation: genesis;
    entries: [ marker_definition() ]
    init: handle_init;
    validate_agent: handle_validate_agent;
    functions: [
        markers() -> ZomeApiResult<Vec<Address>> = handle_markers;
        echo(text: String) -> ZomeApiResult<String> = handle_echo;
    ]
    traits: { hc_public [markers, echo] }
}
