//! The web-chat channel's public endpoints under `/widget/{inbox_id}/…`
//! (any shop origin may call them), the visitor's WebSocket, the agents'
//! live socket for typing and presence, and a demo shop page.
//!
//! Visitors authenticate with the token `POST /widget/{inbox}/sessions`
//! gave them (header `x-visitor-token`, or `token=` on sockets and file
//! links). The visitor socket pushes only that visitor's messages and
//! replies (never notes or activity lines) and agents' typing. Typing and
//! presence are ephemeral: they go through the node's signal hub (and to
//! the other nodes when scaled out) and are never stored.

use crate::extract::{AppJson, AppPath, AppQuery, AppWs, Auth, ClientAddr};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket};
use axum::http::HeaderValue;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::{ErrorBody, WidgetStockRequest, WidgetStockView};
use ferry_app::AppError;
use ferry_app::signals::SignalBody;
use ferry_app::widget::{AgentCommand, Visitor, VisitorCommand, VisitorMessage, visible_to_visitor};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::message::{ContentPart, Message, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, InboxId};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use utoipa::ToSchema;

/// Who is typing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Typist {
    /// The buyer.
    Contact {
        /// Their contact id.
        id: i64,
    },
    /// An agent.
    Agent {
        /// Their user id.
        id: i64,
        /// Their name, shown to the buyer.
        name: String,
    },
}

/// A typing signal, pushed to agents (`/api/v1/accounts/{id}/live`) and to
/// the visitor of the conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TypingEvent {
    /// The conversation.
    pub conversation_id: i64,
    /// Who.
    pub who: Typist,
    /// Started (true) or stopped (false).
    pub typing: bool,
}

/// A typing signal of an account, as the sockets receive it.
fn typing_of(sig: &ferry_app::signals::Signal) -> Option<(AccountId, TypingEvent)> {
    match &sig.body {
        SignalBody::Typing(v) => serde_json::from_value(v.clone()).ok().map(|e| (sig.account, e)),
        SignalBody::Presence { .. } => None,
    }
}

fn send_typing(s: &ApiState, account: AccountId, event: &TypingEvent) {
    if let Ok(v) = serde_json::to_value(event) {
        s.app.signals.typing(account, v);
    }
}

/// The widget's settings as the buyer's browser sees them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WidgetConfig {
    /// The inbox.
    pub inbox_id: i64,
    /// The shop's name for this chat.
    pub name: String,
    /// Greeting shown above the conversation.
    pub greeting: Option<String>,
    /// Office hours in words (`office_hours` in the inbox settings).
    pub office_hours: Option<String>,
    /// Accent colour (`color` in the inbox settings).
    pub color: Option<String>,
    /// Whether an agent has the console open now.
    pub agents_online: bool,
}

/// `POST /widget/{inbox}/sessions`: resume with a token, or start.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SessionRequest {
    /// A token from an earlier session.
    #[serde(default)]
    pub token: Option<String>,
}

/// A visitor session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Keep this (e.g. in localStorage) and send it as `x-visitor-token`.
    pub token: String,
    /// Whether the visitor already left an e-mail.
    pub has_email: bool,
}

/// A message as the visitor sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitorMessageView {
    /// Id.
    pub id: i64,
    /// `incoming` (from the visitor) or `outgoing` (to the visitor).
    pub kind: MessageKind,
    /// Content; file URLs point to `/widget/{inbox}/attachments/{key}`.
    pub parts: Vec<ContentPart>,
    /// All text.
    pub text: String,
    /// The client id the visitor gave it.
    pub client_id: Option<String>,
    /// Author: `agent`, `bot` or `visitor`.
    pub author: String,
    /// Stored.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn visitor_view(inbox: InboxId, m: Message) -> VisitorMessageView {
    let text = m.text();
    let client_id = m
        .external_id
        .as_deref()
        .filter(|_| m.kind == MessageKind::Incoming)
        .and_then(|e| e.strip_prefix("web:"))
        .and_then(|e| e.split_once(':'))
        .map(|(_, id)| id.to_owned());
    let author = match m.sender {
        Sender::Contact(_) => "visitor",
        Sender::Bot => "bot",
        Sender::User(_) | Sender::System => "agent",
    };
    let rewrite = |mut a: ferry_core::message::Attachment| {
        if let Some(key) = a.url.strip_prefix("/api/v1/accounts/").and_then(|r| r.split_once("/attachments/")) {
            a.url = format!("/widget/{inbox}/attachments/{}", key.1);
        }
        a
    };
    let parts = m
        .parts
        .into_iter()
        .map(|p| match p {
            ContentPart::Image { attachment } => ContentPart::Image { attachment: rewrite(attachment) },
            ContentPart::File { attachment } => ContentPart::File { attachment: rewrite(attachment) },
            ContentPart::Audio { attachment } => ContentPart::Audio { attachment: rewrite(attachment) },
            other => other,
        })
        .collect();
    VisitorMessageView {
        id: m.id.0,
        kind: m.kind,
        parts,
        text,
        client_id,
        author: author.into(),
        created_at: m.created_at,
    }
}

/// `POST /widget/{inbox}/messages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitorPost {
    /// The client's id; resending with the same id stores nothing twice.
    pub client_id: String,
    /// Text.
    pub text: String,
    /// Name the visitor gave.
    #[serde(default)]
    pub name: Option<String>,
    /// Browser language.
    #[serde(default)]
    pub language: Option<String>,
}

/// `POST /widget/{inbox}/email`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeaveEmail {
    /// Where agents can answer.
    pub email: String,
}

/// Documents the widget's endpoints and types.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        config,
        session,
        list_messages,
        post_message,
        upload,
        attachment,
        leave_email,
        stock_request,
        visitor_socket,
        demo_shop,
        agent_live
    ),
    components(schemas(
        WidgetConfig,
        SessionRequest,
        SessionView,
        VisitorMessageView,
        VisitorPost,
        LeaveEmail,
        TypingEvent,
        Typist
    ))
)]
pub struct WidgetDoc;

fn token_of(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get("x-visitor-token")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError(AppError::Unauthorized("send the visitor token as x-visitor-token")))
}

/// The widget's settings and whether an agent is online.
#[utoipa::path(get, path = "/widget/{inbox_id}/config", tag = "widget", security(()),
    params(("inbox_id" = i64, Path)),
    responses((status = 200, body = WidgetConfig), (status = 403, description = "The calling page's origin is not allowed", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn config(State(s): State<ApiState>, AppPath(inbox): AppPath<i64>) -> Result<Json<WidgetConfig>, ApiError> {
    let i = s.app.widget_inbox(InboxId(inbox)).await?;
    let text = |k: &str| i.config.extra.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Json(WidgetConfig {
        inbox_id: i.id.0,
        office_hours: text("office_hours"),
        color: text("color"),
        name: i.name.clone(),
        greeting: i.config.greeting.clone(),
        agents_online: s.app.signals.agents_online(i.account_id) > 0,
    }))
}

/// Starts a visitor session, or confirms the one the token names.
#[utoipa::path(post, path = "/widget/{inbox_id}/sessions", tag = "widget", security(()),
    params(("inbox_id" = i64, Path)), request_body = SessionRequest,
    responses((status = 200, body = SessionView), (status = 403, description = "The calling page's origin is not allowed", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, description = "Too many new sessions from this address", body = ErrorBody)))]
async fn session(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    ClientAddr(address): ClientAddr,
    AppJson(req): AppJson<SessionRequest>,
) -> Result<Json<SessionView>, ApiError> {
    if let Some(t) = req.token.as_deref()
        && let Ok(v) = s.app.visitor(InboxId(inbox), t).await
    {
        let has_email = v.contact.as_ref().is_some_and(|c| c.email.is_some());
        return Ok(Json(SessionView { token: t.trim().to_owned(), has_email }));
    }
    let token = s.app.start_visitor(InboxId(inbox), address).await?;
    Ok(Json(SessionView { token, has_email: false }))
}

/// The visitor's messages and the replies to them, oldest first.
#[utoipa::path(get, path = "/widget/{inbox_id}/messages", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), ("x-visitor-token" = String, Header, description = "The token `POST /widget/{inbox_id}/sessions` gave")),
    responses((status = 200, body = [VisitorMessageView]), (status = 401, description = "No valid visitor token", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_messages(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    headers: HeaderMap,
) -> Result<Json<Vec<VisitorMessageView>>, ApiError> {
    let v = s.app.visitor(InboxId(inbox), token_of(&headers)?).await?;
    let list = s.app.visitor_messages(&v).await?;
    Ok(Json(list.into_iter().map(|m| visitor_view(v.inbox.id, m)).collect()))
}

/// Sends the visitor's message; a resend with the same `client_id` answers
/// 200 with the stored one.
#[utoipa::path(post, path = "/widget/{inbox_id}/messages", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), ("x-visitor-token" = String, Header, description = "The token `POST /widget/{inbox_id}/sessions` gave")), request_body = VisitorPost,
    responses((status = 201, body = VisitorMessageView), (status = 200, description = "Sent before with this client id", body = VisitorMessageView),
        (status = 401, description = "No valid visitor token", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many messages from this visitor or address", body = ErrorBody)))]
async fn post_message(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    AppJson(req): AppJson<VisitorPost>,
) -> Result<(StatusCode, Json<VisitorMessageView>), ApiError> {
    let v = s.app.visitor(InboxId(inbox), token_of(&headers)?).await?;
    s.app.visitor_may_send(&v, address)?;
    let m = VisitorMessage {
        client_id: req.client_id,
        text: Some(req.text),
        parts: Vec::new(),
        name: req.name,
        language: req.language,
    };
    let out = s.app.visitor_post(&v, m).await?;
    if let Some(a) = address {
        s.app.limits.remember_address(out.conversation.contact_id, a);
    }
    let status = if out.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(visitor_view(v.inbox.id, out.message))))
}

/// Query of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    client_id: String,
    #[serde(default)]
    filename: Option<String>,
}

/// Sends a file as the visitor's message (the body is the file).
#[utoipa::path(post, path = "/widget/{inbox_id}/attachments", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), UploadQuery, ("x-visitor-token" = String, Header, description = "The token `POST /widget/{inbox_id}/sessions` gave")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes; its type in Content-Type"),
    responses((status = 201, body = VisitorMessageView), (status = 401, description = "No valid visitor token", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "Too many messages from this visitor or address", body = ErrorBody)))]
async fn upload(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    AppQuery(q): AppQuery<UploadQuery>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<VisitorMessageView>), ApiError> {
    let v = s.app.visitor(InboxId(inbox), token_of(&headers)?).await?;
    s.app.visitor_may_send(&v, address)?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream");
    let out = s.app.visitor_upload(&v, &q.client_id, body.to_vec(), ct, q.filename).await?;
    Ok((StatusCode::CREATED, Json(visitor_view(v.inbox.id, out.message))))
}

/// Query carrying the token where headers cannot (links, sockets).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    token: String,
}

/// A file of the visitor's conversation.
#[utoipa::path(get, path = "/widget/{inbox_id}/attachments/{key}", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), ("key" = String, Path), TokenQuery),
    responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 401, description = "No valid visitor token", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn attachment(
    State(s): State<ApiState>,
    AppPath((inbox, key)): AppPath<(i64, String)>,
    AppQuery(q): AppQuery<TokenQuery>,
) -> Result<Response, ApiError> {
    let v = s.app.visitor(InboxId(inbox), &q.token).await?;
    if !s.app.visitor_owns_attachment(&v, &key).await? {
        return Err(ApiError(AppError::NotFound("attachment")));
    }
    let found = s
        .app
        .attachments
        .open(v.inbox.account_id, &key)
        .await
        .map_err(|e| AppError::internal("reading an attachment", e))?;
    let download = found.ok_or(AppError::NotFound("attachment"))?;
    Ok(crate::files::file_response(download).await?)
}

/// The visitor leaves an e-mail address where agents can answer.
#[utoipa::path(post, path = "/widget/{inbox_id}/email", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), ("x-visitor-token" = String, Header, description = "The token `POST /widget/{inbox_id}/sessions` gave")), request_body = LeaveEmail,
    responses((status = 204, description = "Kept"), (status = 401, description = "No valid visitor token", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn leave_email(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    headers: HeaderMap,
    AppJson(req): AppJson<LeaveEmail>,
) -> Result<StatusCode, ApiError> {
    let v = s.app.visitor(InboxId(inbox), token_of(&headers)?).await?;
    s.app.visitor_leave_email(&v, &req.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The visitor asks to hear when a variant is back in stock ("notify me"
/// on a product page): as the buyer they are in the chat, or by an e-mail
/// before they have written.
#[utoipa::path(post, path = "/widget/{inbox_id}/stock-subscriptions", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), ("x-visitor-token" = String, Header, description = "The token `POST /widget/{inbox_id}/sessions` gave")),
    request_body = WidgetStockRequest,
    responses((status = 201, body = WidgetStockView), (status = 401, description = "No valid visitor token", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn stock_request(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    headers: HeaderMap,
    AppJson(req): AppJson<WidgetStockRequest>,
) -> Result<(StatusCode, Json<WidgetStockView>), ApiError> {
    let v = s.app.visitor(InboxId(inbox), token_of(&headers)?).await?;
    let out = s.app.visitor_subscribe_stock(&v, &req.sku, req.email.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(WidgetStockView { title: out.title })))
}

/// The visitor's socket: their messages, replies and agents' typing.
#[utoipa::path(get, path = "/widget/{inbox_id}/ws", tag = "widget", security(()),
    params(("inbox_id" = i64, Path), TokenQuery),
    responses((status = 101, description = "Switched to the WebSocket"), (status = 400, description = "Not a WebSocket upgrade", body = ErrorBody),
        (status = 401, description = "No valid visitor token", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn visitor_socket(
    State(s): State<ApiState>,
    AppPath(inbox): AppPath<i64>,
    AppQuery(q): AppQuery<TokenQuery>,
    AppWs(ws): AppWs,
) -> Result<Response, ApiError> {
    let v = s.app.visitor(InboxId(inbox), &q.token).await?;
    // Subscribe before the upgrade so nothing committed after it is missed.
    let events = s.app.bus.subscribe();
    let typing = s.app.signals.subscribe();
    Ok(ws.on_upgrade(move |socket| visitor_pump(socket, s, v, events, typing)))
}

/// Which conversations belong to the visitor, learnt as events arrive.
struct Ownership {
    mine: HashSet<ConversationId>,
    others: HashSet<ConversationId>,
}

impl Ownership {
    async fn owns(&mut self, s: &ApiState, v: &mut Visitor, m: &Message) -> bool {
        if m.inbox_id != v.inbox.id {
            return false;
        }
        if self.mine.contains(&m.conversation_id) {
            return true;
        }
        if self.others.contains(&m.conversation_id) {
            return false;
        }
        if v.contact.is_none()
            && let Ok(Some(found)) = refresh_contact(s, v).await
        {
            v.contact = Some(found);
        }
        let Some(contact) = v.contact.as_ref().map(|c| c.id) else { return false };
        match s.app.conversation_contact(v.inbox.account_id, m.conversation_id).await {
            Ok(Some(owner)) if owner == contact => {
                self.mine.insert(m.conversation_id);
                true
            }
            Ok(_) => {
                self.others.insert(m.conversation_id);
                false
            }
            Err(_) => false,
        }
    }
}

async fn refresh_contact(s: &ApiState, v: &Visitor) -> Result<Option<ferry_core::contact::Contact>, AppError> {
    Ok(s.app.visitor_by_hash(v.inbox.id, &v.hash).await?.contact)
}

async fn visitor_pump(
    mut socket: WebSocket,
    s: ApiState,
    mut v: Visitor,
    mut events: broadcast::Receiver<Arc<EventEnvelope>>,
    mut typing: broadcast::Receiver<Arc<ferry_app::signals::Signal>>,
) {
    let _live = crate::monitoring::LiveSocket::open("widget_visitor");
    let mut own = Ownership { mine: HashSet::new(), others: HashSet::new() };
    if let Ok(list) = s.app.visitor_conversations(&v).await {
        own.mine.extend(list.iter().map(|c| c.id));
    }
    if socket.send(WsMessage::Text(r#"{"event":"ready"}"#.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(e) if e.account_id == v.inbox.account_id => {
                    let (name, m) = match &e.event {
                        Event::MessageCreated { message } | Event::MessageReceived { message, .. } => {
                            ("message_created", message)
                        }
                        Event::MessageUpdated { message } => ("message_updated", message),
                        _ => continue,
                    };
                    if !visible_to_visitor(m) || !own.owns(&s, &mut v, m).await {
                        continue;
                    }
                    let frame = serde_json::json!({ "event": name, "data": visitor_view(v.inbox.id, m.clone()) });
                    if socket.send(WsMessage::Text(frame.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if socket.send(WsMessage::Text(r#"{"event":"resync"}"#.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            sig = typing.recv() => match sig.as_deref().ok().and_then(typing_of) {
                Some((account, event)) if account == v.inbox.account_id
                    && matches!(event.who, Typist::Agent { .. })
                    && own.mine.contains(&ConversationId(event.conversation_id)) => {
                    let frame = serde_json::json!({ "event": "typing", "data": event });
                    if socket.send(WsMessage::Text(frame.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Some(_) => {}
                None if matches!(sig, Err(RecvError::Closed)) => return,
                None => {}
            },
            msg = socket.recv() => match msg {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(WsMessage::Text(t))) => {
                    match VisitorCommand::parse(t.as_str()) {
                        Some(VisitorCommand::Ping)
                            if socket.send(WsMessage::Text(r#"{"event":"pong"}"#.into())).await.is_err() =>
                        {
                            return;
                        }
                        Some(VisitorCommand::Typing { typing: on }) => {
                            if v.contact.is_none()
                                && let Ok(Some(found)) = refresh_contact(&s, &v).await
                            {
                                v.contact = Some(found);
                            }
                            let Some(contact) = v.contact.as_ref().map(|c| c.id) else { continue };
                            let Ok(list) = s.app.visitor_conversations(&v).await else { continue };
                            let Some(conv) = list.first() else { continue };
                            own.mine.insert(conv.id);
                            send_typing(&s, v.inbox.account_id, &TypingEvent {
                                conversation_id: conv.id.0,
                                who: Typist::Contact { id: contact.0 },
                                typing: on,
                            });
                        }
                        _ => {}
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// The account's live updates for an agent's console, as a WebSocket
/// (the same events as `/ws`, for one account).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/live", tag = "conversations",
    params(("account_id" = i64, Path)),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, body = ferry_api_types::ErrorBody), (status = 401, body = ferry_api_types::ErrorBody),
        (status = 403, body = ferry_api_types::ErrorBody), (status = 404, body = ferry_api_types::ErrorBody)))]
pub async fn agent_live(
    State(s): State<ApiState>,
    Auth(actor): Auth,
    AppPath(account): AppPath<i64>,
    ws: Result<axum::extract::ws::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // Another account's socket is not found, upgrade or not.
    actor.in_account(AccountId(account))?;
    let ws = ws.map_err(|e| ApiError::malformed(e.body_text()))?;
    let typing = s.app.signals.subscribe();
    Ok(ws.on_upgrade(move |socket| agent_pump(socket, s, actor, typing)))
}

async fn agent_pump(
    mut socket: WebSocket,
    s: ApiState,
    actor: ferry_app::auth::Actor,
    mut typing: broadcast::Receiver<Arc<ferry_app::signals::Signal>>,
) {
    let _live = crate::monitoring::LiveSocket::open("widget_agent");
    let account = actor.account();
    s.app.signals.agent_joined(account);
    let me = Typist::Agent { id: actor.user.id.0, name: actor.user.name.clone() };
    if socket.send(WsMessage::Text(r#"{"event":"ready"}"#.into())).await.is_ok() {
        loop {
            tokio::select! {
                sig = typing.recv() => match sig.as_deref().ok().and_then(typing_of) {
                    Some((acc, event)) if acc == account && event.who != me => {
                        let frame = serde_json::json!({ "event": "typing", "data": event });
                        if socket.send(WsMessage::Text(frame.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                    Some(_) => {}
                    None if matches!(sig, Err(RecvError::Closed)) => break,
                    None => {}
                },
                msg = socket.recv() => match msg {
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(WsMessage::Text(t))) => {
                        if let Some(AgentCommand::Typing { conversation_id: conv, typing: on }) =
                            AgentCommand::parse(t.as_str())
                        {
                            let event = TypingEvent { conversation_id: conv, who: me.clone(), typing: on };
                            send_typing(&s, account, &event);
                        }
                    }
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    s.app.signals.agent_left(account);
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A demo shop page with the widget on it.
#[utoipa::path(get, path = "/widget/{inbox_id}/demo", tag = "widget", security(()),
    params(("inbox_id" = i64, Path)),
    responses((status = 200, description = "The page", body = String, content_type = "text/html"), (status = 404, body = ErrorBody)))]
async fn demo_shop(State(s): State<ApiState>, AppPath(inbox): AppPath<i64>) -> Result<Response, ApiError> {
    let i = s.app.widget_inbox(InboxId(inbox)).await?;
    let name = escape(&i.name);
    // The products the shop's orders are made of, so a visitor asking about
    // an order sees what was bought.
    const COLOURS: [&str; 6] = ["#93c5fd", "#fca5a5", "#fde68a", "#a7f3d0", "#c4b5fd", "#fdba74"];
    let catalogue = s.app.widget_catalogue(&i).await?;
    let cards: String = catalogue
        .iter()
        .enumerate()
        .map(|(n, (title, price))| {
            format!(
                r#"<div class="card"><div class="img" style="background:{}"></div><div>{}</div><div class="price">${}</div></div>"#,
                COLOURS[n % COLOURS.len()],
                escape(title),
                escape(price)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let cards =
        if cards.is_empty() { "<p>No products yet: connect a shop to show them here.</p>".to_owned() } else { cards };
    let mut resp = Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{name} · demo shop</title>
<style>
body{{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2937;background:#fafaf9}}
header{{background:#0f766e;color:#fff;padding:1rem 2rem;font-weight:600;font-size:1.25rem}}
main{{max-width:60rem;margin:2rem auto;padding:0 1rem;display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1.5rem}}
.card{{background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002;padding:1rem}}
.img{{height:9rem;border-radius:8px;margin-bottom:.75rem}}
.price{{color:#0f766e;font-weight:600}}
</style></head>
<body><header>{name}</header>
<main>
{cards}
</main>
<script src="/widget.js" data-ferry-inbox="{id}" async></script>
</body></html>"#,
        id = i.id.0
    ))
    .into_response();
    crate::security::page_headers(resp.headers_mut(), crate::security::Page::Widget);
    Ok(resp)
}

/// The inbox of a `/widget/{inbox_id}/…` path.
fn inbox_of(path: &str) -> Option<i64> {
    path.strip_prefix("/widget/").and_then(|r| r.split('/').next()?.parse::<i64>().ok())
}

/// Refuses widget calls from pages the inbox does not allow
/// (`allowed_origins` in its settings). Browsers name the page in `Origin`
/// on cross-origin calls and sockets; Ferry's own pages (the demo shop) are
/// always allowed.
async fn allowed_page(
    State(s): State<ApiState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response, ApiError> {
    let inbox = inbox_of(req.uri().path());
    if let (Some(inbox), Some(origin)) = (inbox, req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()))
        && !crate::extract::own_origin(req.headers(), &s.app.config.public_url)
    {
        let i = s.app.widget_inbox(InboxId(inbox)).await?;
        if !i.config.allows_origin(origin) {
            return Err(ApiError(AppError::Forbidden("this site may not use the chat of this shop")));
        }
    }
    Ok(next.run(req).await)
}

/// The widget's routes and the agents' live socket.
pub fn routes(state: ApiState) -> Router<ApiState> {
    // Cross-origin calls only from the pages the inbox allows: the answer
    // (preflight included) names the page's origin, or carries no CORS
    // headers at all.
    let app = state.app.clone();
    let origins = AllowOrigin::async_predicate(move |origin: HeaderValue, parts: &axum::http::request::Parts| {
        let inbox = inbox_of(parts.uri.path());
        let app = app.clone();
        async move {
            let (Some(inbox), Ok(origin)) = (inbox, origin.to_str()) else { return false };
            match app.widget_inbox(InboxId(inbox)).await {
                Ok(i) => i.config.allows_origin(origin),
                Err(_) => false,
            }
        }
    });
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(Any)
        .max_age(std::time::Duration::from_secs(3600));
    let public = Router::new()
        .route("/widget/{inbox_id}/config", get(config))
        .route("/widget/{inbox_id}/sessions", post(session))
        .route("/widget/{inbox_id}/messages", get(list_messages).post(post_message))
        .route("/widget/{inbox_id}/attachments", post(upload))
        .route("/widget/{inbox_id}/attachments/{key}", get(attachment))
        .route("/widget/{inbox_id}/email", post(leave_email))
        .route("/widget/{inbox_id}/stock-subscriptions", post(stock_request))
        .route("/widget/{inbox_id}/csat/{token}", post(crate::routes::csat::widget_answer))
        .route("/widget/{inbox_id}/ws", get(visitor_socket))
        .layer(axum::middleware::from_fn_with_state(state, allowed_page))
        .layer(cors)
        .layer(axum::extract::DefaultBodyLimit::max(ferry_app::widget::MAX_UPLOAD + 1024));
    Router::new()
        .merge(public)
        .route("/widget/{inbox_id}/demo", get(demo_shop))
        .route("/api/v1/accounts/{account_id}/live", get(agent_live))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Writes the OpenAPI document the console's TypeScript types are
    /// generated from (`web/src/api/openapi.json`), so they follow the Rust
    /// types on every `cargo test`.
    #[test]
    fn web_types_follow_the_rust_types() {
        let doc = crate::openapi::document();
        let json = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        for name in ["ConversationView", "MessageView", "WidgetConfig", "VisitorMessageView", "SearchResults"] {
            assert!(json.contains(&format!("\"{name}\"")), "{name} is missing from the document");
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/src/api/openapi.json");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(json.as_str()) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, json).unwrap();
        }
    }

    #[test]
    fn visitors_see_their_file_links_and_client_ids() {
        use ferry_core::message::Attachment;
        let m = Message {
            id: ferry_core::MessageId(7),
            account_id: AccountId(1),
            conversation_id: ConversationId(3),
            inbox_id: InboxId(2),
            kind: MessageKind::Incoming,
            sender: Sender::Contact(ferry_core::ContactId(4)),
            parts: vec![ContentPart::Image {
                attachment: Attachment {
                    url: "/api/v1/accounts/1/attachments/abc".into(),
                    content_type: "image/png".into(),
                    filename: None,
                    size: None,
                },
            }],
            external_id: Some("web:0123456789abcdef:c-1".into()),
            delivery: None,
            sent_at: chrono::Utc::now(),
            created_at: chrono::Utc::now(),
            meta: Default::default(),
        };
        let v = visitor_view(InboxId(2), m);
        assert_eq!(v.client_id.as_deref(), Some("c-1"));
        assert_eq!(v.author, "visitor");
        match &v.parts[0] {
            ContentPart::Image { attachment } => assert_eq!(attachment.url, "/widget/2/attachments/abc"),
            other => panic!("unexpected part {other:?}"),
        }
    }
}
