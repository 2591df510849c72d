//! The simple zome of the app_spec twin: links from agents to `simple` entries with every
//! `get_links` option (status, tags, size and time pagination, sort order, counts), plus
//! encryption and a signal.

use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Simple {
    content: String,
}

fn simple_entry(content: String) -> Entry {
    Entry::app("simple", &Simple { content })
}

fn validate_simple(data: EntryValidationData<Entry>) -> Result<(), String> {
    entry_to_native::<Simple>(data).map(|_| ())
}

fn validate_authored_simple_posts(_data: LinkValidationData) -> Result<(), String> {
    Ok(())
}

fn definition() -> EntryDefinition {
    EntryDefinition::new(
        "simple",
        "this is a simple definition for lightweight app_spec tests",
        Sharing::Public,
        ValidationPackageDefinition::Entry,
        validate_simple,
    )
    .link(from("%agent_id", "authored_simple_posts", ValidationPackageDefinition::ChainFull, validate_authored_simple_posts))
}

const LINK_TYPE: &str = "authored_simple_posts";

fn handle_create_anchor() -> ZomeApiResult<Address> {
    commit_entry(&simple_entry("ANCHOR".to_string()))
}

fn handle_get_entry(address: Address) -> ZomeApiResult<Option<Entry>> {
    hdk_lite::get_entry(&address)
}

fn handle_create_link(base: Address, target: String) -> ZomeApiResult<()> {
    let address = commit_entry(&simple_entry(target))?;
    link_entries(&base, &address, LINK_TYPE, "tag")?;
    Ok(())
}

fn handle_create_link_with_tag(base: Address, target: String, tag: String) -> ZomeApiResult<()> {
    let address = commit_entry(&simple_entry(target))?;
    link_entries(&base, &address, LINK_TYPE, &tag)?;
    Ok(())
}

fn handle_delete_link(base: Address, target: String) -> ZomeApiResult<()> {
    let address = entry_address(&simple_entry(target))?;
    remove_link(&base, &address, LINK_TYPE, "tag")
}

fn handle_delete_link_with_tag(base: Address, target: String, tag: String) -> ZomeApiResult<()> {
    let address = entry_address(&simple_entry(target))?;
    remove_link(&base, &address, LINK_TYPE, &tag)
}

/// Unlike the HDK's default (Live), this asks for All when no status is given.
fn handle_get_my_links(
    base: Address,
    status_request: Option<LinksStatusRequestKind>,
    sort_order: Option<SortOrder>,
) -> ZomeApiResult<GetLinksResult> {
    let options = GetLinksOptions {
        status_request: status_request.unwrap_or(LinksStatusRequestKind::All),
        sort_order,
        ..GetLinksOptions::default()
    };
    get_links_with_options(&base, LinkMatch::Exactly(LINK_TYPE), LinkMatch::Any, options)
}

fn handle_get_my_links_with_tag(base: Address, status_request: LinksStatusRequestKind, tag: String) -> ZomeApiResult<GetLinksResult> {
    let options = GetLinksOptions { status_request, ..GetLinksOptions::default() };
    get_links_with_options(&base, LinkMatch::Exactly(LINK_TYPE), LinkMatch::Exactly(&tag), options)
}

fn handle_get_my_links_with_pagination(base: Address, pagesize: usize, pagenumber: usize) -> ZomeApiResult<GetLinksResult> {
    let pagination = Pagination::Size(SizePagination { page_number: pagenumber, page_size: pagesize });
    let options = GetLinksOptions { pagination: Some(pagination), ..GetLinksOptions::default() };
    get_links_with_options(&base, LinkMatch::Exactly(LINK_TYPE), LinkMatch::Any, options)
}

fn handle_get_my_links_with_time_pagination(base: Address, from_seconds: i64, limit: usize) -> ZomeApiResult<GetLinksResult> {
    let pagination = Pagination::Time(TimePagination { from_time: iso8601_from_seconds(from_seconds), limit });
    let options = GetLinksOptions { pagination: Some(pagination), ..GetLinksOptions::default() };
    get_links_with_options(&base, LinkMatch::Exactly(LINK_TYPE), LinkMatch::Any, options)
}

fn handle_get_my_links_count(base: Address, status_request: LinksStatusRequestKind, tag: String) -> ZomeApiResult<GetLinksResultCount> {
    let options = GetLinksOptions { status_request, ..GetLinksOptions::default() };
    get_links_count_with_options(&base, LinkMatch::Exactly(LINK_TYPE), LinkMatch::Exactly(&tag), options)
}

fn handle_encrypt(payload: String) -> ZomeApiResult<String> {
    hdk_lite::encrypt(&payload)
}

fn handle_decrypt(payload: String) -> ZomeApiResult<String> {
    hdk_lite::decrypt(&payload)
}

#[derive(Serialize)]
struct SignalPayload {
    message: String,
}

fn handle_test_emit_signal(message: String) -> ZomeApiResult<()> {
    emit_signal("test-signal", &serde_json::to_string(&SignalPayload { message }).unwrap())
}

fn handle_init() -> Result<(), String> {
    Ok(())
}

fn handle_validate_agent(data: EntryValidationData<AgentId>) -> Result<(), String> {
    match data {
        EntryValidationData::Create { entry, .. } if entry.nick == "reject_agent::app" => {
            Err("This agent will always be rejected".to_string())
        }
        EntryValidationData::Create { .. } => Ok(()),
        _ => Err("Cannot update or delete an agent at this time".to_string()),
    }
}

define_zome! {
    entries: [ definition() ]
    init: handle_init;
    validate_agent: handle_validate_agent;
    functions: [
        create_anchor() -> ZomeApiResult<Address> = handle_create_anchor;
        get_entry(address: Address) -> ZomeApiResult<Option<Entry>> = handle_get_entry;
        create_link(base: Address, target: String) -> ZomeApiResult<()> = handle_create_link;
        create_link_with_tag(base: Address, target: String, tag: String) -> ZomeApiResult<()> = handle_create_link_with_tag;
        delete_link(base: Address, target: String) -> ZomeApiResult<()> = handle_delete_link;
        delete_link_with_tag(base: Address, target: String, tag: String) -> ZomeApiResult<()> = handle_delete_link_with_tag;
        get_my_links(base: Address, status_request: Option<LinksStatusRequestKind>, sort_order: Option<SortOrder>) -> ZomeApiResult<GetLinksResult> = handle_get_my_links;
        get_my_links_with_tag(base: Address, status_request: LinksStatusRequestKind, tag: String) -> ZomeApiResult<GetLinksResult> = handle_get_my_links_with_tag;
        get_my_links_with_pagination(base: Address, pagesize: usize, pagenumber: usize) -> ZomeApiResult<GetLinksResult> = handle_get_my_links_with_pagination;
        get_my_links_with_time_pagination(base: Address, from_seconds: i64, limit: usize) -> ZomeApiResult<GetLinksResult> = handle_get_my_links_with_time_pagination;
        get_my_links_count(base: Address, status_request: LinksStatusRequestKind, tag: String) -> ZomeApiResult<GetLinksResultCount> = handle_get_my_links_count;
        encrypt(payload: String) -> ZomeApiResult<String> = handle_encrypt;
        decrypt(payload: String) -> ZomeApiResult<String> = handle_decrypt;
        test_emit_signal(message: String) -> ZomeApiResult<()> = handle_test_emit_signal;
    ]
    traits: {
        hc_public [create_anchor, get_entry, create_link, delete_link, get_my_links, test_emit_signal,
            get_my_links_count, create_link_with_tag, delete_link_with_tag,
            get_my_links_with_tag, encrypt, decrypt, get_my_links_with_pagination,
            get_my_links_with_time_pagination]
    }
}
