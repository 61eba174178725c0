//! Inboxes, agents, teams and tags.

use crate::extract::{AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_api_types::*;
use ferry_app::{NewAgent, NewInboxInput};
use ferry_core::account::Role;
use ferry_core::{AccountId, InboxId, TeamId, UserId};
use ferry_storage::UserPatch;

/// The account's inboxes.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inboxes", tag = "inboxes",
    params(("account_id" = i64, Path)), responses((status = 200, body = [InboxView])))]
pub async fn list_inboxes(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<InboxView>>, ApiError> {
    let reveal = a.user.role.can_manage_inboxes();
    let list = s.app.list_inboxes(&a, AccountId(account)).await?;
    Ok(Json(list.into_iter().map(|i| InboxView::new(i, reveal)).collect()))
}

/// One inbox.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}", tag = "inboxes",
    params(("account_id" = i64, Path), ("inbox_id" = i64, Path)), responses((status = 200, body = InboxView), (status = 404, body = ErrorBody)))]
pub async fn get_inbox(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<InboxView>, ApiError> {
    let reveal = a.user.role.can_manage_inboxes();
    Ok(Json(InboxView::new(s.app.get_inbox(&a, AccountId(account), InboxId(id)).await?, reveal)))
}

/// Creates an inbox (owners and admins); the answer shows its webhook secret.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes", tag = "inboxes", request_body = CreateInbox,
    params(("account_id" = i64, Path)), responses((status = 201, body = InboxView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_inbox(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateInbox>,
) -> Result<(StatusCode, Json<InboxView>), ApiError> {
    let i = s
        .app
        .create_inbox(
            &a,
            AccountId(account),
            NewInboxInput { name: req.name, channel: req.channel, config: req.config },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(InboxView::new(i, true))))
}

/// Changes an inbox (owners and admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}", tag = "inboxes", request_body = UpdateInbox,
    params(("account_id" = i64, Path), ("inbox_id" = i64, Path)), responses((status = 200, body = InboxView), (status = 403, body = ErrorBody)))]
pub async fn update_inbox(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateInbox>,
) -> Result<Json<InboxView>, ApiError> {
    let i = s.app.update_inbox(&a, AccountId(account), InboxId(id), req.name, req.config).await?;
    Ok(Json(InboxView::new(i, true)))
}

/// Deletes an inbox and its conversations (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}", tag = "inboxes",
    params(("account_id" = i64, Path), ("inbox_id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_inbox(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_inbox(&a, AccountId(account), InboxId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tries an e-mail inbox's stored mail servers (owners and admins): IMAP
/// (connect, log in, open each folder) and SMTP (connect, log in). Each
/// part says whether it worked and, if not, exactly what failed; a part is
/// absent when that server is not set.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}/check", tag = "inboxes",
    params(("account_id" = i64, Path), ("inbox_id" = i64, Path)),
    responses((status = 200, body = ConnectionCheckView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "Not an inbox with a connection to check, or its settings are not valid", body = ErrorBody)))]
pub async fn check_inbox_connection(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<ConnectionCheckView>, ApiError> {
    let inbox = s.app.get_inbox(&a, AccountId(account), InboxId(id)).await?;
    if inbox.channel == ferry_core::inbox::ChannelKind::Whatsapp {
        a.can_manage_inboxes()?;
        let c = s.app.check_whatsapp(&inbox).await?;
        let (ok, error, phone) = match c.phone {
            Ok(p) => (true, None, Some(p)),
            Err(e) => (false, Some(e), None),
        };
        return Ok(Json(ConnectionCheckView {
            imap: None,
            smtp: None,
            whatsapp: Some(WhatsAppCheckView {
                ok,
                error,
                display_phone_number: phone.as_ref().map(|p| p.display_phone_number.clone()),
                verified_name: phone.as_ref().and_then(|p| p.verified_name.clone()),
                quality_rating: phone.and_then(|p| p.quality_rating),
                templates: c.templates,
            }),
            telegram: None,
            sms: None,
            meta: None,
        }));
    }
    if inbox.channel == ferry_core::inbox::ChannelKind::Telegram {
        a.can_manage_inboxes()?;
        let c = s.app.check_telegram(&inbox).await?;
        let error = c.bot.as_ref().err().or(c.webhook.as_ref().err()).cloned();
        return Ok(Json(ConnectionCheckView {
            imap: None,
            smtp: None,
            whatsapp: None,
            telegram: Some(TelegramCheckView {
                ok: error.is_none(),
                error,
                username: c.bot.ok().and_then(|b| b.username),
                webhook_url: c.webhook.ok(),
            }),
            sms: None,
            meta: None,
        }));
    }
    if matches!(inbox.channel, ferry_core::inbox::ChannelKind::Messenger | ferry_core::inbox::ChannelKind::Instagram) {
        a.can_manage_inboxes()?;
        let c = s.app.check_meta(&inbox).await?;
        let error = c.page.as_ref().err().or(c.subscribed.as_ref().err()).cloned();
        return Ok(Json(ConnectionCheckView {
            imap: None,
            smtp: None,
            whatsapp: None,
            telegram: None,
            sms: None,
            meta: Some(MetaCheckView {
                ok: error.is_none(),
                error,
                name: c.page.ok(),
                webhook_url: c.webhook_url,
                subscribed: c.subscribed.is_ok(),
            }),
        }));
    }
    if inbox.channel == ferry_core::inbox::ChannelKind::Sms {
        a.can_manage_inboxes()?;
        let c = s.app.check_sms(&inbox).await?;
        return Ok(Json(ConnectionCheckView {
            imap: None,
            smtp: None,
            whatsapp: None,
            telegram: None,
            sms: Some(SmsCheckView {
                ok: c.account.is_ok(),
                error: c.account.as_ref().err().cloned(),
                account_name: c.account.ok(),
                webhook_url: c.webhook_url,
            }),
            meta: None,
        }));
    }
    let c = s.app.check_inbox_connection(&a, AccountId(account), InboxId(id)).await?;
    Ok(Json(ConnectionCheckView {
        imap: c.imap.map(|r| match r {
            Ok(i) => ImapCheckView { ok: true, error: None, idle: Some(i.idle), messages: Some(i.messages) },
            Err(e) => ImapCheckView { ok: false, error: Some(e.to_string()), idle: None, messages: None },
        }),
        smtp: c.smtp.map(|r| SmtpCheckView { ok: r.is_ok(), error: r.err().map(|e| e.to_string()) }),
        whatsapp: None,
        telegram: None,
        sms: None,
        meta: None,
    }))
}

/// The account's agents.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/agents", tag = "agents",
    params(("account_id" = i64, Path)), responses((status = 200, body = [AgentView])))]
pub async fn list_agents(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    Ok(Json(s.app.list_agents(&a, AccountId(account)).await?.into_iter().map(Into::into).collect()))
}

/// Adds an agent (owners and admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/agents", tag = "agents", request_body = CreateAgent,
    params(("account_id" = i64, Path)), responses((status = 201, body = AgentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_agent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateAgent>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    let new = NewAgent {
        name: req.name,
        email: req.email,
        password: req.password,
        role: req.role.unwrap_or(Role::Agent),
        languages: req.languages,
    };
    Ok((StatusCode::CREATED, Json(s.app.create_agent(&a, AccountId(account), new).await?.into())))
}

/// Changes an agent.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/agents/{user_id}", tag = "agents", request_body = UpdateAgent,
    params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = AgentView), (status = 403, body = ErrorBody),
        (status = 409, description = "The e-mail is taken, or the change would leave the account without an owner", body = ErrorBody)))]
pub async fn update_agent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateAgent>,
) -> Result<Json<AgentView>, ApiError> {
    let patch = UserPatch { name: req.name, role: req.role, languages: req.languages, password_hash: None };
    Ok(Json(s.app.update_agent(&a, AccountId(account), UserId(id), patch).await?.into()))
}

/// Removes an agent (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/agents/{user_id}", tag = "agents",
    params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody),
        (status = 409, description = "The account's last owner cannot be removed", body = ErrorBody)))]
pub async fn delete_agent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_agent(&a, AccountId(account), UserId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's teams.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/teams", tag = "teams",
    params(("account_id" = i64, Path)), responses((status = 200, body = [TeamView])))]
pub async fn list_teams(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    Ok(Json(s.app.list_teams(&a, AccountId(account)).await?.into_iter().map(Into::into).collect()))
}

/// Creates a team (owners and admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/teams", tag = "teams", request_body = CreateTeam,
    params(("account_id" = i64, Path)),
    responses((status = 201, body = TeamView), (status = 403, body = ErrorBody), (status = 409, description = "A team has this name", body = ErrorBody)))]
pub async fn create_team(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateTeam>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_team(&a, AccountId(account), &req.name, &req.description).await?.into()),
    ))
}

/// Replaces a team's members (owners and admins).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/teams/{team_id}/members", tag = "teams", request_body = TeamMembers,
    params(("account_id" = i64, Path), ("team_id" = i64, Path)),
    responses((status = 200, body = TeamView), (status = 409, description = "A member is not an agent of the account", body = ErrorBody)))]
pub async fn set_team_members(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<TeamMembers>,
) -> Result<Json<TeamView>, ApiError> {
    let members: Vec<UserId> = req.user_ids.into_iter().map(UserId).collect();
    Ok(Json(s.app.set_team_members(&a, AccountId(account), TeamId(id), &members).await?.into()))
}

/// Deletes a team (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/teams/{team_id}", tag = "teams",
    params(("account_id" = i64, Path), ("team_id" = i64, Path)), responses((status = 204)))]
pub async fn delete_team(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_team(&a, AccountId(account), TeamId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/tags", tag = "conversations",
    params(("account_id" = i64, Path)), responses((status = 200, body = [TagView])))]
pub async fn list_tags(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<TagView>>, ApiError> {
    let tags = s.app.list_tags(&a, AccountId(account)).await?;
    Ok(Json(tags.into_iter().map(|t| TagView { tag: t.tag, conversations: t.conversations }).collect()))
}
