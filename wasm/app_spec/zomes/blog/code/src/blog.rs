//! The blog's function handlers.

use crate::memo::Memo;
use crate::post::Post;
use hdk_lite::*;
use serde_derive::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The agent app_spec's grants are for (bob's key, hard-coded there too).
pub const BOB_AGENT_ID: &str = "HcSCJCqoIY3uwiw34acyvNmJMyzkk4y9groHdYKBekqp7y48mvwfVTQQkzcjnfz";

#[derive(Serialize, Deserialize, Debug)]
pub struct Env {
    dna_name: String,
    dna_address: String,
    agent_id: String,
    agent_address: String,
    cap_request: Option<CapabilityRequest>,
    /// the DNA's properties as JSON text (a string in the output)
    properties: JsonString,
}

fn post_entry(content: &str) -> Entry {
    Entry::app("post", &Post::new(content, "now"))
}

fn memo_entry(content: &str) -> Entry {
    Entry::app("memo", &Memo::new(content, "now"))
}

pub fn handle_show_env() -> ZomeApiResult<Env> {
    get_entry(dna_address())?;
    get_entry(agent_address())?;
    Ok(Env {
        dna_name: dna_name().to_string(),
        dna_address: dna_address().clone(),
        agent_id: agent_id_str().to_string(),
        agent_address: agent_address().clone(),
        cap_request: capability_request().clone(),
        properties: JsonString(properties().to_string()),
    })
}

pub fn handle_get_test_properties() -> ZomeApiResult<JsonString> {
    property("test_property").map(JsonString)
}

pub fn handle_get_sources(address: Address) -> ZomeApiResult<Vec<Address>> {
    let options = GetEntryOptions { headers: true, ..GetEntryOptions::default() };
    match get_entry_result(&address, options)?.result {
        GetEntryResultType::Single(item) => Ok(item.headers.iter().map(|h| h.provenances[0].0.clone()).collect()),
        GetEntryResultType::All(_) => Err(ZomeApiError::FunctionNotImplemented),
    }
}

#[derive(Serialize)]
struct SumInput {
    num1: u32,
    num2: u32,
}

/// `summer.sum` through `call`: the callee's `ZomeApiResult<u32>` is ours.
pub fn handle_check_sum(num1: u32, num2: u32) -> ZomeApiResult<u32> {
    let args = serde_json::to_string(&SumInput { num1, num2 }).unwrap();
    let result = call(THIS_INSTANCE, "summer", public_token().clone(), "sum", &args)?;
    let sum: Result<u32, ZomeApiError> =
        serde_json::from_str(result.as_str()).map_err(|e| ZomeApiError::Internal(e.to_string()))?;
    sum
}

pub fn handle_ping(to_agent: Address, message: String) -> ZomeApiResult<JsonString> {
    let payload = serde_json::json!({"msg_type": "ping", "body": message}).to_string();
    let received = send(to_agent, payload, Timeout(20000))?;
    Ok(JsonString(received))
}

pub fn handle_post_address(content: String) -> ZomeApiResult<Address> {
    entry_address(&post_entry(&content))
}

pub fn handle_memo_address(content: String) -> ZomeApiResult<Address> {
    entry_address(&memo_entry(&content))
}

fn link_reply(address: &Address, in_reply_to: Option<Address>) -> ZomeApiResult<()> {
    if let Some(in_reply_to) = in_reply_to {
        // an Err if in_reply_to points to nothing
        get_entry_result(&in_reply_to, GetEntryOptions::default())?;
        link_entries(&in_reply_to, address, "comments", "")?;
    }
    Ok(())
}

pub fn handle_create_post(content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> {
    let address = commit_entry(&post_entry(&content))?;
    link_entries(agent_address(), &address, "authored_posts", "")?;
    link_reply(&address, in_reply_to)?;
    Ok(address)
}

pub fn handle_create_tagged_post(content: String, tag: String) -> ZomeApiResult<Address> {
    let address = commit_entry(&post_entry(&content))?;
    link_entries(agent_address(), &address, "authored_posts", &tag)?;
    Ok(address)
}

pub fn handle_create_post_with_agent(agent_id: Address, content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> {
    let address = commit_entry(&post_entry(&content))?;
    link_entries(&agent_id, &address, "authored_posts", "")?;
    link_reply(&address, in_reply_to)?;
    Ok(address)
}

pub fn handle_create_post_countersigned(
    content: String,
    in_reply_to: Option<Address>,
    counter_signature: Provenance,
) -> ZomeApiResult<Address> {
    let options = CommitEntryOptions { provenance: vec![counter_signature] };
    let address = commit_entry_result(&post_entry(&content), options)?.address;
    link_entries(agent_address(), &address, "authored_posts", "")?;
    link_reply(&address, in_reply_to)?;
    Ok(address)
}

fn is_my_friend(address: &str) -> bool {
    address == BOB_AGENT_ID
}

pub fn handle_request_post_grant() -> ZomeApiResult<Option<Address>> {
    let address = BOB_AGENT_ID.to_string();
    if !is_my_friend(&address) {
        return Ok(None);
    }
    let mut functions = BTreeMap::new();
    functions.insert("blog".to_string(), vec!["create_post".to_string()]);
    commit_capability_grant("can_post", CapabilityType::Assigned, Some(vec![address]), functions).map(Some)
}

pub fn handle_get_grants() -> ZomeApiResult<Vec<Address>> {
    query(QueryArgsNames::QueryName("%cap_token_grant".to_string()), 0, 0)
}

pub fn handle_commit_post_claim(grantor: Address, claim: Address) -> ZomeApiResult<Address> {
    commit_capability_claim("can post", grantor, claim)
}

#[derive(Serialize, Deserialize, Debug)]
struct CreatePostArgs {
    content: String,
    in_reply_to: Option<Address>,
}

/// A node-to-node message; `body` is JSON text carried as a string.
#[derive(Serialize, Deserialize, Debug)]
struct Message {
    msg_type: String,
    body: String,
}

#[derive(Serialize, Deserialize, Debug)]
struct PostMessageBody {
    claim: Address,
    signature: Signature,
    args: CreatePostArgs,
}

fn entries_of(type_name: &str) -> ZomeApiResult<Vec<(Address, Entry)>> {
    let options = QueryArgsOptions { entries: true, ..QueryArgsOptions::default() };
    match query_result(QueryArgsNames::QueryName(type_name.to_string()), options)? {
        QueryResult::Entries(entries) => Ok(entries),
        _ => Err(ZomeApiError::Internal("query did not return entries".to_string())),
    }
}

/// The payload was signed by the provenance's agent, and the grant at `claim` is assigned to it.
fn check_claim_against_grant(claim: &Address, provenance: Provenance, payload: &str) -> bool {
    if !verify_signature(provenance.clone(), payload).unwrap_or(false) {
        return false;
    }
    match entries_of("%cap_token_grant") {
        Err(_) => false,
        Ok(entries) => entries.iter().any(|(address, entry)| {
            address == claim
                && match entry {
                    Entry::CapTokenGrant(grant) => grant.assignees.as_ref().map_or(false, |a| a.contains(&provenance.0)),
                    _ => false,
                }
        }),
    }
}

/// Typed messages: `ping` answers, `post` creates a post for a claim holder.
pub fn handle_receive(from: Address, payload: String) -> String {
    let response = match serde_json::from_str::<Message>(&payload) {
        Err(err) => format!("error: {}", err),
        Ok(message) => match message.msg_type.as_str() {
            "ping" => format!("got {} from {}", message.body, from),
            "post" => match serde_json::from_str::<PostMessageBody>(&message.body) {
                Err(err) => format!("error: couldn't parse body: {}", err),
                Ok(body) => {
                    if !check_claim_against_grant(&body.claim, Provenance(from, body.signature), &body.args.content) {
                        "error: no matching grant for claim".to_string()
                    } else {
                        match commit_entry(&post_entry(&body.args.content)) {
                            Err(err) => format!("error: couldn't create post: {}", err),
                            Ok(address) => address,
                        }
                    }
                }
            },
            other => format!("unknown message type: {}", other),
        },
    };
    serde_json::json!({"msg_type": "response", "body": response}).to_string()
}

/// The first claim on the chain (app_spec ignores which grantor it is for, too).
fn find_claim() -> ZomeApiResult<Address> {
    match entries_of("%cap_token_claim")?.first() {
        Some((_, Entry::CapTokenClaim(claim))) => Ok(claim.token.clone()),
        _ => Err(ZomeApiError::Internal("failed to get claim".to_string())),
    }
}

pub fn handle_create_post_with_claim(grantor: Address, content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> {
    let body = PostMessageBody {
        claim: find_claim()?,
        signature: sign(&content)?,
        args: CreatePostArgs { content, in_reply_to },
    };
    let message = Message { msg_type: "post".to_string(), body: serde_json::to_string(&body).unwrap() };
    let response = send(grantor, serde_json::to_string(&message).unwrap(), Timeout(10000))?;
    let response: Message = serde_json::from_str(&response).map_err(|e| ZomeApiError::Internal(e.to_string()))?;
    Ok(response.body)
}

pub fn handle_create_memo(content: String) -> ZomeApiResult<Address> {
    commit_entry(&memo_entry(&content))
}

pub fn handle_delete_post(content: String) -> ZomeApiResult<Address> {
    let address = entry_address(&post_entry(&content))?;
    remove_link(agent_address(), &address, "authored_posts", "")?;
    Ok(address)
}

pub fn handle_delete_entry_post(post_address: Address) -> ZomeApiResult<Address> {
    get_entry(&post_address)?;
    remove_entry(&post_address)
}

pub fn handle_update_post(post_address: Address, new_content: String) -> ZomeApiResult<Address> {
    match get_entry(&post_address)? {
        Some(Entry::App(_, value)) => {
            let post: Post = serde_json::from_str(&value).map_err(|e| ZomeApiError::Internal(e.to_string()))?;
            update_entry(Entry::app("post", &Post::new(&new_content, &post.date_created)), &post_address)
        }
        _ => Err(ZomeApiError::Internal("failed to update post".to_string())),
    }
}

pub fn handle_posts_by_agent(agent: Address) -> ZomeApiResult<GetLinksResult> {
    get_links(&agent, LinkMatch::Exactly("authored_posts"), LinkMatch::Any)
}

pub fn handle_authored_posts_with_sources(agent: Address) -> ZomeApiResult<GetLinksResult> {
    let options = GetLinksOptions { headers: true, ..GetLinksOptions::default() };
    get_links_with_options(&agent, LinkMatch::Exactly("authored_posts"), LinkMatch::Any, options)
}

fn tag_match(tag: &Option<String>) -> LinkMatch {
    match tag {
        Some(tag) => LinkMatch::Exactly(tag),
        None => LinkMatch::Any,
    }
}

pub fn handle_my_posts(tag: Option<String>) -> ZomeApiResult<GetLinksResult> {
    get_links(agent_address(), LinkMatch::Exactly("authored_posts"), tag_match(&tag))
}

/// `get_links_and_load_type`: the linked posts that load and parse (the rest are skipped).
pub fn handle_my_posts_with_load(tag: Option<String>) -> ZomeApiResult<Vec<Post>> {
    let loaded = get_links_and_load(agent_address(), LinkMatch::Exactly("authored_posts"), tag_match(&tag))?;
    Ok(loaded
        .into_iter()
        .filter_map(|entry| match entry {
            Ok(Entry::App(_, value)) => serde_json::from_str(&value).ok(),
            _ => None,
        })
        .collect())
}

pub fn handle_my_memos() -> ZomeApiResult<Vec<Address>> {
    query(QueryArgsNames::QueryName("memo".to_string()), 0, 0)
}

pub fn handle_get_memo(memo_address: Address) -> ZomeApiResult<Option<Entry>> {
    get_entry(&memo_address)
}

pub fn handle_my_posts_immediate_timeout() -> ZomeApiResult<GetLinksResult> {
    let options = GetLinksOptions { timeout: Timeout(0), ..GetLinksOptions::default() };
    get_links_with_options(agent_address(), LinkMatch::Exactly("non-existent-link"), LinkMatch::Any, options)
}

pub fn handle_my_posts_as_committed() -> ZomeApiResult<Vec<Address>> {
    query(QueryArgsNames::QueryName("post".to_string()), 0, 0)
}

pub fn handle_get_post(post_address: Address) -> ZomeApiResult<Option<Entry>> {
    get_entry(&post_address)
}

pub fn handle_get_initial_post(post_address: Address) -> ZomeApiResult<Option<Entry>> {
    get_entry_initial(&post_address)
}

pub fn handle_get_history_post(post_address: Address) -> ZomeApiResult<EntryHistory> {
    get_entry_history(&post_address)?.ok_or_else(|| ZomeApiError::Internal("Could not get History".to_string()))
}

fn all_without_entries() -> GetEntryOptions {
    GetEntryOptions { status_request: StatusRequestKind::All, entry: false, headers: false, timeout: Timeout::default() }
}

pub fn handle_get_post_with_options(post_address: Address) -> ZomeApiResult<GetEntryResult> {
    get_entry_result(&post_address, all_without_entries())
}

pub fn handle_get_post_with_options_latest(post_address: Address) -> ZomeApiResult<Entry> {
    get_entry_result(&post_address, all_without_entries())?
        .latest()
        .ok_or_else(|| ZomeApiError::Internal("Could not get latest".to_string()))
}

/// `get_post` of the instance across the `test-bridge` bridge: its result is ours.
pub fn handle_get_post_bridged(post_address: Address) -> ZomeApiResult<Option<Entry>> {
    let args = serde_json::json!({ "post_address": post_address }).to_string();
    let raw = call("test-bridge", "blog", public_token().clone(), "get_post", &args)?;
    debug(format!("********DEBUG******** BRIDGING RAW response from test-bridge {:?}", raw.as_str()))?;
    let entry: Result<Option<Entry>, ZomeApiError> =
        serde_json::from_str(raw.as_str()).map_err(|e| ZomeApiError::Internal(e.to_string()))?;
    entry
}

pub fn handle_recommend_post(post_address: Address, agent_address: Address) -> ZomeApiResult<Address> {
    debug(format!("my address:\n{:?}", hdk_lite::agent_address()))?;
    debug(format!("other address:\n{:?}", agent_address))?;
    link_entries(&agent_address, &post_address, "recommended_posts", "")
}

pub fn handle_my_recommended_posts() -> ZomeApiResult<GetLinksResult> {
    get_links(agent_address(), LinkMatch::Exactly("recommended_posts"), LinkMatch::Any)
}

/// Every header on the chain, addressed here in the zome (hash of the header's JSON).
pub fn handle_get_chain_header_hashes() -> ZomeApiResult<Vec<Address>> {
    let options = QueryArgsOptions { headers: true, ..QueryArgsOptions::default() };
    match query_result(QueryArgsNames::QueryName("**".to_string()), options)? {
        QueryResult::Headers(headers) => Ok(headers.iter().map(header_address).collect()),
        _ => Err(ZomeApiError::Internal("query did not return headers".to_string())),
    }
}
