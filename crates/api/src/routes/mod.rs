//! The routes, grouped by feature.

pub mod access_tokens;
pub mod admin;
pub mod alerts;
pub mod amazon;
pub mod auth;
pub mod bot;
pub mod campaigns;
pub mod canned;
pub mod commerce;
pub mod compliance;
pub mod contact_merges;
pub mod contacts;
pub mod conversations;
pub mod credentials;
pub mod csat;
pub mod deliveries;
pub mod journeys;
pub mod messenger;
pub mod meta;
pub mod notices;
pub mod order_actions;
pub mod platform;
pub mod privacy;
pub mod products;
pub mod questions;
pub mod reports;
pub mod search;
pub mod security;
pub mod segments;
pub mod shop_import;
pub mod sms_inbox;
pub mod telegram;
pub mod translation;
pub mod webhooks;
pub mod whatsapp;
pub mod widget;
pub mod ws;

use crate::ApiState;
use axum::Router;
use axum::routing::{get, post, put};

/// Routes whose request bodies are streamed and may take longer than the
/// API's request timeout to arrive (they time out when the body stalls
/// instead).
pub fn streamed() -> Router<ApiState> {
    Router::new().route("/api/v1/accounts/{account_id}/attachments", post(conversations::upload_attachment))
}

/// Every route of the API but the [`streamed`] ones.
pub fn routes(state: ApiState) -> Router<ApiState> {
    let account = Router::new()
        .route("/inboxes", get(admin::list_inboxes).post(admin::create_inbox))
        .route("/inboxes/{inbox_id}", get(admin::get_inbox).patch(admin::update_inbox).delete(admin::delete_inbox))
        .route("/inboxes/{inbox_id}/check", post(admin::check_inbox_connection))
        .route("/agents", get(admin::list_agents).post(admin::create_agent))
        .route("/agents/{user_id}", axum::routing::patch(admin::update_agent).delete(admin::delete_agent))
        .route("/teams", get(admin::list_teams).post(admin::create_team))
        .route("/teams/{team_id}", axum::routing::delete(admin::delete_team))
        .route("/teams/{team_id}/members", put(admin::set_team_members))
        .route("/tags", get(admin::list_tags))
        .route("/canned_responses", get(canned::list_canned_responses).post(canned::create_canned_response))
        .route(
            "/canned_responses/{canned_response_id}",
            axum::routing::patch(canned::update_canned_response).delete(canned::delete_canned_response),
        )
        .route("/contacts", get(contacts::list_contacts).post(contacts::create_contact))
        .route(
            "/contacts/{contact_id}",
            get(contacts::get_contact).patch(contacts::update_contact).delete(privacy::erase_contact),
        )
        .route("/contacts/{contact_id}/conversations", get(contacts::contact_conversations))
        .route("/conversations", get(conversations::list_conversations))
        .route("/conversations/meta", get(conversations::conversation_counts))
        .route("/conversations/{conversation_id}", get(conversations::get_conversation))
        .route(
            "/conversations/{conversation_id}/messages",
            get(conversations::list_messages).post(conversations::create_message),
        )
        .route("/conversations/{conversation_id}/forward", post(conversations::forward_conversation))
        .route("/conversations/{conversation_id}/assignments", post(conversations::assign_conversation))
        .route("/conversations/{conversation_id}/status", post(conversations::set_status))
        .route("/conversations/{conversation_id}/priority", post(conversations::set_priority))
        .route("/conversations/{conversation_id}/tags", get(conversations::get_tags).put(conversations::set_tags))
        .route("/attachments/{key}", get(conversations::get_attachment));
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/api/openapi.json", get(meta::openapi))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/login/two_factor", post(auth::login_two_factor))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/profile", get(auth::profile))
        .nest("/api/v1/accounts/{account_id}", account)
        .route("/webhooks/api/{inbox_id}", post(webhooks::api_webhook))
        .route("/webhooks/{channel}/{inbox_id}", post(webhooks::channel_webhook))
        .route("/ws", get(ws::agent_socket))
        .merge(widget::routes(state))
        .merge(search::routes())
        .merge(bot::routes())
        .merge(commerce::routes())
        .merge(order_actions::routes())
        .merge(shop_import::routes())
        .merge(alerts::routes())
        .merge(reports::routes())
        .merge(products::routes())
        .merge(compliance::routes())
        .merge(amazon::routes())
        .merge(deliveries::routes())
        .merge(whatsapp::routes())
        .merge(telegram::routes())
        .merge(messenger::routes())
        .merge(notices::routes())
        .merge(journeys::routes())
        .merge(campaigns::routes())
        .merge(sms_inbox::routes())
        .merge(csat::routes())
        .merge(questions::routes())
        .merge(segments::routes())
        .merge(security::routes())
        .merge(privacy::routes())
        .merge(contact_merges::routes())
        .merge(translation::routes())
        .merge(access_tokens::routes())
        .merge(credentials::routes())
        .merge(platform::routes())
        .fallback(crate::assets::fallback)
}
