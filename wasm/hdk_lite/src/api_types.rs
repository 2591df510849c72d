//! Host-function argument and result structs (holochain_wasm_utils::api_serialization 0.0.52).

use crate::types::{Address, ChainHeader, CrudStatus, Entry, EntryType, Provenance};
use serde_derive::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `Timeout(usize)`: milliseconds, 60 000 by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeout(pub usize);

impl Default for Timeout {
    fn default() -> Timeout {
        Timeout(60000)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitEntryOptions {
    pub provenance: Vec<Provenance>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommitEntryArgs {
    pub entry: Entry,
    pub options: CommitEntryOptions,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommitEntryResult {
    pub address: Address,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpdateEntryArgs {
    pub new_entry: Entry,
    pub address: Address,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusRequestKind {
    Initial,
    Latest,
    All,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetEntryOptions {
    pub status_request: StatusRequestKind,
    pub entry: bool,
    pub headers: bool,
    pub timeout: Timeout,
}

impl Default for GetEntryOptions {
    fn default() -> GetEntryOptions {
        GetEntryOptions {
            status_request: StatusRequestKind::Latest,
            entry: true,
            headers: false,
            timeout: Timeout::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetEntryArgs {
    pub address: Address,
    pub options: GetEntryOptions,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryResultMeta {
    pub address: Address,
    pub entry_type: EntryType,
    pub crud_status: CrudStatus,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetEntryResultItem {
    pub meta: Option<EntryResultMeta>,
    pub entry: Option<Entry>,
    pub headers: Vec<ChainHeader>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryHistory {
    pub items: Vec<GetEntryResultItem>,
    pub crud_links: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum GetEntryResultType {
    Single(GetEntryResultItem),
    All(EntryHistory),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetEntryResult {
    pub result: GetEntryResultType,
}

impl GetEntryResult {
    pub fn found(&self) -> bool {
        match &self.result {
            GetEntryResultType::Single(item) => item.meta.is_some(),
            GetEntryResultType::All(history) => !history.items.is_empty(),
        }
    }

    pub fn latest(&self) -> Option<Entry> {
        match &self.result {
            GetEntryResultType::Single(item) => item.entry.clone(),
            GetEntryResultType::All(history) => history.items.last()?.entry.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkEntriesArgs {
    pub base: Address,
    pub target: Address,
    pub link_type: String,
    pub tag: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinksStatusRequestKind {
    Live,
    Deleted,
    All,
}

impl Default for LinksStatusRequestKind {
    fn default() -> LinksStatusRequestKind {
        LinksStatusRequestKind::Live
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizePagination {
    pub page_number: usize,
    pub page_size: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimePagination {
    pub from_time: String,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pagination {
    Size(SizePagination),
    Time(TimePagination),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    Ascending,
    Descending,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetLinksOptions {
    pub status_request: LinksStatusRequestKind,
    pub headers: bool,
    pub timeout: Timeout,
    pub pagination: Option<Pagination>,
    pub sort_order: Option<SortOrder>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetLinksArgs {
    pub entry_address: Address,
    pub link_type: Option<String>,
    pub tag: Option<String>,
    pub options: GetLinksOptions,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinksResult {
    pub address: Address,
    pub headers: Vec<ChainHeader>,
    pub tag: String,
    pub status: CrudStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetLinksResult {
    pub links: Vec<LinksResult>,
}

impl GetLinksResult {
    pub fn addresses(&self) -> Vec<Address> {
        self.links.iter().map(|l| l.address.clone()).collect()
    }

    pub fn tags(&self) -> Vec<String> {
        self.links.iter().map(|l| l.tag.clone()).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetLinksResultCount {
    pub count: usize,
}

/// `LinkMatch`: `Any` is sent as `null`, `Exactly(s)` as the string (a regex to older hosts).
pub enum LinkMatch<'a> {
    Any,
    Exactly(&'a str),
}

impl<'a> LinkMatch<'a> {
    pub fn into_option(self) -> Option<String> {
        match self {
            LinkMatch::Any => None,
            LinkMatch::Exactly(s) => Some(s.to_string()),
        }
    }
}

/// `QueryArgsNames`: one name or a list (untagged), each a glob.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueryArgsNames {
    QueryName(String),
    QueryList(Vec<String>),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QueryArgsOptions {
    pub start: usize,
    pub limit: usize,
    pub headers: bool,
    pub entries: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryArgs {
    pub entry_type_names: QueryArgsNames,
    pub options: QueryArgsOptions,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum QueryResult {
    Addresses(Vec<Address>),
    Headers(Vec<ChainHeader>),
    Entries(Vec<(Address, Entry)>),
    HeadersWithEntries(Vec<(ChainHeader, Entry)>),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZomeFnCallArgs {
    pub instance_handle: String,
    pub zome_name: String,
    pub cap_token: Address,
    pub fn_name: String,
    pub fn_args: String,
}

/// The handle that means "this instance" in `call`.
pub const THIS_INSTANCE: &str = "__hdk_this_instance";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendOptions(pub Timeout);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendArgs {
    pub to_agent: Address,
    pub payload: String,
    pub options: SendOptions,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReceiveParams {
    pub from: Address,
    pub payload: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmitSignalArgs {
    pub name: String,
    /// JSON text
    pub arguments: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum CryptoMethod {
    Sign,
    Encrypt,
    Decrypt,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CryptoArgs {
    pub payload: String,
    pub method: CryptoMethod,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OneTimeSignArgs {
    pub payloads: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignOneTimeResult {
    pub pub_key: String,
    pub signatures: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifySignatureArgs {
    pub provenance: Provenance,
    pub payload: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeystoreListResult {
    pub ids: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeystoreNewRandomArgs {
    pub dst_id: String,
    pub size: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeystoreDeriveSeedArgs {
    pub src_id: String,
    pub dst_id: String,
    pub context: String,
    pub index: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum KeyType {
    Signing,
    Encrypting,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeystoreDeriveKeyArgs {
    pub src_id: String,
    pub dst_id: String,
    pub key_type: KeyType,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeystoreSignArgs {
    pub src_id: String,
    pub payload: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeystoreGetPublicKeyArgs {
    pub src_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommitCapabilityGrantArgs {
    pub id: String,
    pub cap_type: crate::types::CapabilityType,
    pub assignees: Option<Vec<Address>>,
    pub functions: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommitCapabilityClaimArgs {
    pub id: String,
    pub grantor: Address,
    pub token: Address,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum MetaMethod {
    Version,
    Hash,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetaArgs {
    pub method: MetaMethod,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum MetaResult {
    Version(String),
    Hash(String),
}
