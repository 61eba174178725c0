//! Repository traits. Every method takes the account it works in (except
//! the few global lookups by secret token or login e-mail, which return the
//! row's account) and never touches another account's rows.

use crate::error::StorageResult;
use crate::model::*;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ferry_core::account::{Account, Team, User};
use ferry_core::canned::CannedResponse;
use ferry_core::contact::Contact;
use ferry_core::conversation::Conversation;
use ferry_core::event::EventEnvelope;
use ferry_core::inbound::Inbound;
use ferry_core::inbox::Inbox;
use ferry_core::message::{DeliveryStatus, Message};
use ferry_core::{
    AccountId, CannedResponseId, ContactId, ConversationId, EventId, InboxId, JobId, MessageId, TeamId, UserId,
};

/// Accounts.
#[async_trait]
pub trait AccountRepo {
    /// Creates an account.
    async fn create_account(&self, new: NewAccount, now: DateTime<Utc>) -> StorageResult<Account>;
    /// Reads an account.
    async fn get_account(&self, id: AccountId) -> StorageResult<Option<Account>>;
}

/// Users, sessions and API tokens.
#[async_trait]
pub trait UserRepo {
    /// Creates a user; a taken e-mail is a `Conflict { constraint: "users.email" }`.
    async fn create_user(&self, account: AccountId, new: NewUser, now: DateTime<Utc>) -> StorageResult<User>;
    /// Reads a user of the account.
    async fn get_user(&self, account: AccountId, id: UserId) -> StorageResult<Option<User>>;
    /// The users of the account, by name.
    async fn list_users(&self, account: AccountId) -> StorageResult<Vec<User>>;
    /// Changes a user.
    async fn update_user(&self, account: AccountId, id: UserId, patch: UserPatch) -> StorageResult<User>;
    /// Removes a user (their conversations become unassigned).
    async fn delete_user(&self, account: AccountId, id: UserId) -> StorageResult<()>;
    /// A user and their password hash by login e-mail (global: logins are
    /// unique across accounts).
    async fn find_login(&self, email: &str) -> StorageResult<Option<(User, String)>>;
    /// Stores a session (by the SHA-256 of its secret).
    async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The user of a live session.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<User>>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> StorageResult<()>;
    /// Stores an API token (by the SHA-256 of its secret) acting as `user`.
    async fn create_api_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The user an API token acts as.
    async fn token_user(&self, token_hash: &str) -> StorageResult<Option<User>>;
}

/// Teams.
#[async_trait]
pub trait TeamRepo {
    /// Creates a team; a taken name is a `Conflict { constraint: "teams.name" }`.
    async fn create_team(
        &self,
        account: AccountId,
        name: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Team>;
    /// Reads a team.
    async fn get_team(&self, account: AccountId, id: TeamId) -> StorageResult<Option<Team>>;
    /// All teams, by name.
    async fn list_teams(&self, account: AccountId) -> StorageResult<Vec<Team>>;
    /// Replaces a team's members (all must be users of the account).
    async fn set_team_members(&self, account: AccountId, id: TeamId, members: &[UserId]) -> StorageResult<Team>;
    /// Removes a team (its conversations lose their team).
    async fn delete_team(&self, account: AccountId, id: TeamId) -> StorageResult<()>;
}

/// Inboxes.
#[async_trait]
pub trait InboxRepo {
    /// Creates an inbox.
    async fn create_inbox(&self, account: AccountId, new: NewInbox, now: DateTime<Utc>) -> StorageResult<Inbox>;
    /// Every inbox of a channel, of all accounts (for the background
    /// readers of mailboxes and other polled channels).
    async fn inboxes_of_channel(&self, channel: ferry_core::inbox::ChannelKind) -> StorageResult<Vec<Inbox>>;
    /// Reads an inbox of the account.
    async fn get_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<Option<Inbox>>;
    /// Reads an inbox by id alone: for webhooks, which learn the account
    /// from the inbox and then verify the signature with its secret.
    async fn find_inbox(&self, id: InboxId) -> StorageResult<Option<Inbox>>;
    /// All inboxes, by name.
    async fn list_inboxes(&self, account: AccountId) -> StorageResult<Vec<Inbox>>;
    /// Changes an inbox.
    async fn update_inbox(&self, account: AccountId, id: InboxId, patch: InboxPatch) -> StorageResult<Inbox>;
    /// Removes an inbox with its conversations and messages.
    async fn delete_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<()>;
}

/// Contacts.
#[async_trait]
pub trait ContactRepo {
    /// Creates a contact; an identity already used by another contact is a
    /// `Conflict { constraint: "contact_identities" }`.
    async fn create_contact(&self, account: AccountId, new: NewContact, now: DateTime<Utc>) -> StorageResult<Contact>;
    /// Reads a contact with identities and tags.
    async fn get_contact(&self, account: AccountId, id: ContactId) -> StorageResult<Option<Contact>>;
    /// The contact known by `identity`, if any.
    async fn find_contact_by_identity(
        &self,
        account: AccountId,
        identity: &ferry_core::contact::Identity,
    ) -> StorageResult<Option<ContactId>>;
    /// Searches contacts, newest first.
    async fn search_contacts(&self, account: AccountId, query: ContactQuery) -> StorageResult<Vec<Contact>>;
    /// Changes a contact.
    async fn update_contact(
        &self,
        account: AccountId,
        id: ContactId,
        patch: ContactPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<Contact>;
}

/// Conversations.
#[async_trait]
pub trait ConversationRepo {
    /// Reads a conversation.
    async fn get_conversation(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<Conversation>>;
    /// A page of conversations, most recent activity first.
    async fn list_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
        after: Option<ConversationCursor>,
        limit: u32,
    ) -> StorageResult<ConversationPage>;
    /// How many conversations match the filter (its status ignored), per
    /// status.
    async fn count_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
    ) -> StorageResult<Vec<(ferry_core::conversation::Status, u64)>>;
    /// Open and pending conversations per assigned agent (agents with none
    /// are left out), for routing to the least busy.
    async fn assigned_load(&self, account: AccountId) -> StorageResult<Vec<(UserId, u64)>>;
    /// Applies a transition on the locked conversation; writes the row, the
    /// activity lines and the events in one transaction. Nothing is written
    /// when nothing changes.
    async fn update_conversation(
        &self,
        account: AccountId,
        id: ConversationId,
        update: ConversationUpdate,
    ) -> StorageResult<UpdatedConversation>;
    /// Snoozed conversations whose time has come.
    async fn due_snoozed(&self, now: DateTime<Utc>, limit: u32) -> StorageResult<Vec<(AccountId, ConversationId)>>;
    /// Tags in use, with counts.
    async fn list_tags(&self, account: AccountId) -> StorageResult<Vec<TagCount>>;
}

/// Messages.
#[async_trait]
pub trait MessageRepo {
    /// Reads a message.
    async fn get_message(&self, account: AccountId, id: MessageId) -> StorageResult<Option<Message>>;
    /// The newest outgoing message of the inbox the channel knows by
    /// `external_id` (a sent e-mail's Message-ID), for bounces and status
    /// reports.
    async fn find_sent_message(
        &self,
        account: AccountId,
        inbox: InboxId,
        external_id: &str,
    ) -> StorageResult<Option<Message>>;
    /// Up to `limit` messages of a conversation before `before` (all when
    /// `None`), oldest first.
    async fn list_messages(
        &self,
        account: AccountId,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> StorageResult<Vec<Message>>;
    /// Stores an outgoing message, note or activity, applies its transition
    /// to the conversation, enqueues its delivery job and appends the events,
    /// in one transaction.
    async fn post_message(&self, account: AccountId, new: NewMessage) -> StorageResult<PostedMessage>;
    /// Messages, notes and replies of the account whose text contains `q`
    /// (case-insensitive), newest first. Activity lines are not searched.
    async fn search_messages(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<Message>>;
    /// Records a delivery report. Reports that would move the status
    /// backwards are ignored (returns `None`).
    async fn update_delivery(
        &self,
        account: AccountId,
        id: MessageId,
        status: DeliveryStatus,
        external_id: Option<String>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>>;
    /// The buyer's message of the inbox the channel knows by `external_id`
    /// (for reactions, edits and quotes).
    async fn find_received_message(
        &self,
        account: AccountId,
        inbox: InboxId,
        external_id: &str,
    ) -> StorageResult<Option<Message>>;
    /// Applies a change the channel reported (a reaction, an edit, a
    /// deletion, billing) and records the update; `None` when it changed
    /// nothing.
    async fn change_message(
        &self,
        account: AccountId,
        id: MessageId,
        change: ferry_core::message::MessageChange,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>>;
    /// Queues a failed outgoing message again with its new delivery `job`,
    /// in one transaction; `None` when it had not failed.
    async fn requeue_delivery(
        &self,
        account: AccountId,
        id: MessageId,
        job: NewJob,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>>;
    /// Outgoing messages of the account whose delivery is in `state`
    /// (`queued` or `failed`), newest first, before `before`.
    async fn list_deliveries(
        &self,
        account: AccountId,
        state: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StorageResult<Vec<Message>>;
}

/// The intake of buyers' messages.
#[async_trait]
pub trait IntakeRepo {
    /// In one transaction: returns the original if (inbox, external id) was
    /// seen; else resolves or creates the contact, continues or opens the
    /// conversation, stores the message and appends the events.
    async fn ingest(&self, inbound: Inbound, options: IntakeOptions) -> StorageResult<IntakeOutcome>;
}

/// Receives the events of each committed unit of work right after its
/// commit, in commit order (the in-memory path to the dispatcher).
pub type CommitSink = std::sync::Arc<dyn Fn(Vec<EventEnvelope>) + Send + Sync>;

/// The transactional outbox.
#[async_trait]
pub trait OutboxRepo {
    /// Events not yet published, oldest first, rebuilt from the store
    /// (the recovery path); only those with an id greater than `after`
    /// when given. Events whose message, conversation or contact is gone
    /// are left out.
    async fn unpublished_events(&self, after: Option<EventId>, limit: u32) -> StorageResult<Vec<EventEnvelope>>;
    /// Marks events as published.
    async fn mark_published(&self, ids: &[EventId], now: DateTime<Utc>) -> StorageResult<()>;
    /// Counts events per account (for inspection and tests).
    async fn count_events(&self, account: AccountId) -> StorageResult<u64>;
    /// Deletes up to `limit` events published before `before`, oldest
    /// first; returns how many went. Unpublished events always stay.
    async fn prune_published_events(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64>;
    /// Counts events not yet published, across accounts (for monitoring).
    async fn count_unpublished_events(&self) -> StorageResult<u64>;
    /// From now on, hands the events of every committed write to `sink`
    /// (`None`: to nobody). One sink per store.
    fn hand_committed_events(&self, sink: Option<CommitSink>);
    /// Rows and payload bytes in the outbox (for benchmarks).
    async fn outbox_size(&self) -> StorageResult<OutboxSize>;
}

/// Background jobs.
#[async_trait]
pub trait JobRepo {
    /// Enqueues a job.
    async fn enqueue_job(&self, job: NewJob) -> StorageResult<JobId>;
    /// Brings the account's pending jobs of `lane` forward to `now` (those
    /// due later); false when the lane has no pending job.
    async fn wake_lane(&self, account: AccountId, lane: &str, now: DateTime<Utc>) -> StorageResult<bool>;
    /// Claims up to `limit` due jobs for `lease`; each claim counts as an
    /// attempt. A job whose lease ran out is claimable again.
    async fn claim_jobs(&self, now: DateTime<Utc>, lease: Duration, limit: u32) -> StorageResult<Vec<Job>>;
    /// Marks a job done.
    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StorageResult<()>;
    /// Puts a job back to run again at `run_at`.
    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> StorageResult<()>;
    /// Puts a claimed job back until `run_at` without counting the attempt
    /// (the channel asked to slow down).
    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>, reason: &str) -> StorageResult<()>;
    /// Gives up on a job.
    async fn fail_job(&self, id: JobId, error: &str, now: DateTime<Utc>) -> StorageResult<()>;
    /// The state of a job.
    async fn job_state(&self, id: JobId) -> StorageResult<Option<(JobState, u32, Option<String>)>>;
    /// Deletes up to `limit` jobs done before `before`, oldest first;
    /// failed jobs stay (they are the visible record of what went wrong).
    async fn prune_done_jobs(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64>;
    /// How many jobs wait, and since when the oldest due one has, at
    /// `now` (for monitoring).
    async fn job_backlog(&self, now: DateTime<Utc>) -> StorageResult<JobBacklog>;
}

/// Canned responses, shared by the account's agents.
#[async_trait]
pub trait CannedResponseRepo {
    /// Creates a canned response; a short code already used in the account
    /// is a `Conflict { constraint: "canned_responses.short_code" }`.
    async fn create_canned_response(
        &self,
        account: AccountId,
        new: NewCannedResponse,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse>;
    /// The account's canned responses, by short code.
    async fn list_canned_responses(&self, account: AccountId) -> StorageResult<Vec<CannedResponse>>;
    /// Reads a canned response of the account.
    async fn get_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
    ) -> StorageResult<Option<CannedResponse>>;
    /// Changes a canned response (same conflict as creating).
    async fn update_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
        patch: CannedResponsePatch,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse>;
    /// Removes a canned response.
    async fn delete_canned_response(&self, account: AccountId, id: CannedResponseId) -> StorageResult<()>;
}

/// The bot's configuration per account and its memory per conversation.
#[async_trait]
pub trait BotRepo {
    /// The account's bot document, if it has been saved.
    async fn get_bot_document(&self, account: AccountId) -> StorageResult<Option<StoredBotDocument>>;
    /// Only the version of the account's bot document (a cheap check of
    /// whether a trained engine is still current).
    async fn bot_document_version(&self, account: AccountId) -> StorageResult<Option<i64>>;
    /// Saves the document if its stored version is still `expected`
    /// (`None`: none saved yet); else `Conflict { constraint:
    /// "bot_documents.version" }`. Returns the new version.
    async fn put_bot_document(
        &self,
        account: AccountId,
        document: serde_json::Value,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> StorageResult<i64>;
    /// The bot's state of a conversation.
    async fn get_bot_state(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<serde_json::Value>>;
    /// Replaces the bot's state of a conversation.
    async fn put_bot_state(
        &self,
        account: AccountId,
        id: ConversationId,
        state: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

/// The shop mirror: connections, and orders, fulfilments, refunds,
/// products, stock and customers kept newest-first by the shop's own
/// `updated_at`.
#[async_trait]
pub trait CommerceRepo {
    /// Creates a shop connection.
    async fn create_shop_connection(
        &self,
        account: AccountId,
        new: NewShopConnection,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection>;
    /// Reads a connection of the account.
    async fn get_shop_connection(
        &self,
        account: AccountId,
        id: ferry_core::ShopConnectionId,
    ) -> StorageResult<Option<ShopConnection>>;
    /// Reads a connection by id alone (webhooks verify with its secret).
    async fn find_shop_connection(&self, id: ferry_core::ShopConnectionId) -> StorageResult<Option<ShopConnection>>;
    /// The account's connections.
    async fn list_shop_connections(&self, account: AccountId) -> StorageResult<Vec<ShopConnection>>;
    /// Changes a connection of the account (`NotFound` otherwise).
    async fn update_shop_connection(
        &self,
        account: AccountId,
        id: ferry_core::ShopConnectionId,
        patch: crate::ShopConnectionPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection>;
    /// Applies writes in one transaction; with a webhook id, a delivery
    /// seen before writes nothing and says so.
    async fn apply_mirror_writes(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
        webhook_id: Option<String>,
        writes: Vec<ferry_commerce::MirrorWrite>,
        now: DateTime<Utc>,
    ) -> StorageResult<MirrorOutcome>;
    /// Orders matching the query, newest first.
    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StorageResult<Vec<StoredOrder>>;
    /// One order with its fulfilments and refunds.
    async fn get_order(&self, account: AccountId, id: ferry_core::OrderId) -> StorageResult<Option<StoredOrder>>;
    /// Units available of a variant's inventory item over all locations of
    /// a connection (`None`: no stock level known).
    async fn available_stock(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
        inventory_item_id: &str,
    ) -> StorageResult<Option<i64>>;
    /// Products of a connection, by title.
    async fn list_products(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
    ) -> StorageResult<Vec<ferry_commerce::Product>>;
    /// Orders of a connection in the mirror.
    async fn count_orders(&self, account: AccountId, connection: ferry_core::ShopConnectionId) -> StorageResult<i64>;
    /// Where the backfill of `resource` of a connection stands.
    async fn get_sync_state(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
        resource: &str,
    ) -> StorageResult<Option<ShopSyncState>>;
    /// Stores where the backfill of `state.resource` stands (`updated_at`
    /// becomes `now`); `NotFound` for a connection of another account.
    async fn put_sync_state(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
        state: ShopSyncState,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

/// The audit log: append-only, per account.
#[async_trait]
pub trait AuditRepo {
    /// Appends an entry.
    async fn append_audit(
        &self,
        account: AccountId,
        new: NewAuditEntry,
        now: DateTime<Utc>,
    ) -> StorageResult<AuditEntry>;
    /// Entries matching the query, newest first.
    async fn list_audit(&self, account: AccountId, query: AuditQuery) -> StorageResult<Vec<AuditEntry>>;
}

/// What channels remember per inbox between runs (cursors, offsets).
#[async_trait]
pub trait ChannelStateRepo {
    /// The value under `key` for the inbox.
    async fn get_channel_state(
        &self,
        account: AccountId,
        inbox: InboxId,
        key: &str,
    ) -> StorageResult<Option<serde_json::Value>>;
    /// Stores the value under `key` (`NotFound` for an inbox of another
    /// account).
    async fn put_channel_state(
        &self,
        account: AccountId,
        inbox: InboxId,
        key: &str,
        value: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

/// The rules an account adds to the compliance gate (words it never wants
/// sent, hosts links may point to), as the gate's JSON.
#[async_trait]
pub trait ComplianceRulesRepo {
    /// The account's rules, if it set any.
    async fn get_compliance_rules(&self, account: AccountId) -> StorageResult<Option<serde_json::Value>>;
    /// Replaces the account's rules.
    async fn put_compliance_rules(
        &self,
        account: AccountId,
        rules: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

/// Everything a backend provides.
#[async_trait]
pub trait Storage:
    AccountRepo
    + UserRepo
    + TeamRepo
    + InboxRepo
    + ContactRepo
    + ConversationRepo
    + MessageRepo
    + IntakeRepo
    + OutboxRepo
    + JobRepo
    + CannedResponseRepo
    + BotRepo
    + CommerceRepo
    + AuditRepo
    + ChannelStateRepo
    + ComplianceRulesRepo
    + crate::alerts::AlertRepo
    + crate::amazon::AmazonRepo
    + crate::csat::CsatRepo
    + crate::leases::LeaseRepo
    + crate::questions::QuestionRepo
    + crate::replay::ReplayRepo
    + crate::search::SearchRepo
    + crate::insights::InsightsRepo
    + crate::profiles::ProfileRepo
    + crate::products::ProductFeedbackRepo
    + crate::security::SecurityRepo
    + crate::privacy::PrivacyRepo
    + crate::credentials::CredentialRepo
    + crate::platform::PlatformRepo
    + crate::merges::MergeRepo
    + crate::translation::TranslationRepo
    + crate::access_tokens::AccessTokenRepo
    + crate::opt_outs::OptOutRepo
    + crate::echoes::EchoRepo
    + crate::notices::NoticeRepo
    + crate::campaigns::CampaignRepo
    + crate::stock::StockSubscriptionRepo
    + crate::journeys::JourneyRepo
    + crate::platform::WebhookRepo
    + crate::platform::UsageRepo
    + Send
    + Sync
{
    /// Backend name for logs (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// Checks the database answers.
    async fn ping(&self) -> StorageResult<()>;
}
