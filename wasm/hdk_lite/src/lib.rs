//! hdk_lite: an HDK-alike for holochain-rust's late i64 zome ABI, written for this project's
//! WebAssembly fixtures. It speaks the ABI as HDK 0.0.52 does: the `G_MEM_STACK` memory
//! discipline, `RibosomeEncodingBits`, the `ZomeApiInternalResult` envelope, the host-function
//! argument structs serialized by serde_json (`preserve_order`), globals from
//! `hc_init_globals`, and the callback exports. `define_zome!` generates the exports.

pub mod api;
pub mod api_types;
pub mod compat;
pub mod error;
pub mod hash;
pub mod memory;
pub mod meta;
pub mod types;

pub use serde;
pub use serde_derive;
pub use serde_json;

pub use crate::api::*;
pub use crate::api_types::*;
pub use crate::error::{HolochainError, ZomeApiError, ZomeApiResult};
pub use crate::meta::{entry_to_native, from, to, EntryDefinition, LinkDefinition, ZomeDefinition};
pub use crate::hash::{address_of, header_address, multihash_sha256};
pub use crate::types::*;

/// How a zome function's return value becomes what its export returns.
pub trait ZomeOutput {
    /// The bits the export returns (by default: `to_json` written on the stack).
    fn to_bits(&self) -> memory::RibosomeEncodingBits {
        memory::return_text(&self.to_json())
    }
    fn to_json(&self) -> String;
}

/// Returned as they are: for fixtures that hand the host a bad answer on purpose.
pub struct RawReturn(pub memory::RibosomeEncodingBits);

impl ZomeOutput for RawReturn {
    fn to_bits(&self) -> memory::RibosomeEncodingBits {
        self.0
    }
    fn to_json(&self) -> String {
        String::new()
    }
}

/// `Ok(v)` / `Err(e)` as `{"Ok":…}` / `{"Err":…}`; a `JsonString` value is embedded as the raw
/// JSON it holds (holochain_json_api's `Result` conversion does the same).
impl<T: serde::Serialize + 'static> ZomeOutput for Result<T, ZomeApiError> {
    fn to_json(&self) -> String {
        if let Ok(value) = self {
            if let Some(raw) = (value as &dyn std::any::Any).downcast_ref::<JsonString>() {
                return format!("{{\"Ok\":{}}}", raw.0);
            }
        }
        meta::result_json(self)
    }
}

/// Defines a zome: its entry types, `init`, the agent validator, an optional `receive`, its
/// functions (named JSON args in, `ZomeApiResult<T>` JSON out) and traits; exports everything
/// an HDK 0.0.52 zome exports.
///
/// ```ignore
/// define_zome! {
///     entries: [ post::definition() ]
///     init: init;
///     validate_agent: validate_agent;
///     receive: receive;
///     functions: [
///         create_post(content: String) -> ZomeApiResult<Address> = post::create;
///     ]
///     traits: { hc_public [create_post] }
/// }
/// ```
#[macro_export]
macro_rules! define_zome {
    (generation: genesis; $($rest:tt)*) => { $crate::__hdk_lite_zome! { [genesis] $($rest)* } };
    (generation: git_hash; $($rest:tt)*) => { $crate::__hdk_lite_zome! { [git_hash] $($rest)* } };
    (generation: hdk_version $version:literal; $($rest:tt)*) => { $crate::__hdk_lite_zome! { [version $version] $($rest)* } };
    ($($rest:tt)*) => { $crate::__hdk_lite_zome! { [version $crate::meta::HDK_VERSION] $($rest)* } };
}

/// `define_zome!`'s body; the bracket says which HDK generation's exports to make.
#[doc(hidden)]
#[macro_export]
macro_rules! __hdk_lite_zome {
    (
        [$($generation:tt)*]
        entries: [ $($entry:expr),* $(,)? ]
        init: $init:path;
        validate_agent: $validate_agent:path;
        $( receive: $receive:path; )?
        functions: [
            $( $fname:ident ( $( $pname:ident : $ptype:ty ),* ) -> $otype:ty = $handler:path; )*
        ]
        traits: { $( $trait:ident [ $( $tfn:ident ),* ] )* }
    ) => {
        fn __hdk_lite_zome_definition() -> $crate::meta::ZomeDefinition {
            #[allow(unused_mut)]
            let mut zd = $crate::meta::ZomeDefinition::default();
            $( zd.define($entry); )*
            zd.agent_entry_validator = Some($validate_agent);
            zd
        }

        fn __hdk_lite_traits() -> ::std::collections::BTreeMap<String, $crate::types::TraitFns> {
            #[allow(unused_mut)]
            let mut traits = ::std::collections::BTreeMap::new();
            $(
                traits.insert(
                    stringify!($trait).to_string(),
                    $crate::types::TraitFns { functions: vec![$(stringify!($tfn).to_string()),*] },
                );
            )*
            traits
        }

        fn __hdk_lite_functions() -> Vec<$crate::types::FnDeclaration> {
            vec![
                $(
                    $crate::types::FnDeclaration {
                        name: stringify!($fname).to_string(),
                        inputs: vec![
                            $( $crate::types::FnParameter {
                                parameter_type: stringify!($ptype).to_string(),
                                name: stringify!($pname).to_string(),
                            } ),*
                        ],
                        outputs: vec![$crate::types::FnParameter {
                            parameter_type: stringify!($otype).to_string(),
                            name: "result".to_string(),
                        }],
                    }
                ),*
            ]
        }

        // Exported as side effects of `no_mangle` in HDK zomes (Rust ABI; hosts never call them).
        #[no_mangle]
        #[allow(improper_ctypes_definitions)]
        pub extern "C" fn zome_setup(zd: &mut $crate::meta::ZomeDefinition) {
            *zd = __hdk_lite_zome_definition();
        }

        #[no_mangle]
        #[allow(improper_ctypes_definitions)]
        pub extern "C" fn __list_traits() -> ::std::collections::BTreeMap<String, $crate::types::TraitFns> {
            __hdk_lite_traits()
        }

        #[no_mangle]
        #[allow(improper_ctypes_definitions)]
        pub extern "C" fn __list_functions() -> Vec<$crate::types::FnDeclaration> {
            __hdk_lite_functions()
        }

        #[no_mangle]
        pub extern "C" fn __hdk_validate_app_entry(bits: u64) -> u64 {
            $crate::meta::validate_app_entry(__hdk_lite_zome_definition(), bits)
        }

        $crate::__hdk_lite_generation! { [$($generation)*] $init }

        #[no_mangle]
        pub extern "C" fn __hdk_validate_link(bits: u64) -> u64 {
            $crate::meta::validate_link(__hdk_lite_zome_definition(), bits)
        }

        #[no_mangle]
        pub extern "C" fn __hdk_get_validation_package_for_entry_type(bits: u64) -> u64 {
            $crate::meta::validation_package_for_entry_type(__hdk_lite_zome_definition(), bits)
        }

        #[no_mangle]
        pub extern "C" fn __hdk_get_validation_package_for_link(bits: u64) -> u64 {
            $crate::meta::validation_package_for_link(__hdk_lite_zome_definition(), bits)
        }

        #[no_mangle]
        pub extern "C" fn __hdk_get_json_definition(bits: u64) -> u64 {
            $crate::meta::json_definition(__hdk_lite_zome_definition(), __hdk_lite_traits(), __hdk_lite_functions(), bits)
        }

        #[no_mangle]
        pub extern "C" fn __install_panic_handler() {
            $crate::meta::install_panic_handler()
        }

        $(
            /// `receive`: `{"from","payload"}` in, the reply text out as it is.
            #[no_mangle]
            pub extern "C" fn receive(bits: u64) -> u64 {
                $crate::meta::zome_function(bits, |p: $crate::api_types::ReceiveParams| {
                    $crate::memory::return_text(&$receive(p.from, p.payload))
                })
            }
        )?

        $(
            #[no_mangle]
            pub extern "C" fn $fname(bits: u64) -> u64 {
                #[derive($crate::serde_derive::Deserialize)]
                #[serde(crate = "hdk_lite::serde")]
                #[allow(non_camel_case_types)]
                struct InputStruct { $( $pname: $ptype ),* }
                $crate::meta::zome_function(bits, |input: InputStruct| {
                    let InputStruct { $($pname),* } = input;
                    let result: $otype = $handler($($pname),*);
                    $crate::ZomeOutput::to_bits(&result)
                })
            }
        )*
    };
}

/// The exports that changed between HDK generations: `init` or `genesis` (to 0.0.24),
/// `__hdk_hdk_version` or `__hdk_git_hash` (to 0.0.38), `__hdk_validate_agent_entry` (0.0.25+).
#[doc(hidden)]
#[macro_export]
macro_rules! __hdk_lite_generation {
    ([version $version:expr] $init:path) => {
        $crate::__hdk_lite_init_export! { init $init }
        $crate::__hdk_lite_agent_export! {}
        #[no_mangle]
        pub extern "C" fn __hdk_hdk_version(bits: u64) -> u64 {
            $crate::meta::hdk_version(bits, $version)
        }
    };
    ([git_hash] $init:path) => {
        $crate::__hdk_lite_init_export! { init $init }
        $crate::__hdk_lite_agent_export! {}
        #[no_mangle]
        pub extern "C" fn __hdk_git_hash(bits: u64) -> u64 {
            $crate::meta::hdk_version(bits, $crate::meta::HDK_GIT_HASH)
        }
    };
    ([genesis] $init:path) => {
        $crate::__hdk_lite_init_export! { genesis $init }
        #[no_mangle]
        pub extern "C" fn __hdk_git_hash(bits: u64) -> u64 {
            $crate::meta::hdk_version(bits, $crate::meta::HDK_GIT_HASH)
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __hdk_lite_agent_export {
    () => {
        #[no_mangle]
        pub extern "C" fn __hdk_validate_agent_entry(bits: u64) -> u64 {
            $crate::meta::validate_agent_entry(__hdk_lite_zome_definition(), bits)
        }
    };
}

/// `init` (or `genesis`): Success, or the error text as a JSON string.
#[doc(hidden)]
#[macro_export]
macro_rules! __hdk_lite_init_export {
    ($name:ident $init:path) => {
        #[no_mangle]
        pub extern "C" fn $name(bits: u64) -> u64 {
            $crate::meta::with_input_text(bits, |_| {
                let result: Result<(), String> = $init();
                match result {
                    Ok(()) => 0,
                    Err(e) => $crate::memory::return_text(&$crate::serde_json::to_string(&e).unwrap()),
                }
            })
        }
    };
}
