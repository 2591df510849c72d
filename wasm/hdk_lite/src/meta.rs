//! The callbacks every HDK zome exports (`__hdk_validate_app_entry`, …), as HDK 0.0.52's
//! meta.rs implements them; `define_zome!` exports thin wrappers around these.

use crate::error::{HolochainError, ZomeApiError};
use crate::memory::{self, Allocation, RibosomeEncodingBits, RibosomeErrorCode};
use crate::types::*;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// HDK_VERSION of the HDK this crate imitates.
pub const HDK_VERSION: &str = "0.0.52-alpha2";

/// What `__hdk_git_hash` answers in the `git_hash` and `genesis` generations.
pub const HDK_GIT_HASH: &str = "0000000000000000000000000000000000000000";

pub type EntryValidator = fn(EntryValidationData<Entry>) -> Result<(), String>;
pub type AgentValidator = fn(EntryValidationData<AgentId>) -> Result<(), String>;
pub type LinkValidator = fn(LinkValidationData) -> Result<(), String>;

/// One link type of an entry type (`to!` / `from!`).
pub struct LinkDefinition {
    pub direction: LinkDirection,
    pub other_type: String,
    pub link_type: String,
    pub package: ValidationPackageDefinition,
    pub validator: LinkValidator,
}

/// One entry type (`entry!`).
pub struct EntryDefinition {
    pub name: String,
    pub description: String,
    pub sharing: Sharing,
    pub package: ValidationPackageDefinition,
    pub validator: EntryValidator,
    pub links: Vec<LinkDefinition>,
}

impl EntryDefinition {
    pub fn new(name: &str, description: &str, sharing: Sharing, package: ValidationPackageDefinition, validator: EntryValidator) -> Self {
        EntryDefinition {
            name: name.to_string(),
            description: description.to_string(),
            sharing,
            package,
            validator,
            links: Vec::new(),
        }
    }

    pub fn link(mut self, link: LinkDefinition) -> Self {
        self.links.push(link);
        self
    }

    fn type_def(&self) -> EntryTypeDef {
        let mut def = EntryTypeDef {
            properties: self.description.clone(),
            sharing: self.sharing,
            links_to: Vec::new(),
            linked_from: Vec::new(),
        };
        for link in &self.links {
            match link.direction {
                LinkDirection::To => def.links_to.push(LinksTo { target_type: link.other_type.clone(), link_type: link.link_type.clone() }),
                LinkDirection::From => def.linked_from.push(LinkedFrom { base_type: link.other_type.clone(), link_type: link.link_type.clone() }),
            }
        }
        def
    }
}

pub fn to(other_type: &str, link_type: &str, package: ValidationPackageDefinition, validator: LinkValidator) -> LinkDefinition {
    LinkDefinition { direction: LinkDirection::To, other_type: other_type.to_string(), link_type: link_type.to_string(), package, validator }
}

pub fn from(other_type: &str, link_type: &str, package: ValidationPackageDefinition, validator: LinkValidator) -> LinkDefinition {
    LinkDefinition { direction: LinkDirection::From, other_type: other_type.to_string(), link_type: link_type.to_string(), package, validator }
}

/// What `zome_setup` fills in (the HDK's `ZomeDefinition`).
#[derive(Default)]
pub struct ZomeDefinition {
    pub entry_types: Vec<EntryDefinition>,
    pub agent_entry_validator: Option<AgentValidator>,
}

impl ZomeDefinition {
    pub fn define(&mut self, entry_type: EntryDefinition) {
        self.entry_types.push(entry_type);
    }

    fn find(&self, name: &str) -> Option<&EntryDefinition> {
        self.entry_types.iter().find(|e| e.name == name)
    }
}

/// `entry_to_native_type`: an app entry's value parsed as `T`, with the HDK's error text.
pub fn entry_to_native<T: DeserializeOwned>(data: EntryValidationData<Entry>) -> Result<EntryValidationData<T>, String> {
    fn native<T: DeserializeOwned>(entry: Entry) -> Result<T, String> {
        match entry {
            Entry::App(_, value) => serde_json::from_str(&value).map_err(|_| {
                ZomeApiError::Internal(format!("Could not convert Entry result to requested type : {}", value)).to_string()
            }),
            _ => Err(ZomeApiError::Internal("Entry did not return an app entry".to_string()).to_string()),
        }
    }
    Ok(match data {
        EntryValidationData::Create { entry, validation_data } => EntryValidationData::Create { entry: native(entry)?, validation_data },
        EntryValidationData::Modify { new_entry, old_entry, old_entry_header, validation_data } => EntryValidationData::Modify {
            new_entry: native(new_entry)?,
            old_entry: native(old_entry)?,
            old_entry_header,
            validation_data,
        },
        EntryValidationData::Delete { old_entry, old_entry_header, validation_data } => EntryValidationData::Delete {
            old_entry: native(old_entry)?,
            old_entry_header,
            validation_data,
        },
    })
}

/// The call's input JSON parsed, or the bits of the failure the HDK returns for it.
fn load_input<T: DeserializeOwned>(allocation: Allocation) -> Result<T, RibosomeEncodingBits> {
    serde_json::from_str(&allocation.read_to_string()).map_err(|e| HolochainError::serialization(e).code().bits())
}

/// The validator's verdict as bits: Success, or its message as raw text.
fn verdict(result: Result<(), String>) -> RibosomeEncodingBits {
    match result {
        Ok(()) => 0,
        Err(message) => memory::return_text(&message),
    }
}

fn app_entry_type(data: &EntryValidationData<Entry>) -> Result<String, RibosomeEncodingBits> {
    let entry = match data {
        EntryValidationData::Create { entry, .. } => entry,
        EntryValidationData::Modify { new_entry, .. } => new_entry,
        EntryValidationData::Delete { old_entry, .. } => old_entry,
    };
    match entry {
        Entry::App(name, _) => Ok(name.clone()),
        _ => Err(RibosomeErrorCode::Unspecified.bits()),
    }
}

pub fn validate_app_entry(zd: ZomeDefinition, bits: RibosomeEncodingBits) -> RibosomeEncodingBits {
    let allocation = match memory::init_global_memory(bits) {
        Ok(a) => a,
        Err(e) => return e.bits(),
    };
    let input: EntryValidationArgs = match load_input(allocation) {
        Ok(v) => v,
        Err(bits) => return bits,
    };
    let name = match app_entry_type(&input.validation_data) {
        Ok(name) => name,
        Err(bits) => return bits,
    };
    match zd.find(&name) {
        None => RibosomeErrorCode::CallbackFailed.bits(),
        Some(def) => verdict((def.validator)(input.validation_data)),
    }
}

pub fn validate_agent_entry(zd: ZomeDefinition, bits: RibosomeEncodingBits) -> RibosomeEncodingBits {
    let allocation = match memory::init_global_memory(bits) {
        Ok(a) => a,
        Err(e) => return e.bits(),
    };
    let validator = match zd.agent_entry_validator {
        None => return memory::return_text("No agent validation callback registered for zome."),
        Some(v) => v,
    };
    let input: AgentIdValidationArgs = match load_input(allocation) {
        Ok(v) => v,
        Err(bits) => return bits,
    };
    verdict(validator(input.validation_data))
}

pub fn validate_link(zd: ZomeDefinition, bits: RibosomeEncodingBits) -> RibosomeEncodingBits {
    let allocation = match memory::init_global_memory(bits) {
        Ok(a) => a,
        Err(e) => return e.bits(),
    };
    let input: LinkValidationArgs = match load_input(allocation) {
        Ok(v) => v,
        Err(bits) => return bits,
    };
    let link = zd
        .find(&input.entry_type)
        .and_then(|def| def.links.iter().find(|l| l.link_type == input.link.link_type && l.direction == input.direction));
    match link {
        None => RibosomeErrorCode::CallbackFailed.bits(),
        Some(link) => verdict((link.validator)(input.validation_data)),
    }
}

fn package_bits(package: &ValidationPackageDefinition) -> RibosomeEncodingBits {
    memory::return_text(&serde_json::to_string(package).unwrap())
}

/// The input is the bare entry type name (not JSON).
pub fn validation_package_for_entry_type(zd: ZomeDefinition, bits: RibosomeEncodingBits) -> RibosomeEncodingBits {
    let allocation = match memory::init_global_memory(bits) {
        Ok(a) => a,
        Err(e) => return e.bits(),
    };
    let name = allocation.read_to_string();
    match zd.find(&name) {
        None => RibosomeErrorCode::CallbackFailed.bits(),
        Some(def) => package_bits(&def.package),
    }
}

pub fn validation_package_for_link(zd: ZomeDefinition, bits: RibosomeEncodingBits) -> RibosomeEncodingBits {
    let allocation = match memory::init_global_memory(bits) {
        Ok(a) => a,
        Err(e) => return e.bits(),
    };
    let input: LinkValidationPackageArgs = match load_input(allocation) {
        Ok(v) => v,
        Err(bits) => return bits,
    };
    zd.find(&input.entry_type)
        .and_then(|def| def.links.iter().find(|l| l.link_type == input.link_type && l.direction == input.direction))
        .map(|link| package_bits(&link.package))
        .unwrap_or_else(|| RibosomeErrorCode::CallbackFailed.bits())
}

/// `__hdk_hdk_version` (or the older `__hdk_git_hash`): the text as it is, not JSON.
pub fn hdk_version(bits: RibosomeEncodingBits, version: &str) -> RibosomeEncodingBits {
    if let Err(e) = memory::init_global_memory(bits) {
        return e.bits();
    }
    memory::return_text(version)
}

pub fn json_definition(
    zd: ZomeDefinition,
    traits: BTreeMap<String, TraitFns>,
    fn_declarations: Vec<FnDeclaration>,
    bits: RibosomeEncodingBits,
) -> RibosomeEncodingBits {
    if let Err(e) = memory::init_global_memory(bits) {
        return e.bits();
    }
    let entry_types = zd.entry_types.iter().map(|def| (def.name.clone(), def.type_def())).collect();
    let partial = PartialZome { entry_types, traits, fn_declarations };
    memory::return_text(&serde_json::to_string(&partial).unwrap())
}

/// `__install_panic_handler`: a panic's message and location go to `hc_debug` before the trap.
pub fn install_panic_handler() {
    std::panic::set_hook(Box::new(|info| {
        let message = if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else {
            "panic with a non-string payload".to_string()
        };
        let _ = crate::api::debug(message);
        let location = match info.location() {
            Some(location) => format!("panic occurred in file '{}' at line {}", location.file(), location.line()),
            None => "panic occurred but can't get location information...".to_string(),
        };
        let _ = crate::api::debug(location);
    }));
}

/// Runs `init` (or `receive`) with the HDK's memory set-up; `run` gets the input text.
pub fn with_input_text(bits: RibosomeEncodingBits, run: impl FnOnce(String) -> RibosomeEncodingBits) -> RibosomeEncodingBits {
    match memory::init_global_memory(bits) {
        Ok(allocation) => run(allocation.read_to_string()),
        Err(e) => e.bits(),
    }
}

/// A zome function's body: set up memory, parse the named args into `I` (or return the
/// HDK's `{"SerializationError":"…"}`), run, and return what `run` returns.
pub fn zome_function<I: DeserializeOwned>(
    bits: RibosomeEncodingBits,
    run: impl FnOnce(I) -> RibosomeEncodingBits,
) -> RibosomeEncodingBits {
    let allocation = match memory::init_global_memory(bits) {
        Ok(a) => a,
        Err(e) => return e.bits(),
    };
    let input: I = match serde_json::from_str(&allocation.read_to_string()) {
        Ok(input) => input,
        Err(e) => return memory::return_text(&serde_json::to_string(&HolochainError::serialization(e)).unwrap()),
    };
    run(input)
}

/// `ZomeApiResult<T>` as the HDK's JsonString conversion renders it: `{"Ok":…}` / `{"Err":…}`.
pub fn result_json<T: serde::Serialize>(result: &Result<T, ZomeApiError>) -> String {
    match result {
        Ok(value) => format!("{{\"Ok\":{}}}", serde_json::to_string(value).unwrap()),
        Err(error) => format!("{{\"Err\":{}}}", serde_json::to_string(error).unwrap()),
    }
}
