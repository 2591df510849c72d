//! The data types zomes and the host exchange, with the serde shapes of holochain_core_types
//! and holochain_wasm_utils 0.0.52 (field order is serialization order: keep it).

use serde_derive::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `Address` / `HashString`: serialized as a plain JSON string.
pub type Address = String;

/// A signature (base64 text).
pub type Signature = String;

/// Raw JSON text that serializes as a JSON *string* holding it, as `JsonString` does inside
/// structs and as a zome function's `ZomeApiResult<JsonString>` renders it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JsonString(pub String);

impl JsonString {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentId {
    pub nick: String,
    pub pub_sign_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryType {
    App(String),
    Dna,
    AgentId,
    Deletion,
    LinkAdd,
    LinkRemove,
    LinkList,
    ChainHeader,
    ChainMigrate,
    CapTokenGrant,
    CapTokenClaim,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance(pub Address, pub String);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHeader {
    pub entry_type: EntryType,
    pub entry_address: Address,
    pub provenances: Vec<Provenance>,
    pub link: Option<Address>,
    pub link_same_type: Option<Address>,
    pub link_update_delete: Option<Address>,
    pub timestamp: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub base: Address,
    pub target: Address,
    pub link_type: String,
    pub tag: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkActionKind {
    ADD,
    REMOVE,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkData {
    pub action_kind: LinkActionKind,
    pub link: Link,
    pub top_chain_header: ChainHeader,
    pub agent_id: AgentId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionEntry {
    pub deleted_entry_address: Address,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapTokenGrant {
    pub id: String,
    pub assignees: Option<Vec<Address>>,
    pub functions: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapTokenClaim {
    pub id: String,
    pub grantor: Address,
    pub token: Address,
}

/// `Entry`. An app entry is `{"App":["<type>","<value as JSON text>"]}`; its value is opaque text.
/// The system variants this crate never builds are kept as JSON values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    App(String, String),
    Dna(Value),
    AgentId(AgentId),
    Deletion(DeletionEntry),
    LinkAdd(LinkData),
    LinkRemove((LinkData, Vec<Address>)),
    LinkList(Value),
    ChainHeader(ChainHeader),
    ChainMigrate(Value),
    CapTokenClaim(CapTokenClaim),
    CapTokenGrant(CapTokenGrant),
}

impl Entry {
    /// An app entry whose value is `value` serialized by serde_json.
    pub fn app<T: serde::Serialize>(entry_type: &str, value: &T) -> Entry {
        Entry::App(entry_type.to_string(), serde_json::to_string(value).unwrap())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrudStatus {
    Live,
    Rejected,
    Deleted,
    Modified,
    Locked,
}

// -- validation ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationPackage {
    pub chain_header: ChainHeader,
    pub source_chain_entries: Option<Vec<Entry>>,
    pub source_chain_headers: Option<Vec<ChainHeader>>,
    pub custom: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EntryLifecycle {
    Chain,
    Dht,
    Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationData {
    pub package: ValidationPackage,
    pub lifecycle: EntryLifecycle,
}

impl ValidationData {
    /// The agents who signed the header being validated.
    pub fn sources(&self) -> Vec<Address> {
        self.package.chain_header.provenances.iter().map(|p| p.0.clone()).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EntryValidationData<T> {
    Create {
        entry: T,
        validation_data: ValidationData,
    },
    Modify {
        new_entry: T,
        old_entry: T,
        old_entry_header: ChainHeader,
        validation_data: ValidationData,
    },
    Delete {
        old_entry: T,
        old_entry_header: ChainHeader,
        validation_data: ValidationData,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkValidationData {
    LinkAdd {
        link: LinkData,
        validation_data: ValidationData,
    },
    LinkRemove {
        link: LinkData,
        validation_data: ValidationData,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ValidationPackageDefinition {
    Entry,
    ChainEntries,
    ChainHeaders,
    ChainFull,
    Custom(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkDirection {
    To,
    From,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryValidationArgs {
    pub validation_data: EntryValidationData<Entry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgentIdValidationArgs {
    pub validation_data: EntryValidationData<AgentId>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkValidationPackageArgs {
    pub entry_type: String,
    pub link_type: String,
    pub direction: LinkDirection,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkValidationArgs {
    pub entry_type: String,
    pub link: Link,
    pub direction: LinkDirection,
    pub validation_data: LinkValidationData,
}

// -- the zome definition (what __hdk_get_json_definition reports) ---------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    Public,
    Private,
    Encrypted,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinksTo {
    pub target_type: String,
    pub link_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkedFrom {
    pub base_type: String,
    pub link_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryTypeDef {
    pub properties: String,
    pub sharing: Sharing,
    pub links_to: Vec<LinksTo>,
    pub linked_from: Vec<LinkedFrom>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FnParameter {
    #[serde(rename = "type")]
    pub parameter_type: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FnDeclaration {
    pub name: String,
    pub inputs: Vec<FnParameter>,
    pub outputs: Vec<FnParameter>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TraitFns {
    pub functions: Vec<String>,
}

/// `PartialZome`: entry types keyed by name (sorted, as the HDK's BTreeMap is), traits, functions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartialZome {
    pub entry_types: BTreeMap<String, EntryTypeDef>,
    pub traits: BTreeMap<String, TraitFns>,
    pub fn_declarations: Vec<FnDeclaration>,
}

// -- globals and capabilities ---------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapabilityRequest {
    pub cap_token: Address,
    pub provenance: Provenance,
}

/// `ZomeApiGlobals`, as `hc_init_globals` returns them (`properties` is JSON text).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZomeApiGlobals {
    pub dna_name: String,
    pub dna_address: Address,
    pub agent_id_str: String,
    pub agent_address: Address,
    pub agent_initial_hash: String,
    pub agent_latest_hash: String,
    pub public_token: Address,
    pub cap_request: Option<CapabilityRequest>,
    pub properties: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapabilityType {
    #[serde(rename = "public")]
    Public,
    #[serde(rename = "transferable")]
    Transferable,
    #[serde(rename = "assigned")]
    Assigned,
}

/// `Iso8601::new(secs, 0).to_string()`: chrono's `to_rfc3339()` of a UTC time, `+00:00` offset.
pub fn iso8601_from_seconds(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil_from_days (Howard Hinnant)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        year,
        month,
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
