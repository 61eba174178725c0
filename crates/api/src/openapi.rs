//! The OpenAPI 3 document, generated from the handlers' annotations and
//! the API types.

use crate::routes::{admin, auth, canned, contacts, conversations, meta, webhooks};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description served at `/api/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Ferry API", description = "Omnichannel customer service for cross-border e-commerce."),
    paths(
        meta::healthz,
        auth::login, auth::logout, auth::profile,
        admin::list_inboxes, admin::get_inbox, admin::create_inbox, admin::update_inbox, admin::delete_inbox,
        admin::check_inbox_connection,
        admin::list_agents, admin::create_agent, admin::update_agent, admin::delete_agent,
        admin::list_teams, admin::create_team, admin::set_team_members, admin::delete_team, admin::list_tags,
        canned::list_canned_responses, canned::create_canned_response, canned::update_canned_response,
        canned::delete_canned_response,
        contacts::list_contacts, contacts::create_contact, contacts::get_contact, contacts::update_contact, contacts::contact_conversations,
        conversations::list_conversations, conversations::conversation_counts, conversations::get_conversation,
        conversations::list_messages, conversations::create_message, conversations::forward_conversation, conversations::assign_conversation,
        conversations::set_status, conversations::set_priority, conversations::get_tags, conversations::set_tags,
        conversations::upload_attachment, conversations::get_attachment,
        webhooks::api_webhook, webhooks::channel_webhook,
    ),
    components(schemas(ferry_api_types::WsEvent)),
    modifiers(&Security),
    security(("api_access_token" = []), ("session" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "api_access_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("api_access_token"))),
        );
        c.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("ferry_session"))));
    }
}

/// The whole document: the REST API plus the widget's and search's types.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::widget::WidgetDoc::openapi());
    doc.merge(crate::routes::search::SearchDoc::openapi());
    doc.merge(crate::routes::bot::BotDoc::openapi());
    doc.merge(crate::routes::commerce::CommerceDoc::openapi());
    doc.merge(crate::routes::order_actions::OrderActionsDoc::openapi());
    doc.merge(crate::routes::shop_import::ShopImportDoc::openapi());
    doc.merge(crate::routes::alerts::AlertsDoc::openapi());
    doc.merge(crate::routes::reports::ReportsDoc::openapi());
    doc.merge(crate::routes::products::ProductsDoc::openapi());
    doc.merge(crate::routes::compliance::ComplianceDoc::openapi());
    doc.merge(crate::routes::amazon::AmazonDoc::openapi());
    doc.merge(crate::routes::deliveries::DeliveriesDoc::openapi());
    doc.merge(crate::routes::whatsapp::WhatsAppDoc::openapi());
    doc.merge(crate::routes::csat::CsatDoc::openapi());
    doc.merge(crate::routes::questions::QuestionsDoc::openapi());
    doc.merge(crate::routes::segments::SegmentsDoc::openapi());
    doc.merge(crate::routes::platform::PlatformDoc::openapi());
    doc
}
