//! Inputs and outputs of the repositories that are not domain types.

use chrono::{DateTime, Duration, Utc};
use ferry_core::account::Role;
use ferry_core::contact::Identity;
use ferry_core::conversation::{Change, Conversation, Status, Transition, TransitionError};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, Sender};
use ferry_core::secret::Redacted;
use ferry_core::{AccountId, ContactId, ConversationId, InboxId, JobId, MessageId, TeamId, UserId};
use serde::{Deserialize, Serialize};

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Shop name.
    pub name: String,
    /// Default answer language.
    pub default_language: String,
}

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Display name.
    pub name: String,
    /// Normalised login e-mail.
    pub email: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Languages the agent answers in.
    pub languages: Vec<String>,
}

/// Changes to a user.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New languages.
    pub languages: Option<Vec<String>>,
    /// New password hash.
    pub password_hash: Option<String>,
}

/// A new inbox.
#[derive(Clone)]
pub struct NewInbox {
    /// Display name.
    pub name: String,
    /// Channel.
    pub channel: ChannelKind,
    /// Settings.
    pub config: InboxConfig,
    /// Webhook secret.
    pub secret: String,
}

/// Changes to an inbox.
#[derive(Debug, Clone, Default)]
pub struct InboxPatch {
    /// New name.
    pub name: Option<String>,
    /// New settings.
    pub config: Option<InboxConfig>,
}

/// A new contact.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    /// Name.
    pub name: String,
    /// Country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// Language (BCP 47).
    pub language: Option<String>,
    /// Time zone (IANA).
    pub timezone: Option<String>,
    /// VIP flag.
    pub vip: bool,
    /// Custom attributes.
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Tags (normalised).
    pub tags: Vec<String>,
    /// Identities (normalised); e-mail and phone also fill the primary
    /// fields.
    pub identities: Vec<Identity>,
}

/// Changes to a contact. `Some(None)` clears a field.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    /// New name.
    pub name: Option<String>,
    /// New country.
    pub country: Option<Option<String>>,
    /// New language.
    pub language: Option<Option<String>>,
    /// New time zone.
    pub timezone: Option<Option<String>>,
    /// VIP flag.
    pub vip: Option<bool>,
    /// Attributes merged into the existing ones (`null` removes a key).
    pub custom_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Replacement tags.
    pub tags: Option<Vec<String>>,
    /// Identities to add.
    pub add_identities: Vec<Identity>,
}

impl ContactPatch {
    /// Applies the plain fields (not the identities) to `ct`.
    pub fn apply_to(&self, ct: &mut ferry_core::contact::Contact) {
        if let Some(n) = &self.name {
            ct.name = n.clone();
        }
        if let Some(v) = &self.country {
            ct.country = v.clone();
        }
        if let Some(v) = &self.language {
            ct.language = v.clone();
        }
        if let Some(v) = &self.timezone {
            ct.timezone = v.clone();
        }
        if let Some(v) = self.vip {
            ct.vip = v;
        }
        if let Some(attrs) = &self.custom_attributes {
            for (k, v) in attrs {
                if v.is_null() {
                    ct.custom_attributes.remove(k);
                } else {
                    ct.custom_attributes.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(t) = &self.tags {
            ct.tags = t.clone();
        }
    }
}

/// Search over contacts.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    /// Matches name, e-mail, phone or any identity value (case-insensitive
    /// substring).
    pub q: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Return contacts with a smaller id than this (pages go newest first).
    pub before: Option<ContactId>,
}

/// Who a conversation list is filtered to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Anyone or nobody.
    #[default]
    Any,
    /// Nobody.
    Unassigned,
    /// This agent.
    User(UserId),
}

/// Filters of the conversation list; all given filters must match.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    /// Status.
    pub status: Option<Status>,
    /// Assignee.
    pub assignee: AssigneeFilter,
    /// Team.
    pub team_id: Option<TeamId>,
    /// Inbox.
    pub inbox_id: Option<InboxId>,
    /// Contact.
    pub contact_id: Option<ContactId>,
    /// Tag (normalised).
    pub tag: Option<String>,
    /// Language (exact tag or its primary subtag, e.g. `zh` matches `zh-CN`).
    pub language: Option<String>,
}

/// A position in the conversation list (sorted by last activity, newest
/// first, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationCursor {
    /// Last activity of the last conversation seen.
    pub last_activity_at: DateTime<Utc>,
    /// Its id.
    pub id: ConversationId,
}

/// A page of conversations.
#[derive(Debug, Clone)]
pub struct ConversationPage {
    /// The conversations.
    pub items: Vec<Conversation>,
    /// Where the next page starts, if there is one.
    pub next: Option<ConversationCursor>,
}

/// Turns a conversation's changes into activity lines, in the caller's
/// words (names of agents and teams).
pub type Describe = Box<dyn Fn(&Change) -> Option<String> + Send>;

/// A change to a conversation, run by the backend inside its transaction
/// on the locked row.
pub struct ConversationUpdate {
    /// The transition.
    pub transition: Transition,
    /// Activity lines for the resulting changes.
    pub describe: Describe,
    /// When.
    pub now: DateTime<Utc>,
    /// Jobs enqueued in the same write when the transition changes
    /// something (the satisfaction survey after a resolution).
    pub jobs: Vec<NewJob>,
}

impl ConversationUpdate {
    /// Applies the transition to `c` (the backend calls this).
    pub fn apply(&self, c: &mut Conversation) -> Result<Vec<Change>, TransitionError> {
        c.apply(self.transition.clone(), self.now)
    }
}

/// A conversation after an update, with what changed and the activity
/// lines written.
#[derive(Debug, Clone)]
pub struct UpdatedConversation {
    /// After the change.
    pub conversation: Conversation,
    /// What changed (empty: nothing was written).
    pub changes: Vec<Change>,
    /// Activity lines written.
    pub activities: Vec<Message>,
}

/// Builds the job that delivers a just-stored outgoing message.
pub type JobForMessage = Box<dyn FnOnce(&Message) -> NewJob + Send>;

/// A message written by an agent, the bot or Ferry.
pub struct NewMessage {
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Outgoing, note or activity.
    pub kind: MessageKind,
    /// Who wrote it.
    pub sender: Sender,
    /// Content.
    pub parts: Vec<ContentPart>,
    /// Initial delivery status (outgoing only).
    pub delivery: Option<DeliveryStatus>,
    /// When it was written.
    pub now: DateTime<Utc>,
    /// The conversation transition it causes (an agent's reply), if any.
    pub transition: Option<Transition>,
    /// A delivery job to enqueue in the same transaction.
    pub job: Option<JobForMessage>,
    /// The bot's state of the conversation, written in the same
    /// transaction (the bot's answers).
    pub bot_state: Option<serde_json::Value>,
    /// Activity lines for what `transition` changed, written after the
    /// message in the same transaction (a hand-off's reason and routing).
    pub describe: Option<Describe>,
    /// The scheduled notice or campaign send this message is, marked sent
    /// in the same transaction; the write fails with `Conflict` when that
    /// send is no longer scheduled (so a send becomes one message at most).
    pub notice_send: Option<i64>,
}

/// A stored message with its conversation after the write.
#[derive(Debug, Clone)]
pub struct PostedMessage {
    /// The message.
    pub message: Message,
    /// Its conversation.
    pub conversation: Conversation,
    /// What the message changed in the conversation.
    pub changes: Vec<Change>,
}

/// How intake treats a buyer's message.
#[derive(Debug, Clone)]
pub struct IntakeOptions {
    /// New and reopened conversations start with the bot.
    pub bot_enabled: bool,
    /// A message within this long after resolving reopens the conversation;
    /// later ones start a new conversation.
    pub reopen_window: Duration,
    /// When intake runs.
    pub now: DateTime<Utc>,
    /// When the message leaves the conversation with the bot, enqueue a
    /// job of this kind (payload `{"message_id"}`) in the same transaction.
    pub bot_job: Option<&'static str>,
    /// How the message finds its conversation.
    pub threading: Threading,
    /// An automatic message (an out-of-office reply): stored as an activity
    /// line of its conversation; it never reopens it or wakes the bot.
    pub automatic: bool,
}

/// How an inbound message finds its conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Threading {
    /// The buyer's latest conversation in the inbox, while it continues
    /// (chat channels).
    #[default]
    Latest,
    /// The conversation of the newest message of the inbox whose channel id
    /// is one of `references` (incoming or sent), else `conversation` when
    /// it is the buyer's in this inbox, else a new conversation (e-mail).
    Reply {
        /// Channel ids the message answers (e-mail `In-Reply-To` and
        /// `References`).
        references: Vec<String>,
        /// A conversation the message names itself (a token in the address
        /// or subject).
        conversation: Option<ferry_core::ConversationId>,
    },
}

impl IntakeOptions {
    /// The bot job to enqueue for `message`, when the bot holds its
    /// conversation and the caller asked for one.
    pub fn bot_job_for(&self, message: &Message, conversation: &Conversation) -> Option<NewJob> {
        let kind = self.bot_job?;
        (conversation.status == Status::Bot).then(|| NewJob {
            account_id: message.account_id,
            kind: kind.to_owned(),
            payload: serde_json::json!({ "message_id": message.id, "conversation_id": conversation.id }),
            run_at: self.now,
            max_attempts: 5,
            lane: Some(format!("bot:{}", conversation.id)),
        })
    }
}

/// What intake did with a message.
#[derive(Debug, Clone)]
pub struct IntakeOutcome {
    /// The stored message (the original one for a re-delivery).
    pub message: Message,
    /// Its conversation, as it is now.
    pub conversation: Conversation,
    /// True when the message had been delivered before and nothing was
    /// written.
    pub duplicate: bool,
    /// True when the contact was created by this message.
    pub new_contact: bool,
    /// True when the conversation was opened by this message.
    pub new_conversation: bool,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Account it works for.
    pub account_id: AccountId,
    /// What to do (see `ferry-jobs`).
    pub kind: String,
    /// Arguments.
    pub payload: serde_json::Value,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// Give up after this many attempts.
    pub max_attempts: u32,
    /// Jobs of one lane run one at a time, oldest first (the deliveries to
    /// one buyer keep their order); `None` runs whenever due.
    pub lane: Option<String>,
}

impl NewJob {
    /// The job in `lane`.
    pub fn in_lane(mut self, lane: impl Into<String>) -> Self {
        self.lane = Some(lane.into());
        self
    }
}

/// The jobs waiting to run, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobBacklog {
    /// Pending jobs, due or not.
    pub pending: u64,
    /// Pending jobs whose time has come.
    pub due: u64,
    /// When the oldest due job was due.
    pub oldest_due: Option<DateTime<Utc>>,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Id.
    pub id: JobId,
    /// Account it works for.
    pub account_id: AccountId,
    /// What to do.
    pub kind: String,
    /// Arguments.
    pub payload: serde_json::Value,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// Give up after this many attempts.
    pub max_attempts: u32,
    /// Error of the previous attempt.
    pub last_error: Option<String>,
    /// The previous claim's lease ran out without an outcome: its worker
    /// died or hung mid-job, and what it did is unknown.
    pub interrupted: bool,
}

/// The `last_error` a claim records on a job whose previous claim ran out
/// without an outcome.
pub const INTERRUPTED: &str = "the previous attempt was interrupted (its lease ran out)";

/// The state of a job (for inspection and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting or running.
    Pending,
    /// Done.
    Done,
    /// Gave up.
    Failed,
}

/// A tag with how many conversations carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// Conversations with it.
    pub conversations: u64,
}

/// Ids of a message and its conversation (lightweight lookups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    /// Message.
    pub message_id: MessageId,
    /// Conversation.
    pub conversation_id: ConversationId,
}

/// A new canned response (already validated).
#[derive(Debug, Clone)]
pub struct NewCannedResponse {
    /// Short code, unique in the account.
    pub short_code: String,
    /// Text.
    pub content: String,
}

/// Changes to a canned response.
#[derive(Debug, Clone, Default)]
pub struct CannedResponsePatch {
    /// New short code.
    pub short_code: Option<String>,
    /// New text.
    pub content: Option<String>,
}

/// The bot's configuration of an account as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBotDocument {
    /// The document (see `ferry-bot`).
    pub document: serde_json::Value,
    /// Increases with every change; edits name the version they change.
    pub version: i64,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The platform a shop connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopPlatform {
    /// A Shopify store (webhooks and the Admin API).
    Shopify,
    /// Orders and products imported from files.
    Import,
    /// An Amazon seller (the Selling Partner API and its notifications).
    Amazon,
}

impl ShopPlatform {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ShopPlatform::Shopify => "shopify",
            ShopPlatform::Import => "import",
            ShopPlatform::Amazon => "amazon",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "shopify" => Some(ShopPlatform::Shopify),
            "import" => Some(ShopPlatform::Import),
            "amazon" => Some(ShopPlatform::Amazon),
            _ => None,
        }
    }
}

/// A connection to one shop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopConnection {
    /// Id.
    pub id: ferry_core::ShopConnectionId,
    /// Account.
    pub account_id: AccountId,
    /// Platform.
    pub platform: ShopPlatform,
    /// Display name.
    pub name: String,
    /// The shop's domain (`example.myshopify.com`).
    pub shop_domain: String,
    /// Secret that signs the shop's webhooks. Never shown in logs.
    pub secret: String,
    /// Admin API base URL, for backfills.
    pub api_url: Option<String>,
    /// Admin API access token. Never shown in logs.
    pub access_token: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A new shop connection.
#[derive(Clone)]
pub struct NewShopConnection {
    /// Platform.
    pub platform: ShopPlatform,
    /// Display name.
    pub name: String,
    /// The shop's domain.
    pub shop_domain: String,
    /// Webhook secret.
    pub secret: String,
    /// Admin API base URL.
    pub api_url: Option<String>,
    /// Admin API access token.
    pub access_token: Option<String>,
}

/// Changes to a shop connection; `None` leaves a field as it is, and
/// `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ShopConnectionPatch {
    /// Display name.
    pub name: Option<String>,
    /// Admin API base URL.
    pub api_url: Option<Option<String>>,
    /// Admin API access token.
    pub access_token: Option<Option<String>>,
}

/// What applying a webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorOutcome {
    /// The webhook id was seen before: nothing was written.
    pub duplicate: bool,
    /// Records written (older versions are skipped).
    pub changed: usize,
}

/// An order of the mirror with its store id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// Store id.
    pub id: ferry_core::OrderId,
    /// Its shop.
    pub connection_id: ferry_core::ShopConnectionId,
    /// The order with its fulfilments and refunds.
    pub details: ferry_commerce::OrderDetails,
}

/// Where a backfill of one resource of a shop stands (for resuming).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSyncState {
    /// The resource (`orders`, `products`, `customers`).
    pub resource: String,
    /// The platform's cursor of the next page to fetch (Shopify's
    /// `page_info`); `None` before the first page and when done.
    pub cursor: Option<String>,
    /// Every page was fetched and applied.
    pub done: bool,
    /// Records fetched and applied so far in this pass.
    pub fetched: i64,
    /// When it last changed (set by the store).
    pub updated_at: DateTime<Utc>,
}

/// Search over orders: a free text (order name or number, e-mail, phone)
/// and/or exact identity matches.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Substring of the name, number, e-mail or phone (case-insensitive).
    pub q: Option<String>,
    /// Exact order number (`1001` or `#1001`).
    pub number: Option<String>,
    /// Orders of any of these e-mails (normalised).
    pub emails: Vec<String>,
    /// Orders of any of these phones (E.164).
    pub phones: Vec<String>,
    /// Page size.
    pub limit: u32,
}

/// Whether an audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It was done.
    Ok,
    /// It was refused or failed.
    Failed,
}

impl AuditOutcome {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Failed => "failed",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(AuditOutcome::Ok),
            "failed" => Some(AuditOutcome::Failed),
            _ => None,
        }
    }
}

/// An entry of the audit log: who did what to which record, and how it
/// went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Id (increasing).
    pub id: ferry_core::AuditEntryId,
    /// Account.
    pub account_id: AccountId,
    /// The user who acted, when a user did (kept when the user is deleted
    /// as their name).
    pub actor_id: Option<ferry_core::UserId>,
    /// The actor's name at the time.
    pub actor_name: String,
    /// What was done (`order.cancel`, `order.refund`, …).
    pub action: String,
    /// Kind of the record acted on (`order`).
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// The request and its result, as JSON.
    pub details: serde_json::Value,
    /// How it went.
    pub outcome: AuditOutcome,
    /// Why it failed.
    pub error: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A new audit log entry.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// The user who acted.
    pub actor_id: Option<ferry_core::UserId>,
    /// The actor's name.
    pub actor_name: String,
    /// What was done.
    pub action: String,
    /// Kind of the record acted on.
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// The request and its result.
    pub details: serde_json::Value,
    /// How it went.
    pub outcome: AuditOutcome,
    /// Why it failed.
    pub error: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this action.
    pub action: Option<String>,
    /// Only records of this kind.
    pub target_kind: Option<String>,
    /// Only this record (with `target_kind`).
    pub target_id: Option<String>,
    /// Entries older than this one (the cursor of the next page).
    pub before: Option<ferry_core::AuditEntryId>,
    /// Page size.
    pub limit: u32,
}

// Secrets read from or written to the store never print.

impl std::fmt::Debug for NewInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewInbox")
            .field("name", &self.name)
            .field("channel", &self.channel)
            .field("config", &self.config)
            .field("secret", &Redacted(&self.secret))
            .finish()
    }
}

impl std::fmt::Debug for ShopConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopConnection")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("platform", &self.platform)
            .field("name", &self.name)
            .field("shop_domain", &self.shop_domain)
            .field("secret", &Redacted(&self.secret))
            .field("api_url", &self.api_url)
            .field("access_token", &self.access_token.as_deref().map(Redacted))
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl std::fmt::Debug for NewShopConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewShopConnection")
            .field("platform", &self.platform)
            .field("name", &self.name)
            .field("shop_domain", &self.shop_domain)
            .field("secret", &Redacted(&self.secret))
            .field("api_url", &self.api_url)
            .field("access_token", &self.access_token.as_deref().map(Redacted))
            .finish()
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn shop_and_inbox_secrets_do_not_print() {
        let new = NewShopConnection {
            platform: ShopPlatform::Shopify,
            name: "Shop".into(),
            shop_domain: "shop.example".into(),
            secret: "whsec-hunter2".into(),
            api_url: None,
            access_token: Some("shpat-hunter3".into()),
        };
        let inbox = NewInbox {
            name: "API".into(),
            channel: ChannelKind::Api,
            config: InboxConfig::default(),
            secret: "inbox-hunter4".into(),
        };
        let printed = format!("{new:?} {inbox:?}");
        assert!(printed.contains("shop.example"), "{printed}");
        for secret in ["hunter2", "hunter3", "hunter4"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}

/// How much the outbox holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxSize {
    /// Rows, published or not.
    pub rows: u64,
    /// Bytes of their kinds and payloads.
    pub payload_bytes: u64,
}
