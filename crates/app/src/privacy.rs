//! Roles and privacy: an account's custom roles and who holds them, the
//! on-demand reveal of a masked contact, a buyer's data export and
//! erasure, and the account's retention sweep. Every change here is
//! audited.

use crate::attachments::key_of_url;
use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::Duration;
use ferry_core::account::{CustomRole, CustomRoleId, Permission, Role, check_refund_limit, check_role_name};
use ferry_core::contact::Contact;
use ferry_core::message::Message;
use ferry_core::{AccountId, ContactId, UserId};
use ferry_jobs::JobKind;
use ferry_storage::{
    AuditOutcome, AuditQuery, ConversationFilter, CustomRolePatch, Erasure, NewAuditEntry, NewCustomRole, OrderQuery,
    Retention, StorageError,
};
use serde_json::{Value, json};
use std::io::Write;

/// A custom role as asked for.
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    /// Its name.
    pub name: String,
    /// What it may do.
    pub permissions: Vec<Permission>,
    /// The largest refund in minor units (`None`: no limit).
    pub refund_limit_minor: Option<i64>,
}

/// Changes to a custom role; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct RoleChange {
    /// New name.
    pub name: Option<String>,
    /// New permissions.
    pub permissions: Option<Vec<Permission>>,
    /// New refund limit (`Some(None)`: no limit).
    pub refund_limit_minor: Option<Option<i64>>,
}

/// What one retention pass removed in all accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionSummary {
    /// Accounts swept.
    pub accounts: u64,
    /// Conversations deleted.
    pub conversations: u64,
    /// Messages whose attachments were removed.
    pub messages: u64,
    /// Stored files deleted.
    pub files: u64,
}

/// Longest retention, in days (100 years).
const MAX_DAYS: u32 = 36_500;

fn roles_error(e: StorageError) -> AppError {
    match e {
        StorageError::NotFound => AppError::NotFound("role"),
        StorageError::Conflict { .. } => AppError::Conflict("a role with this name already exists".to_owned()),
        other => other.into(),
    }
}

impl Actor {
    /// Fails unless the actor may define roles: built-in owners and admins
    /// only, so a custom role can never widen itself.
    pub fn can_manage_roles(&self) -> AppResult<()> {
        if matches!(self.user.role, Role::Owner | Role::Admin) && self.custom_role.is_none() {
            Ok(())
        } else {
            Err(AppError::Forbidden("only owners and admins can manage roles"))
        }
    }
}

impl App {
    pub(crate) async fn audit(
        &self,
        account: AccountId,
        actor: Option<&Actor>,
        action: &str,
        kind: &str,
        id: String,
        details: Value,
    ) {
        let entry = NewAuditEntry {
            actor_id: actor.map(|a| a.user.id),
            actor_name: actor.map_or_else(|| "Ferry".to_owned(), |a| a.user.name.clone()),
            action: action.to_owned(),
            target_kind: kind.to_owned(),
            target_id: id,
            details,
            outcome: AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(account, entry, self.clock.now()).await {
            tracing::error!(error = %e, action, "could not write the audit entry");
        }
    }

    /// The account's custom roles (owners and admins).
    pub async fn list_roles(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<CustomRole>> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        Ok(self.storage.list_custom_roles(account).await?)
    }

    /// Defines a custom role (owners and admins).
    #[tracing::instrument(skip_all)]
    pub async fn create_role(&self, actor: &Actor, account: AccountId, input: RoleInput) -> AppResult<CustomRole> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        let name = check_role_name(&input.name).map_err(|m| AppError::invalid("name", m))?;
        let limit =
            check_refund_limit(input.refund_limit_minor).map_err(|m| AppError::invalid("refund_limit_minor", m))?;
        let new = NewCustomRole { name, permissions: input.permissions, refund_limit_minor: limit };
        let role = self.storage.create_custom_role(account, new, self.clock.now()).await.map_err(roles_error)?;
        self.audit(account, Some(actor), "role.create", "role", role.id.to_string(), role_details(&role)).await;
        Ok(role)
    }

    /// Changes a custom role (owners and admins).
    #[tracing::instrument(skip_all, fields(role_id = %id))]
    pub async fn update_role(
        &self,
        actor: &Actor,
        account: AccountId,
        id: CustomRoleId,
        change: RoleChange,
    ) -> AppResult<CustomRole> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        let name = change.name.map(|n| check_role_name(&n).map_err(|m| AppError::invalid("name", m))).transpose()?;
        let refund_limit_minor = change
            .refund_limit_minor
            .map(|l| check_refund_limit(l).map_err(|m| AppError::invalid("refund_limit_minor", m)))
            .transpose()?;
        let patch = CustomRolePatch { name, permissions: change.permissions, refund_limit_minor };
        let role = self.storage.update_custom_role(account, id, patch, self.clock.now()).await.map_err(roles_error)?;
        self.audit(account, Some(actor), "role.update", "role", id.to_string(), role_details(&role)).await;
        Ok(role)
    }

    /// Deletes a custom role; its holders fall back to their built-in role.
    #[tracing::instrument(skip_all, fields(role_id = %id))]
    pub async fn delete_role(&self, actor: &Actor, account: AccountId, id: CustomRoleId) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        let role = self.storage.get_custom_role(account, id).await?.ok_or(AppError::NotFound("role"))?;
        self.storage.delete_custom_role(account, id).await.map_err(roles_error)?;
        self.audit(account, Some(actor), "role.delete", "role", id.to_string(), json!({ "name": role.name })).await;
        Ok(())
    }

    /// Gives an agent a custom role, or takes it away (`None`).
    #[tracing::instrument(skip_all, fields(user_id = %user))]
    pub async fn assign_role(
        &self,
        actor: &Actor,
        account: AccountId,
        user: UserId,
        role: Option<CustomRoleId>,
    ) -> AppResult<Option<CustomRole>> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        let target = self.storage.get_user(account, user).await?.ok_or(AppError::NotFound("agent"))?;
        if target.role == Role::Owner {
            actor.can_grant(Role::Owner)?;
        }
        let held = match role {
            Some(r) => Some(
                self.storage
                    .get_custom_role(account, r)
                    .await?
                    .ok_or_else(|| AppError::invalid("custom_role_id", "no such role in this account"))?,
            ),
            None => None,
        };
        self.storage.set_user_custom_role(account, user, role, self.clock.now()).await.map_err(roles_error)?;
        let details = json!({ "custom_role_id": role.map(|r| r.0), "role": held.as_ref().map(|r| r.name.clone()) });
        self.audit(account, Some(actor), "role.assign", "user", user.to_string(), details).await;
        Ok(held)
    }

    /// The custom role an agent holds (owners and admins).
    pub async fn agent_role(&self, actor: &Actor, account: AccountId, user: UserId) -> AppResult<Option<CustomRole>> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        self.storage.get_user(account, user).await?.ok_or(AppError::NotFound("agent"))?;
        Ok(self.storage.user_custom_role(account, user).await?)
    }

    /// A contact's data in clear, for an actor who may reveal it; every
    /// reveal is audited (who and when, not what).
    #[tracing::instrument(skip_all, fields(contact_id = %id))]
    pub async fn unmask_contact(&self, actor: &Actor, account: AccountId, id: ContactId) -> AppResult<Contact> {
        let contact = self.get_contact(actor, account, id).await?;
        actor.can_unmask()?;
        self.audit(account, Some(actor), "contact.unmask", "contact", id.to_string(), json!({})).await;
        Ok(contact)
    }

    /// Asks for a buyer's erasure (owners and admins): a job does it.
    #[tracing::instrument(skip_all, fields(contact_id = %id))]
    pub async fn request_erase(&self, actor: &Actor, account: AccountId, id: ContactId) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_roles().map_err(|_| AppError::Forbidden("only owners and admins can erase contacts"))?;
        self.storage.get_contact(account, id).await?.ok_or(AppError::NotFound("contact"))?;
        let now = self.clock.now();
        self.storage.enqueue_job(JobKind::EraseContact { contact_id: id }.new_job(account, now)).await?;
        self.job_enqueued();
        self.audit(account, Some(actor), "contact.erase_requested", "contact", id.to_string(), json!({})).await;
        Ok(())
    }

    /// Erases a buyer now (the job's work): the store's rows, then the
    /// stored files no other message uses. Idempotent.
    #[tracing::instrument(skip_all, fields(contact_id = %id))]
    pub async fn erase_contact_now(&self, account: AccountId, id: ContactId) -> AppResult<Erasure> {
        let e = match self.storage.erase_contact(account, id, self.clock.now()).await {
            Ok(e) => e,
            // Deleted meanwhile: nothing left to erase.
            Err(StorageError::NotFound) => return Ok(Erasure::default()),
            Err(e) => return Err(e.into()),
        };
        let files = self.delete_files(account, &e.attachment_urls).await?;
        let details = json!({
            "conversations": e.conversations, "messages": e.messages, "orders": e.orders, "files": files,
        });
        self.audit(account, None, "contact.erased", "contact", id.to_string(), details).await;
        Ok(e)
    }

    async fn delete_files(&self, account: AccountId, urls: &[String]) -> AppResult<u64> {
        let mut n = 0;
        for url in urls {
            if let Some(key) = key_of_url(account, url) {
                self.attachments.delete(account, key).await.map_err(|e| AppError::internal("deleting a file", e))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// A buyer's data as a ZIP of JSON files (contact with identities and
    /// profile, conversations with messages, orders, satisfaction answers,
    /// audit entries) and the stored attachment files (owners, admins and
    /// roles with `export`). Audited.
    #[tracing::instrument(skip_all, fields(contact_id = %id))]
    pub async fn export_contact(&self, actor: &Actor, account: AccountId, id: ContactId) -> AppResult<Vec<u8>> {
        actor.in_account(account)?;
        actor.can_export()?;
        let contact = self.storage.get_contact(account, id).await?.ok_or(AppError::NotFound("contact"))?;
        let profile = self.storage.contact_profiles(account, vec![id]).await?.remove(&id);
        let mut conversations = Vec::new();
        let mut surveys = Vec::new();
        let mut files: Vec<(String, String)> = Vec::new();
        let filter = ConversationFilter { contact_id: Some(id), ..ConversationFilter::default() };
        let mut after = None;
        loop {
            let page = self.storage.list_conversations(account, &filter, after, 100).await?;
            for c in page.items {
                let messages = self.all_messages(account, c.id).await?;
                for m in &messages {
                    for url in attachment_urls(m) {
                        if let Some(key) = key_of_url(account, &url) {
                            files.push((key.to_owned(), url));
                        }
                    }
                }
                if let Some(s) = self.storage.conversation_survey(account, c.id).await? {
                    surveys.push(s);
                }
                conversations.push(json!({ "conversation": c, "messages": messages }));
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let mut emails: Vec<String> = contact.email.iter().cloned().collect();
        let mut phones: Vec<String> = contact.phone.iter().cloned().collect();
        for i in &contact.identities {
            match i.kind {
                ferry_core::contact::IdentityKind::Email => emails.push(i.value.clone()),
                ferry_core::contact::IdentityKind::Phone | ferry_core::contact::IdentityKind::Whatsapp => {
                    phones.push(i.value.clone());
                }
                _ => {}
            }
        }
        let orders = if emails.is_empty() && phones.is_empty() {
            Vec::new()
        } else {
            let q = OrderQuery { emails, phones, limit: 1000, ..OrderQuery::default() };
            self.storage.search_orders(account, q).await?.into_iter().map(|o| o.details).collect()
        };
        let audit = self
            .storage
            .list_audit(
                account,
                AuditQuery {
                    target_kind: Some("contact".into()),
                    target_id: Some(id.to_string()),
                    limit: 1000,
                    ..AuditQuery::default()
                },
            )
            .await?;

        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let zerr = |e: zip::result::ZipError| AppError::internal("writing an export", e);
        let ioerr = |e: std::io::Error| AppError::internal("writing an export", e);
        let json_files: [(&str, Value); 6] = [
            ("contact.json", json!({ "contact": contact })),
            ("profile.json", json!({ "profile": profile })),
            ("conversations.json", json!({ "conversations": conversations })),
            ("orders.json", json!({ "orders": orders })),
            ("csat.json", json!({ "surveys": surveys })),
            ("audit.json", json!({ "entries": audit })),
        ];
        for (name, mut v) in json_files {
            // Exports follow the masking rule of the API.
            if !actor.sees_unmasked() {
                ferry_core::privacy::mask_json(&mut v);
            }
            zip.start_file(name, opts).map_err(zerr)?;
            let bytes = serde_json::to_vec_pretty(&v).map_err(|e| AppError::internal("writing an export", e))?;
            zip.write_all(&bytes).map_err(ioerr)?;
        }
        files.sort();
        files.dedup();
        for (key, _) in &files {
            let Some((bytes, _)) =
                self.attachments.get(account, key).await.map_err(|e| AppError::internal("reading a file", e))?
            else {
                continue;
            };
            zip.start_file(format!("attachments/{key}"), opts).map_err(zerr)?;
            zip.write_all(&bytes).map_err(ioerr)?;
        }
        let out = zip.finish().map_err(zerr)?.into_inner();
        self.audit(account, Some(actor), "contact.export", "contact", id.to_string(), json!({ "files": files.len() }))
            .await;
        Ok(out)
    }

    async fn all_messages(&self, account: AccountId, id: ferry_core::ConversationId) -> AppResult<Vec<Message>> {
        let mut out: Vec<Message> = Vec::new();
        let mut before = None;
        loop {
            let page = self.storage.list_messages(account, id, before, 200).await?;
            let n = page.len();
            before = page.first().map(|m| m.id);
            let mut page = page;
            page.append(&mut out);
            out = page;
            if n < 200 {
                return Ok(out);
            }
        }
    }

    /// The account's retention settings.
    pub async fn retention(&self, actor: &Actor, account: AccountId) -> AppResult<Retention> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        Ok(self.storage.retention(account).await?)
    }

    /// Changes the account's retention settings (owners and admins);
    /// audited.
    pub async fn set_retention(&self, actor: &Actor, account: AccountId, r: Retention) -> AppResult<Retention> {
        actor.in_account(account)?;
        actor.can_manage_roles()?;
        for (field, v) in [("conversation_days", r.conversation_days), ("attachment_days", r.attachment_days)] {
            if v.is_some_and(|d| d == 0 || d > MAX_DAYS) {
                return Err(AppError::invalid(
                    field,
                    format!("keep for 1 to {MAX_DAYS} days, or null to keep for ever"),
                ));
            }
        }
        self.storage.set_retention(account, r, self.clock.now()).await?;
        let details = json!({ "conversation_days": r.conversation_days, "attachment_days": r.attachment_days });
        self.audit(account, Some(actor), "retention.update", "account", account.to_string(), details).await;
        Ok(r)
    }

    /// Deletes, in every account that limits retention, the conversations
    /// and attachments older than it keeps them; each account that lost
    /// something gets one summary entry in its audit log.
    pub async fn apply_retention(&self) -> AppResult<RetentionSummary> {
        let now = self.clock.now();
        let mut sum = RetentionSummary::default();
        for (account, r) in self.storage.accounts_with_retention().await? {
            sum.accounts += 1;
            let (mut conversations, mut messages, mut files) = (0, 0, 0);
            if let Some(d) = r.conversation_days {
                let s = self.storage.delete_conversations_before(account, now - Duration::days(i64::from(d))).await?;
                conversations += s.conversations;
                files += self.delete_files(account, &s.attachment_urls).await?;
            }
            if let Some(d) = r.attachment_days {
                let s = self.storage.strip_attachments_before(account, now - Duration::days(i64::from(d))).await?;
                messages += s.messages;
                files += self.delete_files(account, &s.attachment_urls).await?;
            }
            if conversations + messages + files > 0 {
                let details = json!({
                    "conversations": conversations, "messages_without_attachments": messages, "files": files,
                    "conversation_days": r.conversation_days, "attachment_days": r.attachment_days,
                });
                self.audit(account, None, "retention.sweep", "account", account.to_string(), details).await;
            }
            sum.conversations += conversations;
            sum.messages += messages;
            sum.files += files;
        }
        Ok(sum)
    }
}

fn role_details(r: &CustomRole) -> Value {
    json!({
        "name": r.name,
        "permissions": r.permissions.allowed.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "refund_limit_minor": r.permissions.refund_limit_minor,
    })
}

fn attachment_urls(m: &Message) -> Vec<String> {
    use ferry_core::message::ContentPart;
    m.parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } => Some(attachment.url.clone()),
            _ => None,
        })
        .collect()
}
