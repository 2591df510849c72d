//! The blog zome of the WebSocket guide's example, in Rust: the twin of examples/blog's
//! Python zome (posts: create them, read them back, validate their length).

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

const MAX_LENGTH: usize = 280;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Post {
    content: String,
    date_created: String,
}

/// `date_created` is the literal "now" (as in app_spec): the same content, the same address.
fn post(content: String) -> Entry {
    Entry::app("post", &Post { content, date_created: "now".to_string() })
}

fn validate_post(data: EntryValidationData<Entry>) -> Result<(), String> {
    match entry_to_native::<Post>(data)? {
        EntryValidationData::Create { entry, .. } if entry.content.len() >= MAX_LENGTH => Err("Content too long".to_string()),
        _ => Ok(()),
    }
}

fn post_definition() -> EntryDefinition {
    EntryDefinition::new("post", "blog entry post", Sharing::Public, ValidationPackageDefinition::Entry, validate_post)
}

fn handle_init() -> Result<(), String> {
    let _ = debug("blog zome initialised");
    Ok(())
}

fn handle_validate_agent(_data: EntryValidationData<AgentId>) -> Result<(), String> {
    Ok(())
}

fn handle_create_post(content: String, _in_reply_to: Option<Address>) -> ZomeApiResult<Address> {
    commit_entry(&post(content))
}

fn handle_get_post(post_address: Address) -> ZomeApiResult<Option<Entry>> {
    get_entry(&post_address)
}

fn handle_post_address(content: String) -> ZomeApiResult<Address> {
    entry_address(&post(content))
}

fn handle_get_greeting() -> ZomeApiResult<JsonString> {
    property("greeting").map(JsonString)
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Env {
    dna_name: String,
    dna_address: Address,
    agent_id: String,
    agent_address: Address,
    cap_request: Option<CapabilityRequest>,
    properties: JsonString,
}

fn handle_show_env() -> ZomeApiResult<Env> {
    Ok(Env {
        dna_name: dna_name().to_string(),
        dna_address: dna_address().clone(),
        agent_id: agent_id_str().to_string(),
        agent_address: agent_address().clone(),
        cap_request: capability_request().clone(),
        properties: JsonString(properties().to_string()),
    })
}

define_zome! {
    entries: [ post_definition() ]
    init: handle_init;
    validate_agent: handle_validate_agent;
    functions: [
        create_post(content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> = handle_create_post;
        get_post(post_address: Address) -> ZomeApiResult<Option<Entry>> = handle_get_post;
        post_address(content: String) -> ZomeApiResult<Address> = handle_post_address;
        get_greeting() -> ZomeApiResult<JsonString> = handle_get_greeting;
        show_env() -> ZomeApiResult<Env> = handle_show_env;
    ]
    traits: { hc_public [create_post, get_post, post_address, get_greeting, show_env] }
}
