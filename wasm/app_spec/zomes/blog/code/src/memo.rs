//! The `memo` entry type: a private post that never leaves its author's chain.

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Memo {
    pub content: String,
    pub date_created: String,
}

impl Memo {
    pub fn new(content: &str, date_created: &str) -> Memo {
        Memo { content: content.to_string(), date_created: date_created.to_string() }
    }
}

fn validate(data: EntryValidationData<Entry>) -> Result<(), String> {
    entry_to_native::<Memo>(data).map(|_| ())
}

pub fn definition() -> EntryDefinition {
    EntryDefinition::new("memo", "A private memo entry type.", Sharing::Private, ValidationPackageDefinition::Entry, validate)
}
