//! The converse zome of the app_spec twin: signatures and the keystore (sign with the agent
//! key or a derived key, verify, derive seeds and keys, list the secrets).

use hdk_lite::*;

fn handle_sign_message(key_id: String, message: String) -> ZomeApiResult<Signature> {
    if key_id.is_empty() {
        sign(&message)
    } else {
        keystore_sign(&key_id, &message)
    }
}

fn handle_verify_message(message: String, provenance: Provenance) -> ZomeApiResult<bool> {
    verify_signature(provenance, &message)
}

fn handle_add_key(src_id: String, dst_id: String) -> ZomeApiResult<JsonString> {
    keystore_derive_key(&src_id, &dst_id, KeyType::Signing).map(JsonString)
}

fn handle_get_pubkey(src_id: String) -> ZomeApiResult<JsonString> {
    keystore_get_public_key(&src_id).map(JsonString)
}

fn handle_add_seed(src_id: String, dst_id: String, index: u64) -> ZomeApiResult<()> {
    keystore_derive_seed(&src_id, &dst_id, "mycntext", index)
}

fn handle_list_secrets() -> ZomeApiResult<Vec<String>> {
    keystore_list().map(|list| list.ids)
}

fn handle_init() -> Result<(), String> {
    if let Err(err) = keystore_new_random("app_root_seed", 32) {
        let _ = debug(format!("ignoring new seed generation because of error: {}", err));
    }
    Ok(())
}

fn handle_validate_agent(_data: EntryValidationData<AgentId>) -> Result<(), String> {
    Ok(())
}

define_zome! {
    entries: []
    init: handle_init;
    validate_agent: handle_validate_agent;
    functions: [
        sign_message(key_id: String, message: String) -> ZomeApiResult<Signature> = handle_sign_message;
        verify_message(message: String, provenance: Provenance) -> ZomeApiResult<bool> = handle_verify_message;
        add_seed(src_id: String, dst_id: String, index: u64) -> ZomeApiResult<()> = handle_add_seed;
        add_key(src_id: String, dst_id: String) -> ZomeApiResult<JsonString> = handle_add_key;
        get_pubkey(src_id: String) -> ZomeApiResult<JsonString> = handle_get_pubkey;
        list_secrets() -> ZomeApiResult<Vec<String>> = handle_list_secrets;
    ]
    traits: { hc_public [sign_message, verify_message, add_key, add_seed, list_secrets, get_pubkey] }
}
