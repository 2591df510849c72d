//! The api_test zome: one function per host function of the holochain-rust ABI (called with
//! the argument shapes HDK 0.0.52 sends), every callback (init, the three validators, both
//! validation-package callbacks, receive), and bad behaviour on purpose (panics, traps,
//! endless loops, memory growth, malformed answers) for the sandbox's tests.

mod entries;

use entries::Note;
use hdk_lite::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

fn note(content: &str) -> Entry {
    Entry::app("note", &Note { content: content.to_string() })
}

fn typed(entry_type: &str, content: &str) -> Entry {
    Entry::app(entry_type, &Note { content: content.to_string() })
}

// -- init, agent validation, receive ------------------------------------------------------

/// Fails when the DNA's `init_fails` property is a string (that string is the error).
fn handle_init() -> Result<(), String> {
    let _ = debug(format!("init: agent {} in {}", agent_address(), dna_name()));
    match hdk_lite::property("init_fails") {
        Ok(reason) => match serde_json::from_str::<Value>(&reason) {
            Ok(Value::String(reason)) => Err(reason),
            _ => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

fn handle_validate_agent(data: EntryValidationData<AgentId>) -> Result<(), String> {
    match data {
        EntryValidationData::Create { entry, .. } if entry.nick.starts_with("reject_agent") => {
            Err(format!("agent {} is rejected by the api zome", entry.nick))
        }
        _ => Ok(()),
    }
}

/// Echoes what it got, as JSON text: `{"from":…,"payload":…,"me":…}`.
fn handle_receive(from: Address, payload: String) -> String {
    if payload == "panic" {
        panic!("receive was asked to panic");
    }
    serde_json::json!({"from": from, "payload": payload, "me": agent_address()}).to_string()
}

// -- entries ------------------------------------------------------------------------------

fn handle_commit_note(content: String) -> ZomeApiResult<Address> {
    commit_entry(&note(&content))
}

fn handle_commit_typed(entry_type: String, content: String) -> ZomeApiResult<Address> {
    commit_entry(&typed(&entry_type, &content))
}

/// An app entry whose value is any text (not necessarily JSON).
fn handle_commit_raw(entry_type: String, value: String) -> ZomeApiResult<Address> {
    commit_entry(&Entry::App(entry_type, value))
}

fn handle_commit_with_provenance(content: String, provenance: Vec<Provenance>) -> ZomeApiResult<CommitEntryResult> {
    commit_entry_result(&note(&content), CommitEntryOptions { provenance })
}

fn handle_update_note(address: Address, content: String) -> ZomeApiResult<Address> {
    update_entry(note(&content), &address)
}

fn handle_remove_note(address: Address) -> ZomeApiResult<Address> {
    remove_entry(&address)
}

fn handle_get(address: Address) -> ZomeApiResult<Option<Entry>> {
    get_entry(&address)
}

fn handle_get_initial(address: Address) -> ZomeApiResult<Option<Entry>> {
    get_entry_initial(&address)
}

fn handle_get_history(address: Address) -> ZomeApiResult<Option<EntryHistory>> {
    get_entry_history(&address)
}

fn handle_get_result(
    address: Address,
    status_request: StatusRequestKind,
    entry: bool,
    headers: bool,
    timeout: Option<usize>,
) -> ZomeApiResult<GetEntryResult> {
    let options = GetEntryOptions { status_request, entry, headers, timeout: timeout.map(Timeout).unwrap_or_default() };
    get_entry_result(&address, options)
}

fn handle_note_address(content: String) -> ZomeApiResult<Address> {
    entry_address(&note(&content))
}

/// The address as the host computes it and as the zome computes it itself.
fn handle_addresses(entry: Entry) -> ZomeApiResult<(Address, Address)> {
    Ok((entry_address(&entry)?, address_of(&entry)))
}

/// The header addresses of the whole chain, computed in the zome.
fn handle_header_addresses() -> ZomeApiResult<Vec<Address>> {
    let options = QueryArgsOptions { headers: true, ..QueryArgsOptions::default() };
    match hdk_lite::query_result(QueryArgsNames::QueryName("**".to_string()), options)? {
        QueryResult::Headers(headers) => Ok(headers.iter().map(header_address).collect()),
        _ => Err(ZomeApiError::Internal("query did not return headers".to_string())),
    }
}

// -- links --------------------------------------------------------------------------------

fn handle_link(base: Address, target: Address, link_type: String, tag: String) -> ZomeApiResult<Address> {
    link_entries(&base, &target, &link_type, &tag)
}

fn handle_unlink(base: Address, target: Address, link_type: String, tag: String) -> ZomeApiResult<()> {
    remove_link(&base, &target, &link_type, &tag)
}

fn link_match(value: &Option<String>) -> LinkMatch {
    match value {
        Some(s) => LinkMatch::Exactly(s),
        None => LinkMatch::Any,
    }
}

/// `get_links` with every option; `link_type` / `tag` are sent as given (plain or regex).
fn handle_links(
    base: Address,
    link_type: Option<String>,
    tag: Option<String>,
    options: Option<GetLinksOptions>,
) -> ZomeApiResult<GetLinksResult> {
    get_links_with_options(&base, link_match(&link_type), link_match(&tag), options.unwrap_or_default())
}

fn handle_links_count(
    base: Address,
    link_type: Option<String>,
    tag: Option<String>,
    options: Option<GetLinksOptions>,
) -> ZomeApiResult<GetLinksResultCount> {
    get_links_count_with_options(&base, link_match(&link_type), link_match(&tag), options.unwrap_or_default())
}

fn handle_links_and_load(base: Address, link_type: Option<String>) -> ZomeApiResult<Vec<ZomeApiResult<Entry>>> {
    get_links_and_load(&base, link_match(&link_type), LinkMatch::Any)
}

fn handle_links_time_page(base: Address, link_type: String, from_seconds: i64, limit: usize) -> ZomeApiResult<GetLinksResult> {
    let pagination = Pagination::Time(TimePagination { from_time: iso8601_from_seconds(from_seconds), limit });
    let options = GetLinksOptions { pagination: Some(pagination), ..GetLinksOptions::default() };
    get_links_with_options(&base, LinkMatch::Exactly(&link_type), LinkMatch::Any, options)
}

/// `get_links` with HDK 0.0.42's argument shape: `link_type` / `tag` as regexes, built from
/// plain names as that HDK built them (`^escaped$`, `.*` for any) unless `regex` says they are
/// regexes already.
fn handle_links_v42(
    base: Address,
    link_type: Option<String>,
    tag: Option<String>,
    regex: bool,
    status_request: Option<LinksStatusRequestKind>,
) -> ZomeApiResult<GetLinksResult> {
    let (link_type, tag) = v42_patterns(link_type, tag, regex);
    let status = status_request.unwrap_or(LinksStatusRequestKind::Live);
    hdk_lite::compat::get_links_v42(&base, link_type, tag, status, false)
}

fn handle_links_count_v42(base: Address, link_type: Option<String>, tag: Option<String>, regex: bool) -> ZomeApiResult<GetLinksResultCount> {
    let (link_type, tag) = v42_patterns(link_type, tag, regex);
    hdk_lite::compat::get_links_count_v42(&base, link_type, tag, LinksStatusRequestKind::Live)
}

fn v42_patterns(link_type: Option<String>, tag: Option<String>, regex: bool) -> (String, String) {
    if regex {
        (link_type.unwrap_or_else(|| ".*".to_string()), tag.unwrap_or_else(|| ".*".to_string()))
    } else {
        (
            hdk_lite::compat::link_match_regex(link_type.as_deref()),
            hdk_lite::compat::link_match_regex(tag.as_deref()),
        )
    }
}

// -- query --------------------------------------------------------------------------------

fn handle_query(entry_type_names: QueryArgsNames, start: usize, limit: usize) -> ZomeApiResult<Vec<Address>> {
    hdk_lite::query(entry_type_names, start, limit)
}

fn handle_query_result(entry_type_names: QueryArgsNames, options: QueryArgsOptions) -> ZomeApiResult<QueryResult> {
    hdk_lite::query_result(entry_type_names, options)
}

// -- call, send, signals, sleep, debug ----------------------------------------------------

/// `call` of any zome function (here or across a bridge): the callee's result, raw.
fn handle_call(instance_handle: String, zome: String, function: String, args: Value, cap_token: Option<Address>) -> ZomeApiResult<JsonString> {
    let token = cap_token.unwrap_or_else(|| public_token().clone());
    hdk_lite::call(&instance_handle, &zome, token, &function, &args.to_string())
}

fn handle_send_message(to_agent: Address, payload: String, timeout: Option<usize>) -> ZomeApiResult<String> {
    send(to_agent, payload, timeout.map(Timeout).unwrap_or_default())
}

fn handle_emit(name: String, arguments: Value) -> ZomeApiResult<()> {
    emit_signal(&name, &arguments.to_string())
}

fn handle_sleep_ms(ms: u64) -> ZomeApiResult<()> {
    sleep(Duration::from_millis(ms))
}

fn handle_debug_message(message: String) -> ZomeApiResult<()> {
    debug(message)
}

// -- crypto and keystore ------------------------------------------------------------------

fn handle_sign(payload: String) -> ZomeApiResult<Signature> {
    hdk_lite::sign(&payload)
}

fn handle_sign_one_time(payloads: Vec<String>) -> ZomeApiResult<SignOneTimeResult> {
    hdk_lite::sign_one_time(payloads)
}

fn handle_verify(provenance: Provenance, payload: String) -> ZomeApiResult<bool> {
    verify_signature(provenance, &payload)
}

fn handle_encrypt(payload: String) -> ZomeApiResult<String> {
    hdk_lite::encrypt(&payload)
}

fn handle_decrypt(payload: String) -> ZomeApiResult<String> {
    hdk_lite::decrypt(&payload)
}

fn handle_keystore_list() -> ZomeApiResult<KeystoreListResult> {
    hdk_lite::keystore_list()
}

fn handle_keystore_new_random(dst_id: String, size: usize) -> ZomeApiResult<()> {
    hdk_lite::keystore_new_random(&dst_id, size)
}

fn handle_keystore_derive_seed(src_id: String, dst_id: String, context: String, index: u64) -> ZomeApiResult<()> {
    hdk_lite::keystore_derive_seed(&src_id, &dst_id, &context, index)
}

fn handle_keystore_derive_key(src_id: String, dst_id: String, key_type: KeyType) -> ZomeApiResult<JsonString> {
    hdk_lite::keystore_derive_key(&src_id, &dst_id, key_type).map(JsonString)
}

fn handle_keystore_sign(src_id: String, payload: String) -> ZomeApiResult<String> {
    hdk_lite::keystore_sign(&src_id, &payload)
}

fn handle_keystore_get_public_key(src_id: String) -> ZomeApiResult<JsonString> {
    hdk_lite::keystore_get_public_key(&src_id).map(JsonString)
}

// -- capabilities, meta, globals ----------------------------------------------------------

fn handle_grant(
    id: String,
    cap_type: CapabilityType,
    assignees: Option<Vec<Address>>,
    functions: BTreeMap<String, Vec<String>>,
) -> ZomeApiResult<Address> {
    commit_capability_grant(&id, cap_type, assignees, functions)
}

fn handle_claim(id: String, grantor: Address, token: Address) -> ZomeApiResult<Address> {
    commit_capability_claim(&id, grantor, token)
}

fn handle_meta() -> ZomeApiResult<(String, String)> {
    Ok((version()?, version_hash()?))
}

fn handle_globals() -> ZomeApiResult<ZomeApiGlobals> {
    Ok(hdk_lite::globals().clone())
}

fn handle_property(name: String) -> ZomeApiResult<JsonString> {
    hdk_lite::property(&name).map(JsonString)
}

/// Whoever called: the capability request the host put in the globals.
fn handle_whoami() -> ZomeApiResult<Option<CapabilityRequest>> {
    Ok(capability_request().clone())
}

// -- bad behaviour on purpose -------------------------------------------------------------

fn handle_panic(message: String) -> ZomeApiResult<()> {
    panic!("{}", message);
}

/// Spins for `iterations` (or for ever with `null`): fuel and deadlines must stop it.
fn handle_spin(iterations: Option<u64>) -> ZomeApiResult<u64> {
    let mut i: u64 = 0;
    let mut x: u64 = 1;
    loop {
        if let Some(n) = iterations {
            if i >= n {
                return Ok(x);
            }
        }
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        i = unsafe { std::ptr::read_volatile(&i) } + 1;
    }
}

/// Holds `mebibytes` MiB of heap (the memory cap must refuse the growth).
fn handle_allocate(mebibytes: usize) -> ZomeApiResult<usize> {
    let block: Vec<u8> = vec![1u8; mebibytes * 1024 * 1024];
    Ok(block.iter().map(|&b| b as usize).sum())
}

/// A result of `size` bytes.
fn handle_big_output(size: usize) -> ZomeApiResult<String> {
    Ok("x".repeat(size))
}

/// What the export hands back instead of a result, by `kind`.
fn handle_bad_output(kind: String) -> RawReturn {
    RawReturn(match kind.as_str() {
        "invalid_utf8" => memory::return_bytes(&[0x7b, 0xff, 0xfe, 0x7d]),
        "not_json" => memory::return_text("this is not JSON"),
        "success" => 0,
        "failure" => memory::RibosomeErrorCode::ArgumentDeserializationFailed.bits(),
        "out_of_bounds" => (0xFFFF_0000u64 << 32) | 0x1000,
        "past_memory" => ((64u64 * 1024 * 1024) << 32) | 16,
        "length_overflow" => (0xFFFF_FFF0u64 << 32) | 0x100,
        "huge_length" => 0xFFFF_FFFFu64,
        _ => memory::return_text("{\"Err\":{\"Internal\":\"unknown kind\"}}"),
    })
}

define_zome! {
    entries: [
        entries::note_definition(),
        entries::private_note_definition(),
        entries::chain_note_definition(),
        entries::custom_note_definition()
    ]
    init: handle_init;
    validate_agent: handle_validate_agent;
    receive: handle_receive;
    functions: [
        commit_note(content: String) -> ZomeApiResult<Address> = handle_commit_note;
        commit_typed(entry_type: String, content: String) -> ZomeApiResult<Address> = handle_commit_typed;
        commit_raw(entry_type: String, value: String) -> ZomeApiResult<Address> = handle_commit_raw;
        commit_with_provenance(content: String, provenance: Vec<Provenance>) -> ZomeApiResult<CommitEntryResult> = handle_commit_with_provenance;
        update_note(address: Address, content: String) -> ZomeApiResult<Address> = handle_update_note;
        remove_note(address: Address) -> ZomeApiResult<Address> = handle_remove_note;
        get(address: Address) -> ZomeApiResult<Option<Entry>> = handle_get;
        get_initial(address: Address) -> ZomeApiResult<Option<Entry>> = handle_get_initial;
        get_history(address: Address) -> ZomeApiResult<Option<EntryHistory>> = handle_get_history;
        get_result(address: Address, status_request: StatusRequestKind, entry: bool, headers: bool, timeout: Option<usize>) -> ZomeApiResult<GetEntryResult> = handle_get_result;
        note_address(content: String) -> ZomeApiResult<Address> = handle_note_address;
        addresses(entry: Entry) -> ZomeApiResult<(Address, Address)> = handle_addresses;
        header_addresses() -> ZomeApiResult<Vec<Address>> = handle_header_addresses;
        link(base: Address, target: Address, link_type: String, tag: String) -> ZomeApiResult<Address> = handle_link;
        unlink(base: Address, target: Address, link_type: String, tag: String) -> ZomeApiResult<()> = handle_unlink;
        links(base: Address, link_type: Option<String>, tag: Option<String>, options: Option<GetLinksOptions>) -> ZomeApiResult<GetLinksResult> = handle_links;
        links_count(base: Address, link_type: Option<String>, tag: Option<String>, options: Option<GetLinksOptions>) -> ZomeApiResult<GetLinksResultCount> = handle_links_count;
        links_and_load(base: Address, link_type: Option<String>) -> ZomeApiResult<Vec<ZomeApiResult<Entry>>> = handle_links_and_load;
        links_time_page(base: Address, link_type: String, from_seconds: i64, limit: usize) -> ZomeApiResult<GetLinksResult> = handle_links_time_page;
        links_v42(base: Address, link_type: Option<String>, tag: Option<String>, regex: bool, status_request: Option<LinksStatusRequestKind>) -> ZomeApiResult<GetLinksResult> = handle_links_v42;
        links_count_v42(base: Address, link_type: Option<String>, tag: Option<String>, regex: bool) -> ZomeApiResult<GetLinksResultCount> = handle_links_count_v42;
        query(entry_type_names: QueryArgsNames, start: usize, limit: usize) -> ZomeApiResult<Vec<Address>> = handle_query;
        query_result(entry_type_names: QueryArgsNames, options: QueryArgsOptions) -> ZomeApiResult<QueryResult> = handle_query_result;
        call(instance_handle: String, zome: String, function: String, args: Value, cap_token: Option<Address>) -> ZomeApiResult<JsonString> = handle_call;
        send_message(to_agent: Address, payload: String, timeout: Option<usize>) -> ZomeApiResult<String> = handle_send_message;
        emit(name: String, arguments: Value) -> ZomeApiResult<()> = handle_emit;
        sleep_ms(ms: u64) -> ZomeApiResult<()> = handle_sleep_ms;
        debug_message(message: String) -> ZomeApiResult<()> = handle_debug_message;
        sign(payload: String) -> ZomeApiResult<Signature> = handle_sign;
        sign_one_time(payloads: Vec<String>) -> ZomeApiResult<SignOneTimeResult> = handle_sign_one_time;
        verify(provenance: Provenance, payload: String) -> ZomeApiResult<bool> = handle_verify;
        encrypt(payload: String) -> ZomeApiResult<String> = handle_encrypt;
        decrypt(payload: String) -> ZomeApiResult<String> = handle_decrypt;
        keystore_list() -> ZomeApiResult<KeystoreListResult> = handle_keystore_list;
        keystore_new_random(dst_id: String, size: usize) -> ZomeApiResult<()> = handle_keystore_new_random;
        keystore_derive_seed(src_id: String, dst_id: String, context: String, index: u64) -> ZomeApiResult<()> = handle_keystore_derive_seed;
        keystore_derive_key(src_id: String, dst_id: String, key_type: KeyType) -> ZomeApiResult<JsonString> = handle_keystore_derive_key;
        keystore_sign(src_id: String, payload: String) -> ZomeApiResult<String> = handle_keystore_sign;
        keystore_get_public_key(src_id: String) -> ZomeApiResult<JsonString> = handle_keystore_get_public_key;
        grant(id: String, cap_type: CapabilityType, assignees: Option<Vec<Address>>, functions: BTreeMap<String, Vec<String>>) -> ZomeApiResult<Address> = handle_grant;
        claim(id: String, grantor: Address, token: Address) -> ZomeApiResult<Address> = handle_claim;
        meta() -> ZomeApiResult<(String, String)> = handle_meta;
        globals() -> ZomeApiResult<ZomeApiGlobals> = handle_globals;
        property(name: String) -> ZomeApiResult<JsonString> = handle_property;
        whoami() -> ZomeApiResult<Option<CapabilityRequest>> = handle_whoami;
        panic(message: String) -> ZomeApiResult<()> = handle_panic;
        spin(iterations: Option<u64>) -> ZomeApiResult<u64> = handle_spin;
        allocate(mebibytes: usize) -> ZomeApiResult<usize> = handle_allocate;
        big_output(size: usize) -> ZomeApiResult<String> = handle_big_output;
        bad_output(kind: String) -> RawReturn = handle_bad_output;
    ]
    traits: {
        hc_public [commit_note, commit_typed, commit_raw, commit_with_provenance, update_note, remove_note,
            get, get_initial, get_history, get_result, note_address, addresses, header_addresses,
            link, unlink, links, links_count, links_and_load, links_time_page, links_v42, links_count_v42,
            query, query_result,
            call, send_message, emit, sleep_ms, debug_message, sign, sign_one_time, verify, encrypt,
            decrypt, keystore_list, keystore_new_random, keystore_derive_seed, keystore_derive_key,
            keystore_sign, keystore_get_public_key, grant, claim, meta, globals, property, panic,
            spin, allocate, big_output, bad_output]
        restricted [whoami]
    }
}
