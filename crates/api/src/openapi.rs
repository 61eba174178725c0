//! The OpenAPI 3 document, generated from the handlers' annotations and
//! the API types.

use crate::routes::{admin, auth, canned, contacts, conversations, meta, webhooks, ws};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description served at `/api/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Ferry API", description = "Omnichannel customer service for cross-border e-commerce."),
    paths(
        meta::healthz, meta::metrics, meta::openapi, ws::agent_socket,
        auth::login, auth::login_two_factor, auth::logout, auth::profile,
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
    doc.merge(crate::routes::privacy::PrivacyDoc::openapi());
    doc.merge(crate::routes::deliveries::DeliveriesDoc::openapi());
    doc.merge(crate::routes::whatsapp::WhatsAppDoc::openapi());
    doc.merge(crate::routes::telegram::TelegramDoc::openapi());
    doc.merge(crate::routes::messenger::MessengerDoc::openapi());
    doc.merge(crate::routes::notices::NoticesDoc::openapi());
    doc.merge(crate::routes::journeys::JourneysDoc::openapi());
    doc.merge(crate::routes::campaigns::CampaignsDoc::openapi());
    doc.merge(crate::routes::sms_inbox::SmsInboxDoc::openapi());
    doc.merge(crate::routes::csat::CsatDoc::openapi());
    doc.merge(crate::routes::questions::QuestionsDoc::openapi());
    doc.merge(crate::routes::segments::SegmentsDoc::openapi());
    doc.merge(crate::routes::security::SecurityDoc::openapi());
    doc.merge(crate::routes::credentials::CredentialsDoc::openapi());
    doc.merge(crate::routes::platform::PlatformDoc::openapi());
    doc.merge(crate::routes::contact_merges::ContactMergesDoc::openapi());
    doc.merge(crate::routes::translation::TranslationDoc::openapi());
    doc.merge(crate::routes::access_tokens::AccessTokensDoc::openapi());
    add_common_errors(&mut doc);
    doc
}

/// Whether callers of `path` must be signed in (API token or session).
fn authenticated(path: &str) -> bool {
    path.starts_with("/api/v1/accounts/") || path.starts_with("/api/v1/profile") || path == "/api/v1/auth/logout"
}

/// Adds to every operation the errors any request can meet before (or
/// besides) what its handler documents: a body that is not JSON or too
/// large (400, 413), a path id that names nothing (404), bad parameters or
/// body fields (422), and, for signed-in routes, a missing or wrong
/// credential (401), a role that may not (403) and too many attempts
/// (429). Handlers list the errors particular to them; these are added
/// only where missing.
fn add_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let signed_in = authenticated(path);
        let has_path_params = path.contains('{');
        let ops = [item.get.as_mut(), item.post.as_mut(), item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut()];
        for op in ops.into_iter().flatten() {
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut wanted: Vec<(&str, &str)> = Vec::new();
            if has_body {
                wanted.push(("400", "The body is not valid JSON (or not the declared type)."));
                wanted.push(("413", "The body is larger than the server accepts."));
            }
            if has_body || has_params {
                wanted.push(("422", "A parameter or a field of the body is not acceptable; `field` names it."));
            }
            if has_path_params {
                wanted.push(("404", "Nothing with this id here (or in another account)."));
            }
            if signed_in {
                wanted.push(("401", "No valid API token or session."));
                wanted.push(("403", "The caller's role may not do this."));
                wanted.push(("429", "Too many requests or failed attempts; retry later."));
            }
            for (status, description) in wanted {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
            }
            // OpenAPI requires a description on every response.
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = response
                    && r.description.trim().is_empty()
                {
                    r.description = status_text(status).to_owned();
                }
            }
        }
    }
}

/// The standard reason phrase of a status, as a response's description.
fn status_text(status: &str) -> &'static str {
    status
        .parse::<u16>()
        .ok()
        .and_then(|c| axum::http::StatusCode::from_u16(c).ok())
        .and_then(|c| c.canonical_reason())
        .unwrap_or("Response")
}
