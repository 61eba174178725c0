//! Intake of buyers' messages in one transaction.
//!
//! Deliveries of the same message take turns on the message's lock, so
//! the second sees the first's row; messages of the same buyer take turns
//! on the locks of the buyer's identities, so one buyer never becomes two
//! contacts; the contact's and the conversation's row locks keep two
//! messages of one buyer from opening two conversations or losing each
//! other's update. (SQLite's single writer makes all of these no-ops.)

use super::contacts::{attach_identity, find_identity, identity_lock, insert_contact, refresh_contact_search};
use super::conversations::{CONV_COLS, conversation, get_conversation, insert_conversation, save_conversation};
use super::messages::{MSG_COLS, insert_message, message};
use super::outbox::append_event;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, lock_key};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::IntakeRepo;
use async_trait::async_trait;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::conversation::{Conversation, Transition, continues};
use ferry_core::event::Event;
use ferry_core::inbound::Inbound;
use ferry_core::message::{Message, MessageKind, Sender};
use ferry_core::{AccountId, ContactId, ConversationId, InboxId, MessageId};

/// The primary e-mail and phone among identities.
pub(super) fn primary_contacts(identities: &[Identity]) -> (Option<String>, Option<String>) {
    let email = identities.iter().find(|i| i.kind == IdentityKind::Email).map(|i| i.value.clone());
    let phone = identities.iter().find(|i| i.kind == IdentityKind::Phone).map(|i| i.value.clone());
    (email, phone)
}

/// The contact of a buyer: whoever owns the first known identity (which
/// gains the others), else a new one. True when new.
async fn resolve_contact<D: Db>(
    db: &mut D,
    inbound: &Inbound,
    now: chrono::DateTime<chrono::Utc>,
) -> StorageResult<(ContactId, bool)> {
    let account = inbound.account_id;
    let sender = &inbound.sender;
    let all: Vec<Identity> = std::iter::once(&sender.identity).chain(sender.extra_identities.iter()).cloned().collect();
    db.serialize_on(all.iter().map(|i| identity_lock(account, i)).collect()).await?;
    let mut found = None;
    for (n, i) in all.iter().enumerate() {
        if let Some(id) = find_identity(db, account, i).await? {
            found = Some((id, n));
            break;
        }
    }
    let (email, phone) = primary_contacts(&all);
    match found {
        Some((id, known)) => {
            let lock = db.lock(Lock::NoKeyUpdate);
            // Only a backend with row locks needs the statement.
            if !lock.is_empty() {
                db.rows(&format!("SELECT id FROM contacts WHERE id = $1{lock}"), args![id.0]).await?;
            }
            let mut added = false;
            // The identity it was found by is the contact's already.
            for (_, i) in all.iter().enumerate().filter(|(n, _)| *n != known) {
                added |= attach_identity(db, account, id, i, now).await?;
            }
            if added {
                // New identities fill empty primary fields and become
                // searchable, as when an agent adds them.
                db.exec(
                    "UPDATE contacts SET email = COALESCE(email, $2), phone = COALESCE(phone, $3) WHERE id = $1",
                    args![id.0, email, phone],
                )
                .await?;
                refresh_contact_search(db, id).await?;
            }
            Ok((id, false))
        }
        None => {
            let name = sender.name.clone().unwrap_or_default();
            let new = NewContact {
                name: if name.trim().is_empty() { String::new() } else { name },
                language: sender.language.clone(),
                identities: Vec::new(),
                ..NewContact::default()
            };
            let id = insert_contact(db, account, &new, now).await?;
            for i in &all {
                attach_identity(db, account, id, i, now).await?;
            }
            if email.is_some() || phone.is_some() {
                db.exec("UPDATE contacts SET email = $2, phone = $3 WHERE id = $1", args![id.0, email, phone]).await?;
            }
            refresh_contact_search(db, id).await?;
            Ok((id, true))
        }
    }
}

async fn ingest<D: Db>(db: &mut D, inbound: Inbound, opt: IntakeOptions) -> StorageResult<IntakeOutcome> {
    let account = inbound.account_id;
    let now = opt.now;
    let inbox = inbound.inbox_id;
    db.serialize_on(vec![lock_key(&["ferry", "message", &inbox.0.to_string(), &inbound.external_id])]).await?;
    let sql = format!(
        "SELECT {MSG_COLS} FROM messages WHERE inbox_id = $1 AND external_id = $2 AND kind = 'incoming' \
         AND account_id = $3"
    );
    if let Some(row) = db.row(&sql, args![inbox.0, &inbound.external_id, account.0]).await? {
        let message = message(&row)?;
        let conversation =
            get_conversation(db, account, message.conversation_id, Lock::None).await?.ok_or(StorageError::NotFound)?;
        return Ok(IntakeOutcome {
            message,
            conversation,
            duplicate: true,
            new_contact: false,
            new_conversation: false,
        });
    }

    let (contact_id, new_contact) = resolve_contact(db, &inbound, now).await?;

    let candidate = match &opt.threading {
        Threading::Latest => {
            let sql = format!(
                "SELECT {CONV_COLS} FROM conversations WHERE account_id = $1 AND contact_id = $2 AND inbox_id = $3 \
                 ORDER BY id DESC LIMIT 1{}",
                db.lock(Lock::Update)
            );
            let latest = db.row(&sql, args![account.0, contact_id.0, inbox.0]).await?;
            latest.as_ref().map(conversation).transpose()?
        }
        Threading::Reply { references, conversation: named } => {
            thread_of(db, account, inbox, contact_id, references, *named).await?
        }
    };
    let (conversation, new_conversation, changes) = match candidate {
        // An automatic reply joins the thread it answers whatever its state.
        Some(conv) if opt.automatic => (conv, false, Vec::new()),
        Some(mut conv) if continues(&conv, now, opt.reopen_window) => {
            let changes =
                conv.apply(Transition::BuyerMessage { at: inbound.sent_at, bot_enabled: opt.bot_enabled }, now)?;
            save_conversation(db, &conv).await?;
            (conv, false, changes)
        }
        _ => {
            let mut conv =
                Conversation::opened_by_buyer(account, inbox, contact_id, opt.bot_enabled, inbound.sent_at, now);
            conv.language = inbound.sender.language.clone();
            insert_conversation(db, &mut conv).await?;
            (conv, true, Vec::new())
        }
    };

    let mut message = Message {
        id: MessageId(0),
        account_id: account,
        inbox_id: inbox,
        conversation_id: conversation.id,
        kind: if opt.automatic { MessageKind::Activity } else { MessageKind::Incoming },
        sender: Sender::Contact(contact_id),
        parts: inbound.parts,
        external_id: Some(inbound.external_id),
        delivery: None,
        sent_at: inbound.sent_at,
        created_at: now,
        meta: Box::new(inbound.meta),
    };
    insert_message(db, &mut message).await?;
    if opt.automatic {
        // Recorded, but nothing to answer: no bot, no reopening.
    } else if let Some(job) = opt.bot_job_for(&message, &conversation) {
        super::jobs::insert_job(db, &job, now).await?;
    }
    let event = Event::MessageReceived {
        message: message.clone(),
        conversation: conversation.clone(),
        new_conversation,
        new_contact,
        changes,
    };
    append_event(db, account, &event, now).await?;
    Ok(IntakeOutcome { message, conversation, duplicate: false, new_contact, new_conversation })
}

/// The conversation a reply belongs to: the newest message of the inbox
/// among `references` (the buyer's or one sent to them), else the named
/// conversation when it is the buyer's in this inbox. Locked for update.
async fn thread_of<D: Db>(
    db: &mut D,
    account: AccountId,
    inbox: InboxId,
    contact: ContactId,
    references: &[String],
    named: Option<ConversationId>,
) -> StorageResult<Option<Conversation>> {
    let mut found = None;
    if !references.is_empty() {
        let sql = format!(
            "SELECT conversation_id FROM messages WHERE account_id = $1 AND inbox_id = $2 \
             AND kind IN ('incoming', 'outgoing') AND external_id IN (SELECT value FROM {}) \
             ORDER BY id DESC LIMIT 1",
            db.list("$3")
        );
        let refs: Vec<String> = references.iter().take(100).cloned().collect();
        if let Some(r) = db.row(&sql, args![account.0, inbox.0, Arg::Texts(refs)]).await? {
            found = Some(ConversationId(r.int(0)?));
        }
    }
    let id = match (found, named) {
        (Some(id), _) => id,
        (None, Some(named)) => named,
        (None, None) => return Ok(None),
    };
    let Some(conv) = get_conversation(db, account, id, Lock::Update).await? else { return Ok(None) };
    // A token names a conversation; only the buyer's own in this inbox
    // counts, so a forged token cannot post into someone else's thread.
    Ok((conv.inbox_id == inbox && (found.is_some() || conv.contact_id == contact)).then_some(conv))
}

#[async_trait]
impl<B: Backend> IntakeRepo for B {
    async fn ingest(&self, inbound: Inbound, options: IntakeOptions) -> StorageResult<IntakeOutcome> {
        self.write(move |db| Box::pin(ingest(db, inbound, options))).await
    }
}
