//! `ZomeApiError`, the slice of `HolochainError` a zome produces, and the host's
//! `ZomeApiInternalResult` envelope.

use crate::memory::{AllocationError, RibosomeErrorCode};
use serde_derive::{Deserialize, Serialize};
use std::fmt;

/// What a zome function's `Err` carries, serialized as the HDK does: `{"Internal":"…"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ZomeApiError {
    Internal(String),
    FunctionNotImplemented,
    HashNotFound,
    ValidationFailed(String),
    Timeout(String),
}

pub type ZomeApiResult<T> = Result<T, ZomeApiError>;

impl fmt::Display for ZomeApiError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ZomeApiError::Internal(msg) => write!(f, "{}", msg),
            ZomeApiError::FunctionNotImplemented => write!(f, "Function not implemented"),
            ZomeApiError::HashNotFound => write!(f, "Hash not found"),
            ZomeApiError::ValidationFailed(msg) => write!(f, "{}", msg),
            ZomeApiError::Timeout(s) => write!(f, "Timeout({})", s),
        }
    }
}

impl From<String> for ZomeApiError {
    fn from(s: String) -> ZomeApiError {
        ZomeApiError::Internal(s)
    }
}

impl From<&str> for ZomeApiError {
    fn from(s: &str) -> ZomeApiError {
        ZomeApiError::Internal(s.to_string())
    }
}

impl From<ZomeApiError> for String {
    fn from(error: ZomeApiError) -> String {
        error.to_string()
    }
}

impl From<AllocationError> for ZomeApiError {
    fn from(error: AllocationError) -> ZomeApiError {
        ZomeApiError::Internal(error.message().to_string())
    }
}

impl From<HolochainError> for ZomeApiError {
    fn from(error: HolochainError) -> ZomeApiError {
        match error {
            HolochainError::ValidationFailed(s) => ZomeApiError::ValidationFailed(s),
            HolochainError::Timeout(s) => ZomeApiError::Timeout(s),
            other => ZomeApiError::Internal(other.to_string()),
        }
    }
}

/// The `HolochainError` variants a zome itself raises (serialized as holochain-rust's enum).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HolochainError {
    ErrorGeneric(String),
    SerializationError(String),
    ValidationFailed(String),
    Ribosome(RibosomeErrorName),
    RibosomeFailed(String),
    Timeout(String),
}

/// `RibosomeErrorCode` as serde writes it inside a `HolochainError` (its variant name).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RibosomeErrorName(#[serde(with = "code_name")] pub RibosomeErrorCode);

mod code_name {
    use crate::memory::RibosomeErrorCode;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(code: &RibosomeErrorCode, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:?}", code))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RibosomeErrorCode, D::Error> {
        let _ = String::deserialize(d)?;
        Ok(RibosomeErrorCode::Unspecified)
    }
}

impl fmt::Display for HolochainError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            HolochainError::ErrorGeneric(msg)
            | HolochainError::SerializationError(msg)
            | HolochainError::ValidationFailed(msg)
            | HolochainError::RibosomeFailed(msg) => write!(f, "{}", msg),
            HolochainError::Ribosome(code) => write!(f, "{}", code.0.as_str()),
            HolochainError::Timeout(s) => write!(f, "timeout {}", s),
        }
    }
}

impl HolochainError {
    /// `RibosomeErrorCode::from(HolochainError)`.
    pub fn code(&self) -> RibosomeErrorCode {
        match self {
            HolochainError::ErrorGeneric(_) | HolochainError::Timeout(_) => RibosomeErrorCode::Unspecified,
            HolochainError::SerializationError(_) => RibosomeErrorCode::ArgumentDeserializationFailed,
            HolochainError::ValidationFailed(_) | HolochainError::RibosomeFailed(_) => {
                RibosomeErrorCode::CallbackFailed
            }
            HolochainError::Ribosome(code) => code.0,
        }
    }

    pub fn serialization(error: serde_json::Error) -> HolochainError {
        HolochainError::SerializationError(error.to_string())
    }
}

/// The envelope most host functions answer with: `value` and `error` are JSON text.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZomeApiInternalResult {
    pub ok: bool,
    pub value: String,
    pub error: String,
}
