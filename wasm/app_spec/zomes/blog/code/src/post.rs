//! The `post` entry type: public, at most 279 bytes, changed only by real edits.

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Post {
    pub content: String,
    pub date_created: String,
}

impl Post {
    pub fn new(content: &str, date_created: &str) -> Post {
        Post { content: content.to_string(), date_created: date_created.to_string() }
    }
}

fn validate(data: EntryValidationData<Entry>) -> Result<(), String> {
    match entry_to_native::<Post>(data)? {
        EntryValidationData::Create { entry, .. } if entry.content.len() >= 280 => Err("Content too long".to_string()),
        EntryValidationData::Modify { new_entry, old_entry, .. } if new_entry.content == old_entry.content => {
            Err("Trying to modify with same data".to_string())
        }
        EntryValidationData::Delete { old_entry, .. } if old_entry.content == "SYS" => {
            Err("Trying to delete native type with content SYS".to_string())
        }
        _ => Ok(()),
    }
}

fn validate_authored_posts(data: LinkValidationData) -> Result<(), String> {
    match data {
        LinkValidationData::LinkAdd { link, .. } if link.link.tag == "muffins" => {
            Err("This is the one tag that is not allowed!".to_string())
        }
        _ => Ok(()),
    }
}

fn validate_recommended_posts(_data: LinkValidationData) -> Result<(), String> {
    Ok(())
}

pub fn definition() -> EntryDefinition {
    EntryDefinition::new("post", "blog entry post", Sharing::Public, ValidationPackageDefinition::ChainFull, validate)
        .link(from("%agent_id", "authored_posts", ValidationPackageDefinition::Entry, validate_authored_posts))
        .link(from("%agent_id", "recommended_posts", ValidationPackageDefinition::Entry, validate_recommended_posts))
}
