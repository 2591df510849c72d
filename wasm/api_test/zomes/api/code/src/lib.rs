//! The api_test zome: every host function and callback of the holochain-rust ABI.

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Note {
    pub content: String,
}

fn note_definition() -> EntryDefinition {
    EntryDefinition::new("note", "a note", Sharing::Public, ValidationPackageDefinition::Entry, validate_note)
}

fn validate_note(data: EntryValidationData<Entry>) -> Result<(), String> {
    match entry_to_native::<Note>(data)? {
        EntryValidationData::Create { entry, .. } if entry.content.is_empty() => Err("a note cannot be empty".to_string()),
        _ => Ok(()),
    }
}

fn handle_init() -> Result<(), String> {
    Ok(())
}

fn validate_agent(_data: EntryValidationData<AgentId>) -> Result<(), String> {
    Ok(())
}

fn handle_commit_note(content: String) -> ZomeApiResult<Address> {
    commit_entry(&Entry::app("note", &Note { content }))
}

define_zome! {
    entries: [ note_definition() ]
    init: handle_init;
    validate_agent: validate_agent;
    functions: [
        commit_note(content: String) -> ZomeApiResult<Address> = handle_commit_note;
    ]
    traits: { hc_public [commit_note] }
}
