//! The api zome's entry and link types, one per validation package kind, with rules that
//! fail on purpose so the validation paths (author and holders) can be checked.

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Note {
    pub content: String,
}

/// Rules shared by every note type: no empty notes, edits must change something, `keep`
/// cannot be deleted, and `panic` makes the validator panic (a trap during validation).
fn note_rules(data: EntryValidationData<Note>) -> Result<(), String> {
    match data {
        EntryValidationData::Create { entry, .. } => {
            if entry.content == "panic" {
                panic!("validation was asked to panic");
            }
            if entry.content.is_empty() {
                return Err("a note cannot be empty".to_string());
            }
            Ok(())
        }
        EntryValidationData::Modify { new_entry, old_entry, .. } => {
            if new_entry.content == old_entry.content {
                Err("an update must change the note".to_string())
            } else if new_entry.content.is_empty() {
                Err("a note cannot be empty".to_string())
            } else {
                Ok(())
            }
        }
        EntryValidationData::Delete { old_entry, .. } => {
            if old_entry.content == "keep" {
                Err("this note cannot be deleted".to_string())
            } else {
                Ok(())
            }
        }
    }
}

fn validate_note(data: EntryValidationData<Entry>) -> Result<(), String> {
    note_rules(entry_to_native::<Note>(data)?)
}

fn package_of(data: &EntryValidationData<Entry>) -> &ValidationPackage {
    match data {
        EntryValidationData::Create { validation_data, .. }
        | EntryValidationData::Modify { validation_data, .. }
        | EntryValidationData::Delete { validation_data, .. } => &validation_data.package,
    }
}

/// ChainFull: the package must carry the author's chain (entries and headers).
fn validate_chain_note(data: EntryValidationData<Entry>) -> Result<(), String> {
    let package = package_of(&data);
    if package.source_chain_entries.is_none() || package.source_chain_headers.is_none() {
        return Err("a chain_note needs the ChainFull validation package".to_string());
    }
    note_rules(entry_to_native::<Note>(data)?)
}

/// Custom: the package must carry the custom text.
fn validate_custom_note(data: EntryValidationData<Entry>) -> Result<(), String> {
    if package_of(&data).custom.is_none() {
        return Err("a custom_note needs its Custom validation package".to_string());
    }
    note_rules(entry_to_native::<Note>(data)?)
}

/// Links between notes: the tag `forbidden` is refused, when added and when removed.
fn validate_related(data: LinkValidationData) -> Result<(), String> {
    let link = match &data {
        LinkValidationData::LinkAdd { link, .. } | LinkValidationData::LinkRemove { link, .. } => link,
    };
    if link.link.tag == "forbidden" {
        Err(format!("the tag `forbidden` is refused ({:?})", link.action_kind))
    } else {
        Ok(())
    }
}

/// Links from agents: only the agent itself may link from its own address.
fn validate_authored(data: LinkValidationData) -> Result<(), String> {
    match data {
        LinkValidationData::LinkAdd { link, validation_data } => {
            if validation_data.sources().contains(&link.link.base) {
                Ok(())
            } else {
                Err("only an agent may link from itself".to_string())
            }
        }
        LinkValidationData::LinkRemove { .. } => Ok(()),
    }
}

fn ok_link(_data: LinkValidationData) -> Result<(), String> {
    Ok(())
}

pub fn note_definition() -> EntryDefinition {
    EntryDefinition::new("note", "a public note", Sharing::Public, ValidationPackageDefinition::Entry, validate_note)
        .link(to("note", "related", ValidationPackageDefinition::ChainHeaders, validate_related))
        .link(from("%agent_id", "authored_notes", ValidationPackageDefinition::Entry, validate_authored))
        .link(from("%agent_id", "any_notes", ValidationPackageDefinition::Entry, ok_link))
}

pub fn private_note_definition() -> EntryDefinition {
    EntryDefinition::new("private_note", "a note that stays on its author's chain", Sharing::Private, ValidationPackageDefinition::ChainEntries, validate_note)
}

pub fn chain_note_definition() -> EntryDefinition {
    EntryDefinition::new("chain_note", "a note validated with the author's full chain", Sharing::Public, ValidationPackageDefinition::ChainFull, validate_chain_note)
}

pub fn custom_note_definition() -> EntryDefinition {
    EntryDefinition::new(
        "custom_note",
        "a note validated with a custom package",
        Sharing::Public,
        ValidationPackageDefinition::Custom("the custom package of custom_note".to_string()),
        validate_custom_note,
    )
}
