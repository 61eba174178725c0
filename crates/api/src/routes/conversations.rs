//! Conversations and messages.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use ferry_api_types::*;
use ferry_app::attachments::AttachmentError;
use ferry_app::{AppError, ConversationQuery, NewReply};
use ferry_core::conversation::Status;
use ferry_core::{AccountId, ConversationId, InboxId, MessageId, TeamId, UserId};
use ferry_storage::{AssigneeFilter, ConversationCursor, ConversationFilter};
use futures::StreamExt;
use serde::Deserialize;

/// Filters of the conversation list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationListQuery {
    /// `open`, `pending`, `snoozed`, `resolved`, `bot`; all when absent.
    pub status: Option<String>,
    /// An agent id, `me` or `unassigned`.
    pub assignee: Option<String>,
    /// Team id.
    pub team_id: Option<i64>,
    /// Inbox id.
    pub inbox_id: Option<i64>,
    /// Tag.
    pub tag: Option<String>,
    /// Language (`zh` also matches `zh-CN`).
    pub language: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<u32>,
}

fn encode_cursor(c: ConversationCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.last_activity_at.timestamp_micros(), c.id.0))
}

fn decode_cursor(s: &str) -> Result<ConversationCursor, ApiError> {
    let bad = || ApiError(AppError::invalid("cursor", "the cursor is not one this API gave out"));
    let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    let micros: i64 = t.parse().map_err(|_| bad())?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    Ok(ConversationCursor {
        last_activity_at: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        id: ConversationId(id),
    })
}

fn filter_of(a: &ferry_app::auth::Actor, q: &ConversationListQuery) -> Result<ConversationFilter, ApiError> {
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "all")
        .map(|s| s.parse::<Status>().map_err(|e| ApiError(AppError::invalid("status", e.to_string()))))
        .transpose()?;
    let assignee = match q.assignee.as_deref() {
        None | Some("") | Some("all") => AssigneeFilter::Any,
        Some("me") => AssigneeFilter::User(a.user.id),
        Some("unassigned") => AssigneeFilter::Unassigned,
        Some(n) => AssigneeFilter::User(UserId(
            n.parse().map_err(|_| ApiError(AppError::invalid("assignee", "use an agent id, `me` or `unassigned`")))?,
        )),
    };
    Ok(ConversationFilter {
        status,
        assignee,
        team_id: q.team_id.map(TeamId),
        inbox_id: q.inbox_id.map(InboxId),
        contact_id: None,
        tag: q.tag.as_deref().map(|t| ferry_core::contact::normalize_tag(t).unwrap_or_else(|| t.to_owned())),
        language: q.language.clone().filter(|l| !l.is_empty()),
    })
}

/// Lists conversations, most recent activity first, with cursor paging.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations", tag = "conversations",
    params(("account_id" = i64, Path), ConversationListQuery), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationList)))]
pub async fn list_conversations(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ConversationListQuery>,
) -> Result<Json<ConversationList>, ApiError> {
    let filter = filter_of(&a, &q)?;
    let after = q.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    let page =
        s.app.list_conversations(&a, AccountId(account), ConversationQuery { filter, after, limit: q.limit }).await?;
    Ok(Json(ConversationList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(encode_cursor),
    }))
}

/// Counts per status for the same filters (the status filter ignored).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/meta", tag = "conversations",
    params(("account_id" = i64, Path), ConversationListQuery), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationCounts)))]
pub async fn conversation_counts(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ConversationListQuery>,
) -> Result<Json<ConversationCounts>, ApiError> {
    let filter = filter_of(&a, &q)?;
    let counts = s.app.count_conversations(&a, AccountId(account), &filter).await?;
    let mut out = ConversationCounts::default();
    for (st, n) in counts {
        match st {
            Status::Open => out.open = n,
            Status::Pending => out.pending = n,
            Status::Snoozed => out.snoozed = n,
            Status::Resolved => out.resolved = n,
            Status::Bot => out.bot = n,
        }
        out.all += n;
    }
    Ok(Json(out))
}

/// One conversation.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}", tag = "conversations",
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(s.app.get_conversation(&a, AccountId(account), ConversationId(id)).await?.into()))
}

/// Paging of messages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    /// Messages older than this id.
    pub before: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

/// Messages of a conversation, oldest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages", tag = "conversations",
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path), MessageListQuery), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = [MessageView])))]
pub async fn list_messages(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<MessageListQuery>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let list =
        s.app.list_messages(&a, AccountId(account), ConversationId(id), q.before.map(MessageId), q.limit).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Sends a reply to the buyer, or adds a private note.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages", tag = "conversations", request_body = CreateMessage,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 201, body = MessageView),
        (status = 422, description = "Invalid, or refused by the compliance gate (`compliance_blocked`; `whatsapp_window_closed` for free text 24 hours after the buyer's last WhatsApp message: send a template)", body = ErrorBody)))]
pub async fn create_message(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<CreateMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let mut parts = req.parts;
    if let Some(t) = req.template {
        let input = ferry_app::whatsapp::TemplateInput {
            name: t.name,
            language: t.language,
            header: t.header,
            body: t.body,
            buttons: t.buttons,
        };
        let template = s.app.template_message(&a, AccountId(account), ConversationId(id), input).await?;
        parts.push(ferry_core::message::ContentPart::Template { template: Box::new(template) });
    }
    let written_as = match req.written_as {
        Some(w) => Some((ferry_app::translation::check_language("written_as.language", &w.language)?, w.text)),
        None => None,
    };
    let reply = NewReply { text: req.content, parts, private: req.private, email: req.email };
    let posted = s.app.reply(&a, AccountId(account), ConversationId(id), reply).await?;
    let mut message = posted.message;
    if let Some((language, text)) = written_as
        && let Some(m) = s.app.keep_written_as(AccountId(account), message.id, &language, &text).await?
    {
        message = m;
    }
    Ok((StatusCode::CREATED, Json(message.into())))
}

/// Sends the conversation by e-mail to someone outside (a supplier, a
/// carrier): the note, then the messages, oldest first. E-mail inboxes with
/// an outgoing server only.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/forward", tag = "conversations",
    request_body = ForwardConversation, params(("account_id" = i64, Path), ("conversation_id" = i64, Path)),
    responses((status = 201, body = MessageView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn forward_conversation(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<ForwardConversation>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let posted = s.app.forward_conversation(&a, AccountId(account), ConversationId(id), req).await?;
    Ok((StatusCode::CREATED, Json(posted.message.into())))
}

/// Assigns to an agent and/or a team.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments", tag = "conversations", request_body = AssignRequest,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationView)))]
pub async fn assign_conversation(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<AssignRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    let c = s
        .app
        .assign_conversation(
            &a,
            AccountId(account),
            ConversationId(id),
            req.assignee_id.map(|x| x.map(UserId)),
            req.team_id.map(|x| x.map(TeamId)),
        )
        .await?;
    Ok(Json(c.into()))
}

/// Changes the status: open, pending, snoozed (with `snoozed_until`),
/// resolved, or back to the bot.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/status", tag = "conversations", request_body = StatusRequest,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationView), (status = 409, body = ErrorBody)))]
pub async fn set_status(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<StatusRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(s.app.set_status(&a, AccountId(account), ConversationId(id), req.status, req.snoozed_until).await?.into()))
}

/// Changes the priority.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/priority", tag = "conversations", request_body = PriorityRequest,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationView)))]
pub async fn set_priority(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<PriorityRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(s.app.set_priority(&a, AccountId(account), ConversationId(id), req.priority).await?.into()))
}

/// The conversation's tags.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/tags", tag = "conversations",
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = TagsRequest)))]
pub async fn get_tags(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<TagsRequest>, ApiError> {
    let c = s.app.get_conversation(&a, AccountId(account), ConversationId(id)).await?;
    Ok(Json(TagsRequest { tags: c.tags }))
}

/// Replaces the conversation's tags.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/tags", tag = "conversations", request_body = TagsRequest,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ConversationView)))]
pub async fn set_tags(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<TagsRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(s.app.set_tags(&a, AccountId(account), ConversationId(id), &req.tags).await?.into()))
}

/// Query of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, shown to the buyer.
    pub filename: Option<String>,
}

/// How long an upload's body may stall.
const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Stores a file to attach to a message: the raw bytes as the body, their
/// type as `Content-Type`. The body is streamed to the attachment store; it
/// may be larger than the API's request body limit, up to the attachment
/// limit (25 MiB unless configured). Answers the attachment to put in a
/// message part.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/attachments", tag = "conversations",
    params(("account_id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses((status = 201, body = ferry_core::message::Attachment), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_attachment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<ferry_core::message::Attachment>), ApiError> {
    let limit = s.app.config.max_attachment_bytes;
    // A declared length over the limit is refused before reading anything.
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError(AppError::TooLarge(usize::try_from(limit).unwrap_or(usize::MAX))));
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // No overall deadline (a large file on a slow line may take minutes),
    // but a body that stalls is given up.
    let stream = futures::stream::unfold(Some(body.into_data_stream()), |body| async move {
        let mut body = body?;
        match tokio::time::timeout(UPLOAD_IDLE, body.next()).await {
            Ok(Some(chunk)) => Some((chunk.map_err(|e| AttachmentError::Input(e.to_string())), Some(body))),
            Ok(None) => None,
            Err(_) => Some((Err(AttachmentError::Input("no data arrived for 30 seconds".into())), None)),
        }
    })
    .boxed();
    let att = s.app.upload_attachment(&a, AccountId(account), stream, ct, q.filename.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(att)))
}

/// A stored attachment's bytes, streamed.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/attachments/{key}", tag = "conversations",
    params(("account_id" = i64, Path), ("key" = String, Path, description = "The key in the file's URL")),
    responses(
        (status = 200, description = "The file, with its stored content type", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_attachment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, key)): AppPath<(i64, String)>,
) -> Result<Response, ApiError> {
    a.in_account(AccountId(account))?;
    let found = s
        .app
        .attachments
        .open(AccountId(account), &key)
        .await
        .map_err(|e| AppError::internal("reading an attachment", e))?;
    let download = found.ok_or(AppError::NotFound("attachment"))?;
    Ok(crate::files::file_response(download).await?)
}
