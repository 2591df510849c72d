//! The blog zome of the app_spec twin: posts linked from their authors, private memos,
//! updates and deletions, capability grants and claims, node-to-node messages, a bridge.
//! The same functions, entry and link types and validation rules as examples/app_spec's
//! Python blog zome (itself a port of holochain-rust's app_spec), here in Rust on hdk_lite.

mod blog;
mod memo;
mod post;

use hdk_lite::*;

fn handle_init() -> Result<(), String> {
    Ok(())
}

fn handle_validate_agent(_data: EntryValidationData<AgentId>) -> Result<(), String> {
    Ok(())
}

define_zome! {
    entries: [ post::definition(), memo::definition() ]
    init: handle_init;
    validate_agent: handle_validate_agent;
    receive: blog::handle_receive;
    functions: [
        show_env() -> ZomeApiResult<blog::Env> = blog::handle_show_env;
        get_test_properties() -> ZomeApiResult<JsonString> = blog::handle_get_test_properties;
        get_sources(address: Address) -> ZomeApiResult<Vec<Address>> = blog::handle_get_sources;
        check_sum(num1: u32, num2: u32) -> ZomeApiResult<u32> = blog::handle_check_sum;
        ping(to_agent: Address, message: String) -> ZomeApiResult<JsonString> = blog::handle_ping;
        post_address(content: String) -> ZomeApiResult<Address> = blog::handle_post_address;
        memo_address(content: String) -> ZomeApiResult<Address> = blog::handle_memo_address;
        create_post(content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> = blog::handle_create_post;
        create_tagged_post(content: String, tag: String) -> ZomeApiResult<Address> = blog::handle_create_tagged_post;
        create_post_with_agent(agent_id: Address, content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> = blog::handle_create_post_with_agent;
        create_post_countersigned(content: String, in_reply_to: Option<Address>, counter_signature: Provenance) -> ZomeApiResult<Address> = blog::handle_create_post_countersigned;
        request_post_grant() -> ZomeApiResult<Option<Address>> = blog::handle_request_post_grant;
        get_grants() -> ZomeApiResult<Vec<Address>> = blog::handle_get_grants;
        commit_post_claim(grantor: Address, claim: Address) -> ZomeApiResult<Address> = blog::handle_commit_post_claim;
        create_post_with_claim(grantor: Address, content: String, in_reply_to: Option<Address>) -> ZomeApiResult<Address> = blog::handle_create_post_with_claim;
        create_memo(content: String) -> ZomeApiResult<Address> = blog::handle_create_memo;
        delete_post(content: String) -> ZomeApiResult<Address> = blog::handle_delete_post;
        delete_entry_post(post_address: Address) -> ZomeApiResult<Address> = blog::handle_delete_entry_post;
        update_post(post_address: Address, new_content: String) -> ZomeApiResult<Address> = blog::handle_update_post;
        posts_by_agent(agent: Address) -> ZomeApiResult<GetLinksResult> = blog::handle_posts_by_agent;
        authored_posts_with_sources(agent: Address) -> ZomeApiResult<GetLinksResult> = blog::handle_authored_posts_with_sources;
        get_post(post_address: Address) -> ZomeApiResult<Option<Entry>> = blog::handle_get_post;
        get_memo(memo_address: Address) -> ZomeApiResult<Option<Entry>> = blog::handle_get_memo;
        get_initial_post(post_address: Address) -> ZomeApiResult<Option<Entry>> = blog::handle_get_initial_post;
        get_history_post(post_address: Address) -> ZomeApiResult<EntryHistory> = blog::handle_get_history_post;
        my_posts(tag: Option<String>) -> ZomeApiResult<GetLinksResult> = blog::handle_my_posts;
        my_posts_with_load(tag: Option<String>) -> ZomeApiResult<Vec<post::Post>> = blog::handle_my_posts_with_load;
        my_memos() -> ZomeApiResult<Vec<Address>> = blog::handle_my_memos;
        get_post_with_options_latest(post_address: Address) -> ZomeApiResult<Entry> = blog::handle_get_post_with_options_latest;
        get_post_with_options(post_address: Address) -> ZomeApiResult<GetEntryResult> = blog::handle_get_post_with_options;
        get_post_bridged(post_address: Address) -> ZomeApiResult<Option<Entry>> = blog::handle_get_post_bridged;
        my_posts_immediate_timeout() -> ZomeApiResult<GetLinksResult> = blog::handle_my_posts_immediate_timeout;
        my_posts_as_committed() -> ZomeApiResult<Vec<Address>> = blog::handle_my_posts_as_committed;
        recommend_post(post_address: Address, agent_address: Address) -> ZomeApiResult<Address> = blog::handle_recommend_post;
        my_recommended_posts() -> ZomeApiResult<GetLinksResult> = blog::handle_my_recommended_posts;
        get_chain_header_hashes() -> ZomeApiResult<Vec<Address>> = blog::handle_get_chain_header_hashes;
    ]
    traits: {
        hc_public [show_env, get_test_properties, check_sum, ping, get_sources, post_address, create_post,
            create_tagged_post, create_post_countersigned, delete_post, delete_entry_post, update_post,
            posts_by_agent, get_post, my_posts, memo_address, get_memo, my_memos, create_memo,
            my_posts_as_committed, my_posts_immediate_timeout, recommend_post, my_recommended_posts,
            get_initial_post, get_history_post, get_post_with_options, get_post_with_options_latest,
            authored_posts_with_sources, create_post_with_agent, request_post_grant, get_grants,
            commit_post_claim, create_post_with_claim, get_post_bridged, my_posts_with_load,
            get_chain_header_hashes]
    }
}
