//! The compliance gate: one pure rule engine every outgoing message passes
//! before it is queued, whoever wrote it (agent, bot, AI, campaign).
//!
//! [`check`] takes a [`Draft`] (channel, text, subject, attachments and the
//! timing facts the rules need), the account's own [`AccountRules`], the
//! current time and the language explanations should be written in, and
//! returns a [`Report`]: a [`Verdict`] and the [`Finding`]s behind it. Each
//! finding names a stable [`RuleId`] (`amazon.external_link`), its
//! [`Severity`], where it is (text, subject, an attachment or the message
//! as a whole), the offending byte range with its excerpt, and an
//! explanation in English or Simplified Chinese.
//!
//! # Rules
//! - **Amazon buyer–seller messages** ([`amazon`]): no links except to
//!   Amazon and the account's allowed hosts, no e-mail addresses or phone
//!   numbers, no promotion, no review manipulation, no opt-out wording,
//!   only Amazon's attachment types up to 10 MB, `[Important]` subjects
//!   flagged, proactive messages only within 30 days of the order.
//! - **WhatsApp**: free-form messages only within 24 hours of the buyer's
//!   last message; a template message may always be sent.
//! - **Messenger and Instagram**: 24 hours, or 7 days with the
//!   `human_agent` tag.
//! - **E-mail**: no executable or script attachments, 25 MB in total.
//! - **SMS**: a warning above three segments.
//! - **Account phrases**: words an account never wants sent, on every
//!   channel, blocking or warning as configured.
//!
//! # Decisions
//! - Phrase rules fold case and Latin accents, respect word boundaries in
//!   spaced scripts (`sale` does not fire in `wholesale`) and need none in
//!   Chinese and Japanese (see [`text`]).
//! - A discount or coupon merely named ("the discount was applied to your
//!   order") is a fact about the buyer's own order as often as it is
//!   marketing, so it is the warning `amazon.discount_mention`; offers,
//!   codes, calls to buy and "our new…" are the block `amazon.promotion`.
//!   A mention in a sentence that is already promotion is not repeated.
//! - Amazon lets a seller ask once, neutrally, for a review or seller
//!   feedback (and offers its own "Request a Review" button for it), so a
//!   neutral request ("please leave a review") is the warning
//!   `amazon.review_request`. Asking for a positive review or five stars,
//!   offering anything for a review, or asking a buyer to change or remove
//!   one is the block `amazon.review_manipulation`. A request in a
//!   sentence that is already manipulation is not repeated. Thanking a
//!   buyer for a review they wrote is not a request.
//! - Links to Amazon's own domains are allowed, as are hosts the account
//!   allows (a carrier's tracking site); sub-domains of an allowed host
//!   are allowed too.
//! - Sizes unknown to the caller are not counted towards size limits.
//! - The proactive window counts from the order date (from the delivery
//!   date only when the order date is unknown). Without either date the
//!   rule cannot be applied and reports nothing: Amazon messages always
//!   belong to an order, so adapters know its date.
//! - Messenger, Instagram and WhatsApp windows with no buyer message at
//!   all are closed: these channels do not let a business start a
//!   conversation with free text.
//!
//! Findings are sorted by where they are: subject first, then text by byte
//! offset, then attachments, then findings about the message as a whole.

pub mod amazon;
pub mod channels;
pub mod detect;
mod explain;
pub mod text;

#[cfg(test)]
mod tests;

use crate::inbox::ChannelKind;
use crate::message::Attachment;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use text::{Folded, Pattern};

/// An outgoing message as it would be sent, with the facts the rules
/// need.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The channel it goes out on.
    pub channel: ChannelKind,
    /// The message text.
    pub text: String,
    /// The e-mail subject (e-mail and Amazon), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Files sent with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentMeta>,
    /// True when the message is not a reply to a buyer's message.
    #[serde(default)]
    pub proactive: bool,
    /// When the order was placed, if the conversation is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_date: Option<DateTime<Utc>>,
    /// When the order was delivered, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<DateTime<Utc>>,
    /// When the buyer last wrote in this conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_buyer_message_at: Option<DateTime<Utc>>,
    /// The approved WhatsApp template this message is sent as, if it is
    /// one; templates may be sent outside the 24-hour window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateRef>,
    /// Sent with Meta's `HUMAN_AGENT` tag (Messenger, Instagram), which
    /// extends the reply window to 7 days for replies written by a person.
    #[serde(default)]
    pub human_agent: bool,
    /// The buyer asked this channel to stop (an SMS STOP) and has not
    /// opted back in.
    #[serde(default)]
    pub opted_out: bool,
}

impl Draft {
    /// A plain reply with only a channel and text.
    pub fn new(channel: ChannelKind, text: impl Into<String>) -> Self {
        Self {
            channel,
            text: text.into(),
            subject: None,
            attachments: Vec::new(),
            proactive: false,
            order_date: None,
            delivery_date: None,
            last_buyer_message_at: None,
            template: None,
            human_agent: false,
            opted_out: false,
        }
    }
}

/// An approved message template (WhatsApp).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRef {
    /// The template's name at the provider.
    pub name: String,
    /// Its language code (`en_US`, `de`).
    pub language: String,
}

/// What the rules need to know about an attached file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    /// Declared MIME type.
    pub content_type: String,
    /// File name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Size in bytes, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl AttachmentMeta {
    /// The file name's extension, lower-cased, if it has one.
    pub fn extension(&self) -> Option<String> {
        let name = self.file_name.as_deref()?.trim().trim_end_matches('.');
        let (stem, ext) = name.rsplit_once('.')?;
        (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_lowercase())
    }

    /// The MIME type without parameters, lower-cased.
    pub fn mime(&self) -> String {
        self.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
    }
}

impl From<&Attachment> for AttachmentMeta {
    fn from(a: &Attachment) -> Self {
        Self { content_type: a.content_type.clone(), file_name: a.filename.clone(), size: a.size }
    }
}

/// An account's own compliance settings.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountRules {
    /// Words and phrases the account never wants sent.
    pub phrases: Vec<AccountPhrase>,
    /// Hosts links may point to on Amazon besides Amazon's own (e.g. a
    /// carrier's tracking site); their sub-domains are allowed too.
    pub allowed_link_hosts: Vec<String>,
}

/// A phrase an account never wants sent, matched like the built-in phrase
/// rules (case, accents and word boundaries) but taken literally.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPhrase {
    /// The phrase.
    pub phrase: String,
    /// Whether it blocks the message or only warns.
    pub severity: Severity,
}

/// How serious a finding is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The message may be sent; the agent should look again.
    Warn,
    /// The message must not be sent.
    Block,
}

/// The outcome of a check.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing found.
    Allow,
    /// Only warnings: the message may be sent.
    AllowWithWarnings,
    /// At least one blocking finding: the message must not be sent.
    Block,
}

/// The language explanations are written in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// English (also the fallback).
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The language for a BCP 47 tag such as `zh-CN` or `en_GB`; English
    /// when there is no translation.
    pub fn from_tag(tag: &str) -> Self {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") { Lang::Zh } else { Lang::En }
    }
}

/// A stable rule identifier. The API and the console use its string form
/// (`amazon.external_link`) as the key to translate and filter by.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RuleId {
    /// A link to a site other than Amazon or an allowed host.
    #[serde(rename = "amazon.external_link")]
    AmazonExternalLink,
    /// An e-mail address.
    #[serde(rename = "amazon.email_address")]
    AmazonEmailAddress,
    /// A phone number.
    #[serde(rename = "amazon.phone_number")]
    AmazonPhoneNumber,
    /// Marketing or promotional language.
    #[serde(rename = "amazon.promotion")]
    AmazonPromotion,
    /// A discount or coupon named, perhaps as a fact about the order.
    #[serde(rename = "amazon.discount_mention")]
    AmazonDiscountMention,
    /// A neutral request for a review or seller feedback.
    #[serde(rename = "amazon.review_request")]
    AmazonReviewRequest,
    /// Asking for a positive review, offering something for one, or asking
    /// to change or remove one.
    #[serde(rename = "amazon.review_manipulation")]
    AmazonReviewManipulation,
    /// Opt-out wording (Amazon manages opt-outs itself).
    #[serde(rename = "amazon.opt_out")]
    AmazonOptOut,
    /// An `[Important]` subject.
    #[serde(rename = "amazon.important_subject")]
    AmazonImportantSubject,
    /// An attachment of a type Amazon does not accept.
    #[serde(rename = "amazon.attachment_type")]
    AmazonAttachmentType,
    /// Attachments over Amazon's size limit.
    #[serde(rename = "amazon.attachment_size")]
    AmazonAttachmentSize,
    /// A proactive message too long after the order.
    #[serde(rename = "amazon.proactive_window")]
    AmazonProactiveWindow,
    /// A free-form WhatsApp message outside the 24-hour window.
    #[serde(rename = "whatsapp.window_closed")]
    WhatsappWindowClosed,
    /// A Messenger message outside its window.
    #[serde(rename = "messenger.window_closed")]
    MessengerWindowClosed,
    /// An Instagram message outside its window.
    #[serde(rename = "instagram.window_closed")]
    InstagramWindowClosed,
    /// An executable or script attached to an e-mail.
    #[serde(rename = "email.attachment_type")]
    EmailAttachmentType,
    /// E-mail attachments over the size limit.
    #[serde(rename = "email.attachment_size")]
    EmailAttachmentSize,
    /// An SMS longer than the segment limit.
    #[serde(rename = "sms.segments")]
    SmsSegments,
    /// A phrase the account never wants sent.
    #[serde(rename = "account.phrase")]
    AccountPhrase,
    /// The buyer asked this channel to stop (an SMS STOP): nothing may be
    /// sent to them on it until they opt back in.
    #[serde(rename = "contact.opted_out")]
    ContactOptedOut,
}

impl RuleId {
    /// Every rule.
    pub const ALL: [RuleId; 20] = [
        RuleId::AmazonExternalLink,
        RuleId::AmazonEmailAddress,
        RuleId::AmazonPhoneNumber,
        RuleId::AmazonPromotion,
        RuleId::AmazonDiscountMention,
        RuleId::AmazonReviewRequest,
        RuleId::AmazonReviewManipulation,
        RuleId::AmazonOptOut,
        RuleId::AmazonImportantSubject,
        RuleId::AmazonAttachmentType,
        RuleId::AmazonAttachmentSize,
        RuleId::AmazonProactiveWindow,
        RuleId::WhatsappWindowClosed,
        RuleId::MessengerWindowClosed,
        RuleId::InstagramWindowClosed,
        RuleId::EmailAttachmentType,
        RuleId::EmailAttachmentSize,
        RuleId::SmsSegments,
        RuleId::AccountPhrase,
        RuleId::ContactOptedOut,
    ];

    /// The stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::AmazonExternalLink => "amazon.external_link",
            RuleId::AmazonEmailAddress => "amazon.email_address",
            RuleId::AmazonPhoneNumber => "amazon.phone_number",
            RuleId::AmazonPromotion => "amazon.promotion",
            RuleId::AmazonDiscountMention => "amazon.discount_mention",
            RuleId::AmazonReviewRequest => "amazon.review_request",
            RuleId::AmazonReviewManipulation => "amazon.review_manipulation",
            RuleId::AmazonOptOut => "amazon.opt_out",
            RuleId::AmazonImportantSubject => "amazon.important_subject",
            RuleId::AmazonAttachmentType => "amazon.attachment_type",
            RuleId::AmazonAttachmentSize => "amazon.attachment_size",
            RuleId::AmazonProactiveWindow => "amazon.proactive_window",
            RuleId::WhatsappWindowClosed => "whatsapp.window_closed",
            RuleId::MessengerWindowClosed => "messenger.window_closed",
            RuleId::InstagramWindowClosed => "instagram.window_closed",
            RuleId::EmailAttachmentType => "email.attachment_type",
            RuleId::EmailAttachmentSize => "email.attachment_size",
            RuleId::SmsSegments => "sms.segments",
            RuleId::ContactOptedOut => "contact.opted_out",
            RuleId::AccountPhrase => "account.phrase",
        }
    }

    /// The severity of the rule's findings. Account phrases carry the
    /// severity the account configured instead.
    pub fn severity(self) -> Severity {
        match self {
            RuleId::AmazonDiscountMention
            | RuleId::AmazonReviewRequest
            | RuleId::AmazonImportantSubject
            | RuleId::SmsSegments => Severity::Warn,
            _ => Severity::Block,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the draft a finding is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Location {
    /// The subject; the span is into the subject.
    Subject,
    /// The text; the span is into the text.
    Text,
    /// One attachment, by its index in the draft.
    Attachment {
        /// Index into [`Draft::attachments`].
        index: usize,
    },
    /// The message as a whole (timing, total sizes).
    Message,
}

/// The offending part of the subject or text.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First byte (a character boundary).
    pub start: usize,
    /// One past the last byte (a character boundary).
    pub end: usize,
    /// The text of `start..end`.
    pub excerpt: String,
}

impl Span {
    /// The span `start..end` of `text`, if those are character boundaries
    /// of it in order.
    pub fn of(text: &str, start: usize, end: usize) -> Option<Self> {
        let excerpt = text.get(start..end)?;
        Some(Self { start, end, excerpt: excerpt.to_owned() })
    }
}

/// One problem found in a draft.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// Whether it blocks.
    pub severity: Severity,
    /// Where it is.
    pub location: Location,
    /// The offending part of the subject or text, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// What is wrong, for the agent, in the requested language.
    pub explanation: String,
}

/// The result of checking a draft.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Allow, allow with warnings, or block.
    pub verdict: Verdict,
    /// The findings, subject first, then by position in the text.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Builds a report from findings: sorts them and derives the verdict.
    pub fn from_findings(mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| {
            let key = |f: &Finding| (f.location, f.span.as_ref().map_or((0, 0), |s| (s.start, s.end)), f.rule);
            key(a).cmp(&key(b))
        });
        let verdict = if findings.iter().any(|f| f.severity == Severity::Block) {
            Verdict::Block
        } else if findings.is_empty() {
            Verdict::Allow
        } else {
            Verdict::AllowWithWarnings
        };
        Self { verdict, findings }
    }

    /// Whether the message must not be sent.
    pub fn is_blocked(&self) -> bool {
        self.verdict == Verdict::Block
    }
}

/// Checks an outgoing message against the rules of its channel and the
/// account's own rules.
pub fn check(draft: &Draft, account: &AccountRules, now: DateTime<Utc>, lang: Lang) -> Report {
    let mut findings = Vec::new();
    let text = Folded::new(&draft.text);
    let subject = draft.subject.as_deref().map(|s| (s, Folded::new(s)));
    match draft.channel {
        ChannelKind::Amazon => {
            findings.extend(amazon::check_text(&draft.text, &text, Location::Text, account, lang));
            if let Some((raw, folded)) = &subject {
                findings.extend(amazon::check_text(raw, folded, Location::Subject, account, lang));
                findings.extend(amazon::check_subject(raw, folded, lang));
            }
            findings.extend(amazon::check_attachments(&draft.attachments, lang));
            findings.extend(amazon::check_proactive_window(draft, now, lang));
        }
        ChannelKind::Whatsapp => findings.extend(channels::check_whatsapp_window(draft, now, lang)),
        ChannelKind::Messenger | ChannelKind::Instagram => {
            findings.extend(channels::check_meta_window(draft, now, lang));
        }
        ChannelKind::Email => findings.extend(channels::check_email_attachments(&draft.attachments, lang)),
        ChannelKind::Sms => findings.extend(channels::check_sms_segments(&draft.text, lang)),
        ChannelKind::Api | ChannelKind::WebWidget | ChannelKind::Telegram | ChannelKind::Phone => {}
    }
    if draft.opted_out {
        findings.push(finding(
            RuleId::ContactOptedOut,
            Location::Message,
            None,
            explain::plain(RuleId::ContactOptedOut, lang),
        ));
    }
    findings.extend(check_account_phrases(&draft.text, &text, Location::Text, account, lang));
    if let Some((raw, folded)) = &subject {
        findings.extend(check_account_phrases(raw, folded, Location::Subject, account, lang));
    }
    Report::from_findings(findings)
}

/// Findings for the phrases an account never wants sent.
fn check_account_phrases(
    raw: &str,
    folded: &Folded,
    location: Location,
    account: &AccountRules,
    lang: Lang,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for phrase in &account.phrases {
        let pattern = Pattern::literal(&phrase.phrase);
        for (a, b) in pattern.find_all(folded) {
            let (start, end) = folded.byte_range(a, b);
            findings.push(Finding {
                rule: RuleId::AccountPhrase,
                severity: phrase.severity,
                location,
                span: Span::of(raw, start, end),
                explanation: explain::account_phrase(lang, phrase.severity),
            });
        }
    }
    findings
}

/// A finding of a rule with its default severity.
fn finding(rule: RuleId, location: Location, span: Option<Span>, explanation: String) -> Finding {
    Finding { rule, severity: rule.severity(), location, span, explanation }
}
