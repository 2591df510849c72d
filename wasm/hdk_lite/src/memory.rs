//! The zome side of the ABI's memory discipline, as HDK 0.0.52 (holochain_wasm_utils) keeps it.
//!
//! Every value crossing the boundary is a `RibosomeEncodingBits` (u64, a wasm i64): 0 is
//! Success, `offset << 32 | length` (length ≠ 0) an allocation in linear memory, `code << 32`
//! a failure code. The host writes the call's input at offset 0 and its replies at its own
//! counter; the zome keeps a bump stack (`G_MEM_STACK`) that starts right after the input and
//! writes its host-call arguments and its return value there. Strings written by the host are
//! read up to their NUL, as the HDK does (`CStr::from_ptr`).

use std::ffi::CStr;
use std::os::raw::c_char;

/// A wasm i64 as the ABI reads it.
pub type RibosomeEncodingBits = u64;

/// `RibosomeErrorCode`: the high 32 bits of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum RibosomeErrorCode {
    Unspecified = 1 << 32,
    ArgumentDeserializationFailed = 2 << 32,
    OutOfMemory = 3 << 32,
    ReceivedWrongActionResult = 4 << 32,
    CallbackFailed = 5 << 32,
    RecursiveCallForbidden = 6 << 32,
    ResponseSerializationFailed = 7 << 32,
    NotAnAllocation = 8 << 32,
    ZeroSizedAllocation = 9 << 32,
    UnknownEntryType = 10 << 32,
    MismatchWasmCallDataType = 11 << 32,
    EntryNotFound = 12 << 32,
    WorkflowFailed = 13 << 32,
}

impl RibosomeErrorCode {
    /// The decoder's table (code 11 is missing from it in holochain-rust: it reads back as Unspecified).
    pub fn from_code_int(code: u32) -> RibosomeErrorCode {
        use RibosomeErrorCode::*;
        match code {
            2 => ArgumentDeserializationFailed,
            3 => OutOfMemory,
            4 => ReceivedWrongActionResult,
            5 => CallbackFailed,
            6 => RecursiveCallForbidden,
            7 => ResponseSerializationFailed,
            8 => NotAnAllocation,
            9 => ZeroSizedAllocation,
            10 => UnknownEntryType,
            12 => EntryNotFound,
            13 => WorkflowFailed,
            _ => Unspecified,
        }
    }

    pub fn as_str(self) -> &'static str {
        use RibosomeErrorCode::*;
        match self {
            Unspecified => "Unspecified",
            ArgumentDeserializationFailed => "Argument deserialization failed",
            OutOfMemory => "Out of memory",
            ReceivedWrongActionResult => "Received wrong action result",
            CallbackFailed => "Callback failed",
            RecursiveCallForbidden => "Recursive call forbidden",
            ResponseSerializationFailed => "Response serialization failed",
            NotAnAllocation => "Not an allocation",
            ZeroSizedAllocation => "Zero-sized allocation",
            UnknownEntryType => "Unknown entry type",
            MismatchWasmCallDataType => "Mismatched WasmCallData type",
            EntryNotFound => "Entry Could Not Be Found",
            WorkflowFailed => "Workflow failed",
        }
    }

    pub fn bits(self) -> RibosomeEncodingBits {
        self as u64
    }
}

/// A decoded `RibosomeEncodingBits`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Encoded {
    Success,
    Allocation(Allocation),
    Failure(RibosomeErrorCode),
}

/// An (offset, length) pair that passed `WasmAllocation::new`'s checks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Allocation {
    pub offset: u32,
    pub length: u32,
}

/// `AllocationError`, with the failure code each maps to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AllocationError {
    OutOfBounds,
    ZeroLength,
    BadStackAlignment,
    Serialization,
}

impl AllocationError {
    pub fn code(self) -> RibosomeErrorCode {
        match self {
            AllocationError::OutOfBounds => RibosomeErrorCode::OutOfMemory,
            AllocationError::ZeroLength => RibosomeErrorCode::ZeroSizedAllocation,
            AllocationError::BadStackAlignment | AllocationError::Serialization => {
                RibosomeErrorCode::NotAnAllocation
            }
        }
    }

    pub fn bits(self) -> RibosomeEncodingBits {
        self.code().bits()
    }

    /// The HDK's `ZomeApiError` text for it.
    pub fn message(self) -> &'static str {
        match self {
            AllocationError::OutOfBounds => "Allocation out of bounds",
            AllocationError::ZeroLength => "Allocation zero length",
            AllocationError::BadStackAlignment => "Allocation out of alignment with stack",
            AllocationError::Serialization => "Allocation serialization failure",
        }
    }
}

impl Allocation {
    pub fn new(offset: u32, length: u32) -> Result<Allocation, AllocationError> {
        if u64::from(offset) + u64::from(length) > u64::from(u32::MAX) {
            Err(AllocationError::OutOfBounds)
        } else if length == 0 {
            Err(AllocationError::ZeroLength)
        } else {
            Ok(Allocation { offset, length })
        }
    }

    pub fn bits(self) -> RibosomeEncodingBits {
        (u64::from(self.offset) << 32) | u64::from(self.length)
    }

    /// The string at this allocation, read up to its NUL as the HDK reads host replies.
    pub fn read_to_string(self) -> String {
        let c_str = unsafe { CStr::from_ptr(self.offset as usize as *const c_char) };
        c_str.to_str().unwrap().to_string()
    }

    /// `WasmAllocation::try_from_ribosome_encoding`.
    pub fn try_from_bits(bits: RibosomeEncodingBits) -> Result<Allocation, AllocationError> {
        match decode(bits) {
            Encoded::Success => Err(AllocationError::ZeroLength),
            Encoded::Failure(_) => Err(AllocationError::OutOfBounds),
            Encoded::Allocation(allocation) => Ok(allocation),
        }
    }
}

pub fn decode(bits: RibosomeEncodingBits) -> Encoded {
    if bits == 0 {
        return Encoded::Success;
    }
    let high = (bits >> 32) as u32;
    let low = bits as u32;
    if low == 0 {
        Encoded::Failure(RibosomeErrorCode::from_code_int(high))
    } else {
        match Allocation::new(high, low) {
            Ok(allocation) => Encoded::Allocation(allocation),
            // offset + length beyond 4 GiB: what WasmAllocation::try_from reports
            Err(_) => Encoded::Failure(RibosomeErrorCode::OutOfMemory),
        }
    }
}

/// `WasmStack`: a bump allocator over the low bytes of linear memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stack {
    top: u32,
}

/// The HDK's `G_MEM_STACK`: set from the call's input allocation at the start of every export.
pub static mut G_MEM_STACK: Option<Stack> = None;

impl Stack {
    pub fn top(self) -> u32 {
        self.top
    }

    /// `WasmStack::try_from(allocation)`: the stack starts right after `allocation`.
    pub fn after(allocation: Allocation) -> Stack {
        Stack { top: allocation.offset + allocation.length }
    }

    fn allocate(&mut self, length: u32) -> Result<Allocation, AllocationError> {
        let allocation = Allocation::new(self.top, length)?;
        if u64::from(self.top) + u64::from(length) > u64::from(u32::MAX) {
            return Err(AllocationError::OutOfBounds);
        }
        self.top += length;
        Ok(allocation)
    }

    /// Pops `allocation`, which must be the last one made.
    pub fn deallocate(&mut self, allocation: Allocation) -> Result<(), AllocationError> {
        if self.top != allocation.offset + allocation.length {
            return Err(AllocationError::BadStackAlignment);
        }
        self.top = allocation.offset;
        Ok(())
    }

    /// `write_string` / `write_json`: at least one byte is always allocated; no NUL is written.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<Allocation, AllocationError> {
        let length = std::cmp::max(bytes.len(), 1);
        if length as u64 > u64::from(u32::MAX) {
            return Err(AllocationError::OutOfBounds);
        }
        let allocation = self.allocate(length as u32)?;
        let target = allocation.offset as usize as *mut u8;
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), target, bytes.len()) };
        Ok(allocation)
    }
}

/// `init_global_memory_from_ribosome_encoding`: what every export does first.
pub fn init_global_memory(bits: RibosomeEncodingBits) -> Result<Allocation, AllocationError> {
    let allocation = Allocation::try_from_bits(bits)?;
    unsafe { G_MEM_STACK = Some(Stack::after(allocation)) };
    Ok(allocation)
}

/// The global stack (a copy: writes through it never move the global top, as in the HDK).
pub fn global_stack() -> Result<Stack, AllocationError> {
    unsafe { G_MEM_STACK }.ok_or(AllocationError::BadStackAlignment)
}

/// `return_code_for_allocation_result(write_json(..))`: the bits an export returns for `text`.
pub fn return_text(text: &str) -> RibosomeEncodingBits {
    match global_stack().and_then(|mut stack| stack.write_bytes(text.as_bytes())) {
        Ok(allocation) => allocation.bits(),
        Err(error) => error.bits(),
    }
}

/// Like `return_text`, for bytes that need not be UTF-8 (fixtures of bad answers).
pub fn return_bytes(bytes: &[u8]) -> RibosomeEncodingBits {
    match global_stack().and_then(|mut stack| stack.write_bytes(bytes)) {
        Ok(allocation) => allocation.bits(),
        Err(error) => error.bits(),
    }
}
