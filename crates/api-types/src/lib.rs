//! The shapes of Ferry's HTTP and WebSocket API: request bodies, response
//! views and error codes. The console's TypeScript types and the OpenAPI
//! document are generated from these, so they are the API's one source.

use chrono::{DateTime, Utc};
use ferry_core::account::{Role, Team, User};
use ferry_core::canned::CannedResponse;
use ferry_core::contact::{Contact, Identity, IdentityKind};
use ferry_core::conversation::{Conversation, Priority, Status};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, MessageMeta, Sender};
use ferry_core::profile::ContactProfile;
use ferry_core::segment::SegmentFilter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod access_tokens;
mod campaigns;
mod journeys;
mod merges;
mod notices;
mod platform;
mod sms_telegram;
mod translation;
pub use access_tokens::*;
pub use campaigns::*;
pub use journeys::*;
pub use merges::*;
pub use notices::*;
pub use platform::*;
pub use sms_telegram::*;
pub use translation::*;

/// An error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code the console translates (`not_found`,
    /// `unauthorized`, `forbidden`, `invalid`, `malformed_request`,
    /// `conflict`, `invalid_transition`, `payload_too_large`, `internal`,
    /// `login_locked` (with `Retry-After`), `two_factor_required`).
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The field at fault, when one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `compliance_blocked`: every rule the message breaks, where and
    /// why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<ferry_core::compliance::Finding>>,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The logged-in user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProfileView {
    /// The user.
    pub user: AgentView,
    /// The account they work in.
    pub account_id: i64,
    /// The account's name.
    pub account_name: String,
    /// The account requires two-factor authentication and the user has
    /// not set it up: until they do, only the profile's two-factor and
    /// session routes answer (the others say `two_factor_required`).
    #[serde(default)]
    pub two_factor_setup_required: bool,
}

/// `POST /api/v1/auth/login` for a user with two-factor authentication:
/// the password was right; send a code with the challenge to
/// `POST /api/v1/auth/login/two_factor`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginChallengeView {
    /// Always true: a code is due.
    pub two_factor_required: bool,
    /// The challenge, valid for a few minutes.
    pub challenge: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/auth/login/two_factor`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwoFactorLoginRequest {
    /// The challenge of the first step.
    pub challenge: String,
    /// A 6-digit code of the authenticator app, or a recovery code.
    pub code: String,
}

/// Where the caller's two-factor authentication stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorStatusView {
    /// On.
    pub enabled: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// The account requires it.
    pub required: bool,
}

/// A new secret to add to an authenticator app (not active until enabled
/// with a code).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorSetupView {
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The `otpauth://totp/…` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// `POST /api/v1/profile/two_factor/enable`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableTwoFactorRequest {
    /// The current 6-digit code of the app.
    pub code: String,
}

/// Recovery codes, shown this once: each signs in once instead of a code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesView {
    /// The codes.
    pub recovery_codes: Vec<String>,
}

/// `POST /api/v1/profile/two_factor/disable`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoFactorRequest {
    /// The user's password.
    pub password: String,
    /// A current code or a recovery code.
    pub code: String,
}

/// A console session of the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginSessionView {
    /// Id.
    pub id: i64,
    /// Logged in.
    pub created_at: DateTime<Utc>,
    /// Last request (to the minute).
    pub last_seen_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
    /// Address at login.
    pub ip: Option<String>,
    /// Browser at login.
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

/// How many sessions ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevokedSessionsView {
    /// Sessions ended.
    pub revoked: u64,
}

/// The account's sign-in rules.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSecurityView {
    /// Every user must use two-factor authentication; users without it
    /// can only set it up.
    pub require_two_factor: bool,
}

/// A console user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Login e-mail.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Languages.
    pub languages: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<User> for AgentView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            name: u.name,
            email: u.email,
            role: u.role,
            languages: u.languages,
            created_at: u.created_at,
        }
    }
}

/// `POST /agents`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    /// Name.
    pub name: String,
    /// Login e-mail.
    pub email: String,
    /// First password (8–128 characters).
    pub password: String,
    /// Role (default agent).
    #[serde(default)]
    pub role: Option<Role>,
    /// Languages the agent answers in.
    #[serde(default)]
    pub languages: Vec<String>,
}

/// `PATCH /agents/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New languages.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
}

/// A team.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Members' ids.
    pub member_ids: Vec<i64>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self {
            id: t.id.0,
            name: t.name,
            description: t.description,
            member_ids: t.member_ids.into_iter().map(|m| m.0).collect(),
        }
    }
}

/// `POST /teams`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// `PUT /teams/{id}/members`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamMembers {
    /// All members.
    pub user_ids: Vec<i64>,
}

/// An inbox.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InboxView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Channel.
    pub channel: ChannelKind,
    /// Settings. Server passwords under `email.imap` and `email.smtp` are
    /// never shown: `password_set` says whether one is stored.
    pub config: InboxConfig,
    /// Where the channel posts inbound messages.
    pub webhook_path: String,
    /// Webhook secret; only shown to owners and admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl InboxView {
    /// The view, with the secret only when `reveal`.
    pub fn new(i: Inbox, reveal: bool) -> Self {
        Self {
            webhook_path: format!("/webhooks/{}/{}", i.channel, i.id),
            id: i.id.0,
            name: i.name,
            channel: i.channel,
            config: i.config.redacted(),
            secret: reveal.then_some(i.secret),
            created_at: i.created_at,
        }
    }
}

/// What `POST /inboxes/{id}/check` found for an e-mail inbox's servers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionCheckView {
    /// The incoming server; absent when none is set (mail then arrives
    /// only through the forwarding webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<ImapCheckView>,
    /// The outgoing server; absent when none is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpCheckView>,
    /// The WhatsApp number and templates (WhatsApp inboxes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<WhatsAppCheckView>,
    /// The bot and its webhook (Telegram inboxes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramCheckView>,
    /// The provider's account (SMS inboxes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsCheckView>,
    /// The page and its subscription (Messenger and Instagram inboxes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<MetaCheckView>,
}

/// Connecting, logging in and opening each folder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImapCheckView {
    /// Everything worked.
    pub ok: bool,
    /// What failed, in words a seller can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The server offers IDLE (new mail arrives at once; otherwise it is
    /// polled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<bool>,
    /// Messages in the folders read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
}

/// Connecting and logging in to the outgoing server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SmtpCheckView {
    /// Everything worked.
    pub ok: bool,
    /// What failed, in words a seller can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /inboxes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    /// Name.
    pub name: String,
    /// Channel.
    pub channel: ChannelKind,
    /// Settings.
    #[serde(default)]
    pub config: InboxConfig,
}

/// `PATCH /inboxes/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInbox {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New settings (replace all, except that a server section of
    /// `email.imap` / `email.smtp` without `password` keeps the stored
    /// password; an empty one clears it).
    #[serde(default)]
    pub config: Option<InboxConfig>,
}

/// A canned response: a saved answer the account's agents share.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CannedResponseView {
    /// Id.
    pub id: i64,
    /// What agents type after `/` to find it.
    pub short_code: String,
    /// The text, with `{{contact.name}}`-style variables.
    pub content: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<CannedResponse> for CannedResponseView {
    fn from(c: CannedResponse) -> Self {
        Self {
            id: c.id.0,
            short_code: c.short_code,
            content: c.content,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `POST /canned_responses`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCannedResponse {
    /// 1 to 64 letters, digits, `-` or `_`; unique in the account.
    pub short_code: String,
    /// 1 to 10 000 characters.
    pub content: String,
}

/// `PATCH /canned_responses/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCannedResponse {
    /// New short code.
    #[serde(default)]
    pub short_code: Option<String>,
    /// New text.
    #[serde(default)]
    pub content: Option<String>,
}

/// A contact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Primary e-mail.
    pub email: Option<String>,
    /// Primary phone (E.164).
    pub phone: Option<String>,
    /// Country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// Language (BCP 47).
    pub language: Option<String>,
    /// Time zone (IANA).
    pub timezone: Option<String>,
    /// VIP.
    pub vip: bool,
    /// Custom attributes.
    #[schema(value_type = Object)]
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// Channel identities.
    pub identities: Vec<Identity>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
    /// What Ferry derives about the contact (in the contact API's answers;
    /// absent in live events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ContactProfileView>,
}

/// A contact's derived attributes and automatic tags.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactProfileView {
    /// Country: the contact's own, else the latest order's shipping country.
    pub country: Option<String>,
    /// Language: the contact's own, else the one of most of their conversations.
    pub language: Option<String>,
    /// VIP by hand or by the account's order thresholds.
    pub vip: bool,
    /// Whether the orders make them a VIP.
    pub vip_by_orders: bool,
    /// Orders in the shop mirror.
    pub order_count: i64,
    /// Their total in minor units.
    pub spent_minor: i64,
    /// The latest order's date.
    pub last_order_at: Option<DateTime<Utc>>,
    /// SKUs ordered.
    pub skus: Vec<String>,
    /// Most frequent intents of their conversations, most first.
    pub topics: Vec<String>,
    /// Their last satisfaction rating.
    pub last_csat: Option<u8>,
    /// When they gave it.
    pub last_csat_at: Option<DateTime<Utc>>,
    /// Automatic tags (`vip`, `repeat-buyer`, `country:DE`, `topic:returns` …).
    pub auto_tags: Vec<String>,
}

impl From<ContactProfile> for ContactProfileView {
    fn from(p: ContactProfile) -> Self {
        Self {
            auto_tags: p.auto_tags(),
            country: p.country,
            language: p.language,
            vip: p.vip,
            vip_by_orders: p.vip_by_orders,
            order_count: p.order_count,
            spent_minor: p.spent_minor,
            last_order_at: p.last_order_at,
            skus: p.skus,
            topics: p.topics,
            last_csat: p.last_csat,
            last_csat_at: p.last_csat_at,
        }
    }
}

/// A saved segment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SegmentView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Who belongs to it.
    pub filter: SegmentFilter,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// `POST /segments`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSegment {
    /// 1 to 100 characters, unique in the account.
    pub name: String,
    /// Who belongs to it.
    #[serde(default)]
    pub filter: SegmentFilter,
}

/// `PATCH /segments/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSegment {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New filter.
    #[serde(default)]
    pub filter: Option<SegmentFilter>,
}

/// `POST /segments/preview`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewSegment {
    /// The filter to size.
    #[serde(default)]
    pub filter: SegmentFilter,
}

/// One group of an audience.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AudienceGroup {
    /// Language or identity kind (`null`: language unknown).
    pub key: Option<String>,
    /// Contacts.
    pub contacts: u64,
}

/// How many contacts a filter reaches.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AudienceView {
    /// Contacts matched.
    pub total: u64,
    /// By language, most first.
    pub by_language: Vec<AudienceGroup>,
    /// By identity kind they can be reached on, most first (a contact
    /// with several counts in each).
    pub by_channel: Vec<AudienceGroup>,
}

/// The account's VIP thresholds (0 turns a rule off).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VipRulesView {
    /// Orders that make a buyer a VIP.
    pub min_orders: i64,
    /// Total spend (minor units) that makes a buyer a VIP.
    pub min_spent_minor: i64,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id.0,
            name: c.name,
            email: c.email,
            phone: c.phone,
            country: c.country,
            language: c.language,
            timezone: c.timezone,
            vip: c.vip,
            custom_attributes: c.custom_attributes,
            tags: c.tags,
            identities: c.identities,
            created_at: c.created_at,
            updated_at: c.updated_at,
            profile: None,
        }
    }
}

/// An identity in a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    /// Kind (`email`, `phone`, `whatsapp`, `amazon`).
    pub kind: IdentityKind,
    /// Value.
    pub value: String,
}

/// `POST /contacts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone, international format.
    #[serde(default)]
    pub phone: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
    /// Language.
    #[serde(default)]
    pub language: Option<String>,
    /// Time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// VIP.
    #[serde(default)]
    pub vip: bool,
    /// Custom attributes.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// More identities.
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
}

/// `PATCH /contacts/{id}`; absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Country.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    /// Language.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    /// Time zone.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    /// VIP.
    #[serde(default)]
    pub vip: Option<bool>,
    /// Attributes merged in (`null` values remove keys).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Replacement tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// E-mail to add.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone to add.
    #[serde(default)]
    pub phone: Option<String>,
    /// Identities to add.
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
}

/// Distinguishes an absent field from an explicit `null`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises the inner option.
    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    /// `null` becomes `Some(None)`.
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Page of contacts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactList {
    /// Contacts, newest first.
    pub data: Vec<ContactView>,
    /// Pass as `before` for the next page.
    pub next_before: Option<i64>,
}

/// A conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// Id.
    pub id: i64,
    /// Inbox.
    pub inbox_id: i64,
    /// Buyer.
    pub contact_id: i64,
    /// Status.
    pub status: Status,
    /// Assigned agent.
    pub assignee_id: Option<i64>,
    /// Team.
    pub team_id: Option<i64>,
    /// Priority.
    pub priority: Priority,
    /// Buyer's language.
    pub language: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Wakes up at.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// Why the bot handed it over.
    pub handoff_reason: Option<String>,
    /// Buyer's last message.
    pub last_buyer_message_at: Option<DateTime<Utc>>,
    /// First agent reply.
    pub first_reply_at: Option<DateTime<Utc>>,
    /// Resolved at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Last activity.
    pub last_activity_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id.0,
            inbox_id: c.inbox_id.0,
            contact_id: c.contact_id.0,
            status: c.status,
            assignee_id: c.assignee_id.map(|x| x.0),
            team_id: c.team_id.map(|x| x.0),
            priority: c.priority,
            language: c.language,
            tags: c.tags,
            snoozed_until: c.snoozed_until,
            handoff_reason: c.handoff_reason,
            last_buyer_message_at: c.last_buyer_message_at,
            first_reply_at: c.first_reply_at,
            resolved_at: c.resolved_at,
            last_activity_at: c.last_activity_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A page of conversations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    /// Conversations, most recent activity first.
    pub data: Vec<ConversationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Conversations per status.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ConversationCounts {
    /// With an agent, waiting.
    pub open: u64,
    /// Waiting for the buyer.
    pub pending: u64,
    /// Snoozed.
    pub snoozed: u64,
    /// Resolved.
    pub resolved: u64,
    /// With the bot.
    pub bot: u64,
    /// All of them.
    pub all: u64,
}

/// `POST /conversations/{id}/assignments`: absent fields stay, `null`
/// removes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// Agent.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// Team.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
}

/// `POST /conversations/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// New status.
    pub status: Status,
    /// For `snoozed`: until when.
    #[serde(default)]
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// `POST /conversations/{id}/priority`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityRequest {
    /// New priority.
    pub priority: Priority,
}

/// `PUT /conversations/{id}/tags`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    /// All tags.
    pub tags: Vec<String>,
}

/// A tag in use.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagView {
    /// Tag.
    pub tag: String,
    /// Conversations with it.
    pub conversations: u64,
}

/// A message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    /// Id.
    pub id: i64,
    /// Conversation.
    pub conversation_id: i64,
    /// Inbox.
    pub inbox_id: i64,
    /// Incoming, outgoing, note or activity.
    pub kind: MessageKind,
    /// Who wrote it.
    pub sender: Sender,
    /// Content.
    pub parts: Vec<ContentPart>,
    /// All text.
    pub text: String,
    /// The channel's id.
    pub external_id: Option<String>,
    /// Delivery status of outgoing messages.
    pub delivery: Option<DeliveryStatus>,
    /// Sent.
    pub sent_at: DateTime<Utc>,
    /// Stored.
    pub created_at: DateTime<Utc>,
    /// Reactions, edits, the message it quotes, the ad the buyer came
    /// from, billing.
    #[serde(default, skip_serializing_if = "MessageMeta::is_empty")]
    pub meta: MessageMeta,
}

/// A page of outgoing messages waiting for delivery or failed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryPage {
    /// The messages, newest first.
    pub items: Vec<MessageView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            text: m.text(),
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            inbox_id: m.inbox_id.0,
            kind: m.kind,
            sender: m.sender,
            parts: m.parts,
            external_id: m.external_id,
            delivery: m.delivery,
            sent_at: m.sent_at,
            created_at: m.created_at,
            meta: *m.meta,
        }
    }
}

/// `POST /conversations/{id}/messages`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// Text.
    #[serde(default)]
    pub content: Option<String>,
    /// Further parts (images, buttons).
    #[serde(default)]
    pub parts: Vec<ContentPart>,
    /// A private note for agents instead of a reply.
    #[serde(default)]
    pub private: bool,
    /// For e-mail conversations: recipients and subject of the reply.
    #[serde(default)]
    pub email: Option<ReplyEmail>,
    /// For WhatsApp conversations: an approved template to send (the only
    /// kind of message WhatsApp takes 24 hours after the buyer's last one).
    #[serde(default)]
    pub template: Option<TemplateRequest>,
    /// When `content` is a translation: what the agent wrote, in their
    /// language (kept on the message beside what was sent).
    #[serde(default)]
    pub written_as: Option<WrittenAs>,
}

/// A WhatsApp template to send, with its parameter values; values may
/// hold `{{contact.name}}`, `{{order.number}}` and `{{order.tracking_url}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    /// The template's name.
    pub name: String,
    /// Its language code (`en_US`).
    pub language: String,
    /// Header parameter values, in order.
    #[serde(default)]
    pub header: Vec<String>,
    /// Body parameter values, in order.
    #[serde(default)]
    pub body: Vec<String>,
    /// Button parameter values.
    #[serde(default)]
    pub buttons: Vec<ferry_core::message::TemplateButtonValue>,
}

/// A WhatsApp message template of an inbox, as synced from Meta.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhatsAppTemplateView {
    /// Meta's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`…
    pub status: String,
    /// Quality rating, when Meta gives one.
    pub quality: Option<String>,
    /// Header text with `{{n}}` placeholders.
    pub header: Option<String>,
    /// Body text with `{{n}}` placeholders.
    pub body: String,
    /// Footer text.
    pub footer: Option<String>,
    /// Buttons.
    pub buttons: Vec<WhatsAppTemplateButton>,
    /// How many header values a send needs.
    pub header_parameters: usize,
    /// How many body values a send needs.
    pub body_parameters: usize,
    /// The buttons that need a value.
    pub button_parameters: Vec<WhatsAppButtonParameter>,
}

/// A template button.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhatsAppTemplateButton {
    /// `QUICK_REPLY`, `URL`, `PHONE_NUMBER`…
    pub kind: String,
    /// Label.
    pub text: String,
    /// A URL button's URL.
    pub url: Option<String>,
}

/// A template button that needs a value when sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhatsAppButtonParameter {
    /// Its position.
    pub index: u8,
    /// `url` or `quick_reply`.
    pub sub_type: String,
}

/// Whether a read receipt went to the buyer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadReceipt {
    /// False on channels without read receipts, or with nothing to mark.
    pub read: bool,
}

/// An agent's reaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionRequest {
    /// One emoji; empty takes the reaction back.
    pub emoji: String,
}

/// What a WhatsApp webhook delivery changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchAck {
    /// Buyers' messages stored.
    pub messages: usize,
    /// Re-deliveries of messages stored before.
    pub duplicates: usize,
    /// Delivery reports applied.
    pub statuses: usize,
    /// Reactions, edits, deletions and template changes applied.
    pub changes: usize,
    /// Updates acknowledged without effect.
    pub ignored: usize,
}

/// The WhatsApp part of a connection check.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhatsAppCheckView {
    /// Whether Meta accepted the settings.
    pub ok: bool,
    /// What failed.
    pub error: Option<String>,
    /// The number as Meta shows it.
    pub display_phone_number: Option<String>,
    /// The business name WhatsApp verified.
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED`.
    pub quality_rating: Option<String>,
    /// How many templates the account has.
    pub templates: Option<usize>,
}

/// Recipients and subject of an e-mail reply. Without `to`, the reply goes
/// to the buyer; `reply_all` copies everyone the buyer's last mail went to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyEmail {
    /// Recipients instead of the buyer.
    #[serde(default)]
    pub to: Vec<String>,
    /// Copies.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind copies.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Subject (default: `Re:` and the thread's subject).
    #[serde(default)]
    pub subject: Option<String>,
    /// Copy everyone the buyer's last mail was addressed or copied to.
    #[serde(default)]
    pub reply_all: bool,
}

/// `POST …/conversations/{id}/forward`: the conversation sent by e-mail to
/// someone outside (a supplier, a carrier).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardConversation {
    /// Recipients.
    pub to: Vec<String>,
    /// A note above the forwarded messages.
    #[serde(default)]
    pub note: Option<String>,
}

/// What a webhook delivery produced.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookAck {
    /// The stored message (the original on re-delivery).
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// Its contact.
    pub contact_id: i64,
    /// True when this delivery repeated an earlier one.
    pub duplicate: bool,
}

/// Health.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Storage backend.
    pub storage: String,
    /// Version.
    pub version: String,
}

/// An event pushed on `/ws`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WsEvent {
    /// Outbox id; repeats of the same id are the same event.
    pub id: i64,
    /// Account.
    pub account_id: i64,
    /// Committed at.
    pub created_at: DateTime<Utc>,
    /// The event.
    #[serde(flatten)]
    pub payload: WsPayload,
}

/// The event kinds pushed on `/ws`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum WsPayload {
    /// A message, note or activity line was stored.
    MessageCreated(MessageView),
    /// A message's delivery status changed.
    MessageUpdated(MessageView),
    /// A conversation was opened.
    ConversationCreated(ConversationView),
    /// A conversation changed.
    ConversationUpdated(ConversationView),
    /// A contact was created.
    ContactCreated(ContactView),
    /// A contact changed (edited, or merged with another).
    ContactUpdated(ContactView),
    /// A commerce detector raised an alert.
    AlertRaised(AlertRaisedView),
}

/// An alert a commerce detector raised (read it whole at
/// `GET /api/v1/accounts/{account_id}/alerts/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertRaisedView {
    /// Id.
    pub id: i64,
    /// `out_of_stock`, `low_stock`, `late_order`, `carrier_delay` or `defect_rate`.
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// One line for people.
    pub title: String,
}

impl WsEvent {
    /// The frames an outbox event becomes. A received buyer message gives
    /// the conversation's frame (created or updated) and then the message's;
    /// frames of one event share its id, so clients de-duplicate by
    /// (id, event).
    pub fn frames(e: ferry_core::event::EventEnvelope) -> Vec<WsEvent> {
        use ferry_core::event::Event;
        let frame = |payload| WsEvent { id: e.id.0, account_id: e.account_id.0, created_at: e.created_at, payload };
        match e.event {
            Event::MessageCreated { message } => vec![frame(WsPayload::MessageCreated(message.into()))],
            Event::MessageUpdated { message } => vec![frame(WsPayload::MessageUpdated(message.into()))],
            Event::ConversationCreated { conversation } => {
                vec![frame(WsPayload::ConversationCreated(conversation.into()))]
            }
            Event::ConversationUpdated { conversation, .. } => {
                vec![frame(WsPayload::ConversationUpdated(conversation.into()))]
            }
            Event::ContactCreated { contact } => vec![frame(WsPayload::ContactCreated(contact.into()))],
            Event::ContactUpdated { contact } => vec![frame(WsPayload::ContactUpdated(contact.into()))],
            Event::MessageReceived { message, conversation, new_conversation, .. } => {
                let mut out = Vec::with_capacity(2);
                // Even without a status change the conversation moved: its
                // last activity, and the buyer's last message that opens
                // reply windows (WhatsApp's 24 hours).
                if new_conversation {
                    out.push(frame(WsPayload::ConversationCreated(conversation.into())));
                } else {
                    out.push(frame(WsPayload::ConversationUpdated(conversation.into())));
                }
                out.push(frame(WsPayload::MessageCreated(message.into())));
                out
            }
            Event::AlertRaised { alert_id, kind, severity, title } => {
                vec![frame(WsPayload::AlertRaised(AlertRaisedView { id: alert_id.0, kind, severity, title }))]
            }
            // For integrations (outgoing webhooks); the console reads
            // ratings from the conversation.
            Event::CsatReceived { .. } | Event::OrderLinked { .. } => Vec::new(),
        }
    }
}

/// The body of `POST /webhooks/api/{inbox_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiInbound {
    /// The sender's id for the message; re-deliveries repeat it.
    pub external_id: String,
    /// Who sent it.
    pub sender: ApiSender,
    /// Text, if any.
    #[serde(default)]
    pub text: Option<String>,
    /// Files, by URL or inline.
    #[serde(default)]
    pub attachments: Vec<ApiAttachment>,
    /// When it was sent (RFC 3339); now when absent.
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
}

/// The sender of an API message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiSender {
    /// The sender's stable handle in the sending system.
    pub handle: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail, linking the buyer to other channels.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone (international format), linking the buyer to other channels.
    #[serde(default)]
    pub phone: Option<String>,
    /// Language (BCP 47).
    #[serde(default)]
    pub language: Option<String>,
}

/// A file of an API message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiAttachment {
    /// Where the file can be fetched.
    #[serde(default)]
    pub url: Option<String>,
    /// Or the bytes, base64.
    #[serde(default)]
    pub data_base64: Option<String>,
    /// MIME type.
    pub content_type: String,
    /// File name.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A custom role: a name and what its holders may do.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleView {
    /// Id.
    pub id: i64,
    /// Name, unique in the account.
    pub name: String,
    /// What it may do.
    pub permissions: Vec<ferry_core::account::Permission>,
    /// The largest refund in minor units (`null`: no limit; 0: none).
    pub refund_limit_minor: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ferry_core::account::CustomRole> for RoleView {
    fn from(r: ferry_core::account::CustomRole) -> Self {
        Self {
            id: r.id.0,
            name: r.name,
            permissions: r.permissions.allowed,
            refund_limit_minor: r.permissions.refund_limit_minor,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `POST /roles`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    /// 1 to 64 characters, not `owner`, `admin` or `agent`.
    pub name: String,
    /// What it may do.
    #[serde(default)]
    pub permissions: Vec<ferry_core::account::Permission>,
    /// The largest refund in minor units (absent or `null`: no limit).
    #[serde(default)]
    pub refund_limit_minor: Option<i64>,
}

/// `PATCH /roles/{id}`; absent fields stay.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New permissions.
    #[serde(default)]
    pub permissions: Option<Vec<ferry_core::account::Permission>>,
    /// New refund limit (`null`: no limit).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub refund_limit_minor: Option<Option<i64>>,
}

/// `PUT /agents/{id}/custom_role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRole {
    /// The custom role (`null`: back to the built-in role).
    pub custom_role_id: Option<i64>,
}

/// The custom role an agent holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentRoleView {
    /// The agent.
    pub user_id: i64,
    /// Their custom role, if any.
    pub custom_role: Option<RoleView>,
}

/// What the caller may do in the account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionsView {
    /// Built-in role.
    pub role: Role,
    /// Custom role held, if any.
    pub custom_role_id: Option<i64>,
    /// Permissions.
    pub permissions: Vec<ferry_core::account::Permission>,
    /// The largest refund in minor units (`null`: no limit).
    pub refund_limit_minor: Option<i64>,
}

/// How long the account keeps conversations and attachments.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionView {
    /// Conversations idle longer than this many days are deleted (`null`: kept).
    pub conversation_days: Option<u32>,
    /// Attachments of messages older than this many days are deleted (`null`: kept).
    pub attachment_days: Option<u32>,
}

/// An erasure was queued.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErasureView {
    /// The contact.
    pub contact_id: i64,
    /// `queued`: a job erases the contact shortly.
    pub state: String,
}
