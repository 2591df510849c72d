//! The zome API: one function per host import, each sending the argument JSON HDK 0.0.52 sends
//! and reading the `ZomeApiInternalResult` envelope as it does.

use crate::api_types::*;
use crate::error::{HolochainError, ZomeApiError, ZomeApiInternalResult, ZomeApiResult};
use crate::memory::{self, decode, Encoded, RibosomeEncodingBits};
use crate::types::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

macro_rules! host_functions {
    ($($name:ident, $variant:ident;)*) => {
        /// Every host function of HDK 0.0.52. The match below references each import, so a zome
        /// imports all of them whether it calls them or not, as HDK-built zomes do.
        #[derive(Clone, Copy, Debug)]
        pub enum Dispatch { $($variant),* }

        #[link(wasm_import_module = "env")]
        extern "C" {
            $(fn $name(encoded_allocation_of_input: RibosomeEncodingBits) -> RibosomeEncodingBits;)*
        }

        impl Dispatch {
            fn invoke(self, input: RibosomeEncodingBits) -> RibosomeEncodingBits {
                unsafe { match self { $(Dispatch::$variant => $name(input)),* } }
            }
        }
    };
}

host_functions! {
    hc_init_globals, InitGlobals;
    hc_commit_entry, CommitEntry;
    hc_get_entry, GetEntry;
    hc_entry_address, EntryAddress;
    hc_query, Query;
    hc_update_entry, UpdateEntry;
    hc_remove_entry, RemoveEntry;
    hc_send, Send;
    hc_debug, Debug;
    hc_call, Call;
    hc_crypto, Crypto;
    hc_sign_one_time, SignOneTime;
    hc_verify_signature, VerifySignature;
    hc_link_entries, LinkEntries;
    hc_remove_link, RemoveLink;
    hc_get_links, GetLinks;
    hc_get_links_count, GetLinksCount;
    hc_sleep, Sleep;
    hc_meta, Meta;
    hc_keystore_list, KeystoreList;
    hc_keystore_new_random, KeystoreNewRandom;
    hc_keystore_derive_seed, KeystoreDeriveSeed;
    hc_keystore_derive_key, KeystoreDeriveKey;
    hc_keystore_sign, KeystoreSign;
    hc_keystore_get_public_key, KeystoreGetPublicKey;
    hc_commit_capability_grant, CommitCapabilityGrant;
    hc_commit_capability_claim, CommitCapabilityClaim;
    hc_emit_signal, EmitSignal;
}

/// `load_ribosome_encoded_string`: the host's reply as text (read up to its NUL).
fn load_string(bits: RibosomeEncodingBits) -> Result<String, HolochainError> {
    match decode(bits) {
        Encoded::Success => Err(HolochainError::Ribosome(crate::error::RibosomeErrorName(
            memory::RibosomeErrorCode::ZeroSizedAllocation,
        ))),
        Encoded::Failure(code) => Err(HolochainError::Ribosome(crate::error::RibosomeErrorName(code))),
        Encoded::Allocation(allocation) => Ok(allocation.read_to_string()),
    }
}

impl Dispatch {
    /// `Dispatch::with_input`, up to the envelope's `value` text (which `String` and
    /// `JsonString` results take as it is, without parsing).
    pub fn raw(self, input_json: &str) -> ZomeApiResult<String> {
        let mut stack = memory::global_stack()
            .map_err(|_| ZomeApiError::Internal("debug failed to load mem_stack".to_string()))?;
        let allocation = stack.write_bytes(input_json.as_bytes())?;
        let output = self.invoke(allocation.bits());
        let result = load_string(output).and_then(|text| {
            serde_json::from_str::<ZomeApiInternalResult>(&text).map_err(HolochainError::serialization)
        });
        stack.deallocate(allocation)?;
        let result = result?;
        if result.ok {
            Ok(result.value)
        } else {
            Err(ZomeApiError::Internal(result.error))
        }
    }

    /// `with_input` for a serializable argument and a deserializable result.
    pub fn with_input<I: Serialize, O: DeserializeOwned>(self, input: &I) -> ZomeApiResult<O> {
        let json = serde_json::to_string(input).map_err(|_| ZomeApiError::from(memory::AllocationError::Serialization))?;
        self.with_json(&json)
    }

    /// `with_input` for argument JSON already in hand.
    pub fn with_json<O: DeserializeOwned>(self, input_json: &str) -> ZomeApiResult<O> {
        let value = self.raw(input_json)?;
        serde_json::from_str(&value)
            .map_err(|_| ZomeApiError::Internal(format!("Failed to deserialize return value: {}", value)))
    }
}

// -- globals (the HDK's lazy_static GLOBALS: fetched once per instance) ------------------------

static mut GLOBALS: Option<ZomeApiGlobals> = None;

/// The instance's globals; the first use asks `hc_init_globals` (and panics on failure, as the
/// HDK's `init_globals().unwrap()` does).
pub fn globals() -> &'static ZomeApiGlobals {
    unsafe {
        if GLOBALS.is_none() {
            let globals: ZomeApiGlobals = Dispatch::InitGlobals.with_json("0").unwrap();
            GLOBALS = Some(globals);
        }
        GLOBALS.as_ref().unwrap()
    }
}

pub fn dna_name() -> &'static str {
    &globals().dna_name
}
pub fn dna_address() -> &'static Address {
    &globals().dna_address
}
pub fn agent_id_str() -> &'static str {
    &globals().agent_id_str
}
pub fn agent_address() -> &'static Address {
    &globals().agent_address
}
pub fn agent_initial_hash() -> &'static str {
    &globals().agent_initial_hash
}
pub fn agent_latest_hash() -> &'static str {
    &globals().agent_latest_hash
}
pub fn public_token() -> &'static Address {
    &globals().public_token
}
pub fn capability_request() -> &'static Option<CapabilityRequest> {
    &globals().cap_request
}
/// The DNA's properties as JSON text.
pub fn properties() -> &'static str {
    &globals().properties
}

/// `hdk::property`: one DNA property as JSON text.
pub fn property(name: &str) -> ZomeApiResult<String> {
    let properties: serde_json::Value = serde_json::from_str(properties())
        .map_err(|_| ZomeApiError::from("DNA Properties could not be parsed as JSON".to_string()))?;
    properties
        .get(name)
        .map(|value| value.to_string())
        .ok_or_else(|| ZomeApiError::from("field does not exist in DNA properties".to_string()))
}

// -- the API --------------------------------------------------------------------------------

/// `hc_debug` takes the message as raw text, not JSON; its result is ignored.
pub fn debug<S: Into<String>>(msg: S) -> ZomeApiResult<()> {
    let _ = Dispatch::Debug.raw(&msg.into());
    Ok(())
}

pub fn commit_entry(entry: &Entry) -> ZomeApiResult<Address> {
    commit_entry_result(entry, CommitEntryOptions::default()).map(|r| r.address)
}

pub fn commit_entry_result(entry: &Entry, options: CommitEntryOptions) -> ZomeApiResult<CommitEntryResult> {
    Dispatch::CommitEntry.with_input(&CommitEntryArgs { entry: entry.clone(), options })
}

pub fn update_entry(new_entry: Entry, address: &Address) -> ZomeApiResult<Address> {
    Dispatch::UpdateEntry.with_input(&UpdateEntryArgs { new_entry, address: address.clone() })
}

pub fn update_agent() -> ZomeApiResult<Address> {
    Err(ZomeApiError::FunctionNotImplemented)
}

pub fn remove_entry(address: &Address) -> ZomeApiResult<Address> {
    Dispatch::RemoveEntry.with_input(address)
}

pub fn entry_address(entry: &Entry) -> ZomeApiResult<Address> {
    Dispatch::EntryAddress.with_input(entry)
}

pub fn get_entry_result(address: &Address, options: GetEntryOptions) -> ZomeApiResult<GetEntryResult> {
    Dispatch::GetEntry.with_input(&GetEntryArgs { address: address.clone(), options })
}

pub fn get_entry(address: &Address) -> ZomeApiResult<Option<Entry>> {
    let result = get_entry_result(address, GetEntryOptions::default())?;
    Ok(if result.found() { result.latest() } else { None })
}

pub fn get_entry_initial(address: &Address) -> ZomeApiResult<Option<Entry>> {
    let options = GetEntryOptions { status_request: StatusRequestKind::Initial, ..GetEntryOptions::default() };
    Ok(get_entry_result(address, options)?.latest())
}

pub fn get_entry_history(address: &Address) -> ZomeApiResult<Option<EntryHistory>> {
    let options = GetEntryOptions { status_request: StatusRequestKind::All, ..GetEntryOptions::default() };
    let result = get_entry_result(address, options)?;
    if !result.found() {
        return Ok(None);
    }
    match result.result {
        GetEntryResultType::All(history) => Ok(Some(history)),
        _ => Err(ZomeApiError::from("shouldn't happen".to_string())),
    }
}

pub fn link_entries(base: &Address, target: &Address, link_type: &str, tag: &str) -> ZomeApiResult<Address> {
    Dispatch::LinkEntries.with_input(&link_args(base, target, link_type, tag))
}

pub fn remove_link(base: &Address, target: &Address, link_type: &str, tag: &str) -> ZomeApiResult<()> {
    Dispatch::RemoveLink.with_input(&link_args(base, target, link_type, tag))
}

fn link_args(base: &Address, target: &Address, link_type: &str, tag: &str) -> LinkEntriesArgs {
    LinkEntriesArgs {
        base: base.clone(),
        target: target.clone(),
        link_type: link_type.to_string(),
        tag: tag.to_string(),
    }
}

fn links_args(base: &Address, link_type: LinkMatch, tag: LinkMatch, options: GetLinksOptions) -> GetLinksArgs {
    GetLinksArgs {
        entry_address: base.clone(),
        link_type: link_type.into_option(),
        tag: tag.into_option(),
        options,
    }
}

pub fn get_links_with_options(
    base: &Address,
    link_type: LinkMatch,
    tag: LinkMatch,
    options: GetLinksOptions,
) -> ZomeApiResult<GetLinksResult> {
    Dispatch::GetLinks.with_input(&links_args(base, link_type, tag, options))
}

pub fn get_links(base: &Address, link_type: LinkMatch, tag: LinkMatch) -> ZomeApiResult<GetLinksResult> {
    get_links_with_options(base, link_type, tag, GetLinksOptions::default())
}

pub fn get_links_count_with_options(
    base: &Address,
    link_type: LinkMatch,
    tag: LinkMatch,
    options: GetLinksOptions,
) -> ZomeApiResult<GetLinksResultCount> {
    Dispatch::GetLinksCount.with_input(&links_args(base, link_type, tag, options))
}

pub fn get_links_count(base: &Address, link_type: LinkMatch, tag: LinkMatch) -> ZomeApiResult<GetLinksResultCount> {
    get_links_count_with_options(base, link_type, tag, GetLinksOptions::default())
}

/// `get_links_and_load`: every linked entry (an `Err` for each that is gone).
pub fn get_links_and_load(base: &Address, link_type: LinkMatch, tag: LinkMatch) -> ZomeApiResult<Vec<ZomeApiResult<Entry>>> {
    let links = get_links(base, link_type, tag)?;
    Ok(links
        .addresses()
        .iter()
        .map(|address| {
            match get_entry_result(address, GetEntryOptions::default())?.result {
                GetEntryResultType::Single(GetEntryResultItem { entry: Some(entry), .. }) => Ok(entry),
                GetEntryResultType::Single(GetEntryResultItem { entry: None, .. }) => Err(ZomeApiError::Internal(
                    "Entry is None so most likely has been marked as deleted".to_string(),
                )),
                GetEntryResultType::All(_) => Err(ZomeApiError::Internal(
                    "Invalid response. get_links_result returned all entries when latest was requested".to_string(),
                )),
            }
        })
        .collect())
}

pub fn query(entry_type_names: QueryArgsNames, start: usize, limit: usize) -> ZomeApiResult<Vec<Address>> {
    let options = QueryArgsOptions { start, limit, headers: false, entries: false };
    match query_result(entry_type_names, options)? {
        QueryResult::Addresses(addresses) => Ok(addresses),
        _ => Err(ZomeApiError::FunctionNotImplemented),
    }
}

pub fn query_result(entry_type_names: QueryArgsNames, options: QueryArgsOptions) -> ZomeApiResult<QueryResult> {
    Dispatch::Query.with_input(&QueryArgs { entry_type_names, options })
}

/// `hdk::call`: the callee's whole result, as the JSON text it returned.
pub fn call(instance_handle: &str, zome_name: &str, cap_token: Address, fn_name: &str, fn_args: &str) -> ZomeApiResult<JsonString> {
    let args = ZomeFnCallArgs {
        instance_handle: instance_handle.to_string(),
        zome_name: zome_name.to_string(),
        cap_token,
        fn_name: fn_name.to_string(),
        fn_args: fn_args.to_string(),
    };
    let json = serde_json::to_string(&args).unwrap();
    Dispatch::Call.raw(&json).map(JsonString)
}

pub fn send(to_agent: Address, payload: String, timeout: Timeout) -> ZomeApiResult<String> {
    let json = serde_json::to_string(&SendArgs { to_agent, payload, options: SendOptions(timeout) }).unwrap();
    Dispatch::Send.raw(&json)
}

/// `hc_sleep` takes the nanoseconds as a bare JSON number.
pub fn sleep(duration: Duration) -> ZomeApiResult<()> {
    let _ = Dispatch::Sleep.raw(&duration.as_nanos().to_string());
    Ok(())
}

/// `emit_signal`: `arguments` is JSON text; the host's answer is ignored.
pub fn emit_signal(name: &str, arguments: &str) -> ZomeApiResult<()> {
    let json = serde_json::to_string(&EmitSignalArgs { name: name.to_string(), arguments: arguments.to_string() }).unwrap();
    let _ = Dispatch::EmitSignal.raw(&json);
    Ok(())
}

fn crypto(payload: &str, method: CryptoMethod) -> ZomeApiResult<String> {
    let json = serde_json::to_string(&CryptoArgs { payload: payload.to_string(), method }).unwrap();
    Dispatch::Crypto.raw(&json)
}

pub fn sign(payload: &str) -> ZomeApiResult<String> {
    crypto(payload, CryptoMethod::Sign)
}
pub fn encrypt(payload: &str) -> ZomeApiResult<String> {
    crypto(payload, CryptoMethod::Encrypt)
}
pub fn decrypt(payload: &str) -> ZomeApiResult<String> {
    crypto(payload, CryptoMethod::Decrypt)
}

pub fn sign_one_time(payloads: Vec<String>) -> ZomeApiResult<SignOneTimeResult> {
    Dispatch::SignOneTime.with_input(&OneTimeSignArgs { payloads })
}

pub fn verify_signature(provenance: Provenance, payload: &str) -> ZomeApiResult<bool> {
    Dispatch::VerifySignature.with_input(&VerifySignatureArgs { provenance, payload: payload.to_string() })
}

pub fn keystore_list() -> ZomeApiResult<KeystoreListResult> {
    Dispatch::KeystoreList.with_json("{}")
}

pub fn keystore_new_random(dst_id: &str, size: usize) -> ZomeApiResult<()> {
    Dispatch::KeystoreNewRandom.with_input(&KeystoreNewRandomArgs { dst_id: dst_id.to_string(), size })
}

pub fn keystore_derive_seed(src_id: &str, dst_id: &str, context: &str, index: u64) -> ZomeApiResult<()> {
    Dispatch::KeystoreDeriveSeed.with_input(&KeystoreDeriveSeedArgs {
        src_id: src_id.to_string(),
        dst_id: dst_id.to_string(),
        context: context.to_string(),
        index,
    })
}

pub fn keystore_derive_key(src_id: &str, dst_id: &str, key_type: KeyType) -> ZomeApiResult<String> {
    let json = serde_json::to_string(&KeystoreDeriveKeyArgs { src_id: src_id.to_string(), dst_id: dst_id.to_string(), key_type }).unwrap();
    Dispatch::KeystoreDeriveKey.raw(&json)
}

pub fn keystore_sign(src_id: &str, payload: &str) -> ZomeApiResult<String> {
    let json = serde_json::to_string(&KeystoreSignArgs { src_id: src_id.to_string(), payload: payload.to_string() }).unwrap();
    Dispatch::KeystoreSign.raw(&json)
}

pub fn keystore_get_public_key(src_id: &str) -> ZomeApiResult<String> {
    let json = serde_json::to_string(&KeystoreGetPublicKeyArgs { src_id: src_id.to_string() }).unwrap();
    Dispatch::KeystoreGetPublicKey.raw(&json)
}

pub fn commit_capability_grant(
    id: &str,
    cap_type: CapabilityType,
    assignees: Option<Vec<Address>>,
    functions: std::collections::BTreeMap<String, Vec<String>>,
) -> ZomeApiResult<Address> {
    Dispatch::CommitCapabilityGrant.with_input(&CommitCapabilityGrantArgs { id: id.to_string(), cap_type, assignees, functions })
}

pub fn commit_capability_claim(id: &str, grantor: Address, token: Address) -> ZomeApiResult<Address> {
    Dispatch::CommitCapabilityClaim.with_input(&CommitCapabilityClaimArgs { id: id.to_string(), grantor, token })
}

pub fn version() -> ZomeApiResult<String> {
    match Dispatch::Meta.with_input(&MetaArgs { method: MetaMethod::Version })? {
        MetaResult::Version(version) => Ok(version),
        _ => Err(ZomeApiError::Internal("Wrong MetaMethod/Result Type; Problem In Core".to_string())),
    }
}

pub fn version_hash() -> ZomeApiResult<String> {
    match Dispatch::Meta.with_input(&MetaArgs { method: MetaMethod::Hash })? {
        MetaResult::Hash(hash) => Ok(hash),
        _ => Err(ZomeApiError::Internal("Wrong MetaMethod/Result Type; Problem In Core".to_string())),
    }
}
