"""The converse zome of holochain-rust's app_spec (``app_spec/zomes/converse``), in Python.

Signatures and the keystore: sign with the agent key or a derived key,
verify, derive seeds and keys, list the secrets.
"""

from holochain import hdk

zome = hdk.Zome(description="The converse DNA")
public = zome.function(public=True)


@zome.init
def init() -> None:
    try:
        hdk.keystore_new_random("app_root_seed", 32)
    except hdk.ZomeApiError as exc:
        hdk.debug(f"ignoring new seed generation because of error: {exc}")


@zome.validate_agent
def validate_agent(validation: hdk.EntryValidation) -> None:
    pass


@public
def sign_message(key_id: str, message: str) -> str:
    if key_id == "":
        return hdk.sign(message)
    return hdk.keystore_sign(key_id, message)


@public
def verify_message(message: str, provenance: list[str]) -> bool:
    return hdk.verify_signature(provenance, message)


@public
def add_seed(src_id: str, dst_id: str, index: int) -> None:
    hdk.keystore_derive_seed(src_id, dst_id, "mycntext", index)


@public
def add_key(src_id: str, dst_id: str) -> str:
    return hdk.keystore_derive_key(src_id, dst_id, "Signing")


@public
def get_pubkey(src_id: str) -> str:
    return hdk.keystore_get_public_key(src_id)


@public
def list_secrets() -> list:
    return hdk.keystore_list()["ids"]
