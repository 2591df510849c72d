//! Argument shapes of older HDKs, for fixtures that check a host accepts each.
//!
//! HDK 0.0.25–0.0.42 sent `get_links` / `get_links_count` with `link_type` and `tag` as regex
//! strings (`LinkMatch::Exactly(s)` → `^<regex::escape(s)>$`, `LinkMatch::Any` → `.*`) and
//! options without `pagination` / `sort_order`.

use crate::api::Dispatch;
use crate::api_types::{GetLinksResult, GetLinksResultCount, LinksStatusRequestKind, Timeout};
use crate::error::ZomeApiResult;
use crate::types::Address;
use serde_derive::Serialize;

#[derive(Serialize)]
struct GetLinksOptionsV42 {
    status_request: LinksStatusRequestKind,
    headers: bool,
    timeout: Timeout,
}

#[derive(Serialize)]
struct GetLinksArgsV42 {
    entry_address: Address,
    link_type: String,
    tag: String,
    options: GetLinksOptionsV42,
}

/// `regex::escape`: a backslash before each regex meta character.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `LinkMatch::to_regex_string` of HDK 0.0.42.
pub fn link_match_regex(value: Option<&str>) -> String {
    match value {
        Some(s) => format!("^{}$", regex_escape(s)),
        None => ".*".to_string(),
    }
}

fn args(base: &Address, link_type: String, tag: String, status_request: LinksStatusRequestKind, headers: bool) -> GetLinksArgsV42 {
    GetLinksArgsV42 {
        entry_address: base.clone(),
        link_type,
        tag,
        options: GetLinksOptionsV42 { status_request, headers, timeout: Timeout::default() },
    }
}

/// `get_links_with_options` as HDK 0.0.42 sent it (`link_type` and `tag` are regexes).
pub fn get_links_v42(base: &Address, link_type: String, tag: String, status_request: LinksStatusRequestKind, headers: bool) -> ZomeApiResult<GetLinksResult> {
    Dispatch::GetLinks.with_input(&args(base, link_type, tag, status_request, headers))
}

/// `get_links_count_with_options` as HDK 0.0.42 sent it.
pub fn get_links_count_v42(base: &Address, link_type: String, tag: String, status_request: LinksStatusRequestKind) -> ZomeApiResult<GetLinksResultCount> {
    Dispatch::GetLinksCount.with_input(&args(base, link_type, tag, status_request, false))
}
