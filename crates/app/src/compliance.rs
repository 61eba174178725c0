//! The compliance gate as the use cases see it: which channel's rules a
//! conversation's messages answer to (an e-mail to an Amazon buyer's relay
//! address answers to Amazon's), the draft the pure engine in
//! `ferry_core::compliance` checks, and the check agents run while typing.

use crate::auth::Actor;
use crate::email::EmailSettings;
use crate::{App, AppError, AppResult};
use ferry_core::compliance::{self, AccountRules, AttachmentMeta, Draft, Lang, Report};
use ferry_core::contact::IdentityKind;
use ferry_core::conversation::Conversation;
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{ContentPart, Sender, text_of};
use ferry_core::{AccountId, ConversationId};

/// What an agent asks the gate about before sending.
#[derive(Debug, Clone, Default)]
pub struct ComplianceQuery {
    /// The conversation it would go to (its channel, window and order).
    pub conversation: Option<ConversationId>,
    /// Or a channel to check against without a conversation.
    pub channel: Option<ChannelKind>,
    /// The text.
    pub text: String,
    /// The e-mail subject, if any.
    pub subject: Option<String>,
    /// The files it would carry.
    pub attachments: Vec<AttachmentMeta>,
    /// Sent without a buyer's message to answer (a notice, a campaign).
    pub proactive: bool,
}

/// Whether the inbox is a Messenger or Instagram page allowed to answer
/// with Meta's `HUMAN_AGENT` tag.
pub(crate) fn human_agent_tag(inbox: &Inbox) -> bool {
    ferry_channels::meta::MetaSettings::of(inbox).ok().flatten().is_some_and(|s| s.human_agent)
}

impl App {
    /// The channel whose rules apply to messages of a conversation in
    /// `inbox`: Amazon for Amazon inboxes, e-mail inboxes marked as Amazon's
    /// relay, and buyers known by their Amazon relay address; else the
    /// inbox's own channel.
    pub(crate) async fn rules_channel(&self, inbox: &Inbox, conv: &Conversation) -> AppResult<ChannelKind> {
        match inbox.channel {
            ChannelKind::Amazon => Ok(ChannelKind::Amazon),
            ChannelKind::Email => {
                if EmailSettings::of(inbox).ok().flatten().is_some_and(|s| s.amazon) {
                    return Ok(ChannelKind::Amazon);
                }
                let contact = self.storage.get_contact(inbox.account_id, conv.contact_id).await?;
                let amazon = contact.is_some_and(|c| c.identities.iter().any(|i| i.kind == IdentityKind::Amazon));
                Ok(if amazon { ChannelKind::Amazon } else { ChannelKind::Email })
            }
            other => Ok(other),
        }
    }

    /// The draft of a message with `parts` to `conv`.
    pub(crate) async fn draft_for(
        &self,
        inbox: &Inbox,
        conv: &Conversation,
        parts: &[ContentPart],
        proactive: bool,
    ) -> AppResult<Draft> {
        let channel = self.rules_channel(inbox, conv).await?;
        let mut draft = Draft::new(channel, text_of(parts));
        draft.attachments = parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Image { attachment }
                | ContentPart::File { attachment }
                | ContentPart::Audio { attachment } => Some(AttachmentMeta::from(attachment)),
                _ => None,
            })
            .collect();
        draft.subject = parts.iter().find_map(|p| match p {
            ContentPart::Email { email } if !email.subject.is_empty() => Some(email.subject.clone()),
            _ => None,
        });
        draft.template = parts.iter().find_map(|p| match p {
            ContentPart::Template { template } => {
                Some(compliance::TemplateRef { name: template.name.clone(), language: template.language.clone() })
            }
            _ => None,
        });
        draft.proactive = proactive;
        draft.last_buyer_message_at = conv.last_buyer_message_at;
        // A buyer's STOP on this channel holds for every sender.
        draft.opted_out = self.storage.is_opted_out(inbox.account_id, conv.contact_id, inbox.channel).await?;
        Ok(draft)
    }

    /// Runs the gate on a message about to be stored; a block is
    /// [`AppError::Blocked`] with the whole report.
    pub(crate) async fn gate(
        &self,
        account: AccountId,
        inbox: &Inbox,
        conv: &Conversation,
        parts: &[ContentPart],
        rules: Option<ChannelKind>,
        sender: &Sender,
    ) -> AppResult<Report> {
        let mut draft = self.draft_for(inbox, conv, parts, false).await?;
        // Meta's human agent tag is for people's replies only.
        draft.human_agent = matches!(sender, Sender::User(_)) && human_agent_tag(inbox);
        if let Some(channel) = rules {
            draft.channel = channel;
        }
        let lang = self.account_lang(account).await?;
        let rules = self.account_rules(account).await?;
        let report = compliance::check(&draft, &rules, self.clock.now(), lang);
        if report.is_blocked() {
            tracing::info!(channel = %draft.channel, findings = report.findings.len(), "outgoing message blocked");
            return Err(AppError::Blocked(Box::new(report)));
        }
        Ok(report)
    }

    async fn account_lang(&self, account: AccountId) -> AppResult<Lang> {
        let a = self.storage.get_account(account).await?;
        Ok(a.map_or(Lang::En, |a| Lang::from_tag(&a.default_language)))
    }

    /// What the gate would say about a message, for the composer: the
    /// findings with their spans, explained in the agent's language.
    pub async fn check_compliance(&self, actor: &Actor, account: AccountId, q: ComplianceQuery) -> AppResult<Report> {
        actor.in_account(account)?;
        let mut draft = match q.conversation {
            Some(id) => {
                let conv =
                    self.storage.get_conversation(account, id).await?.ok_or(AppError::NotFound("conversation"))?;
                let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
                let mut draft = self.draft_for(&inbox, &conv, &[], q.proactive).await?;
                // The one asking is a person.
                draft.human_agent = human_agent_tag(&inbox);
                draft
            }
            None => {
                let channel = q.channel.ok_or_else(|| {
                    AppError::invalid("channel", "give a conversation_id or a channel to check against")
                })?;
                Draft::new(channel, String::new())
            }
        };
        draft.text = q.text;
        draft.subject = q.subject.or(draft.subject);
        draft.attachments = q.attachments;
        draft.proactive = q.proactive;
        let lang = match actor.user.languages.first() {
            Some(tag) => Lang::from_tag(tag),
            None => self.account_lang(account).await?,
        };
        let rules = self.account_rules(account).await?;
        Ok(compliance::check(&draft, &rules, self.clock.now(), lang))
    }

    /// The rules the account adds to the gate (none until it sets some).
    pub(crate) async fn account_rules(&self, account: AccountId) -> AppResult<AccountRules> {
        match self.storage.get_compliance_rules(account).await? {
            Some(v) => serde_json::from_value(v).map_err(|e| AppError::internal("reading the compliance rules", e)),
            None => Ok(AccountRules::default()),
        }
    }

    /// The account's own compliance rules.
    pub async fn compliance_rules(&self, actor: &Actor, account: AccountId) -> AppResult<AccountRules> {
        actor.in_account(account)?;
        self.account_rules(account).await
    }

    /// Replaces the account's own rules (owners and admins): phrases it
    /// never wants sent (blocked or warned about on every channel) and hosts
    /// links may point to in Amazon messages. The change is audited.
    pub async fn set_compliance_rules(
        &self,
        actor: &Actor,
        account: AccountId,
        mut rules: AccountRules,
    ) -> AppResult<AccountRules> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        if rules.phrases.len() > 500 || rules.allowed_link_hosts.len() > 100 {
            return Err(AppError::invalid("rules", "at most 500 phrases and 100 hosts"));
        }
        for p in &mut rules.phrases {
            p.phrase = p.phrase.trim().to_owned();
            if p.phrase.is_empty() || p.phrase.chars().count() > 100 || p.phrase.chars().any(char::is_control) {
                return Err(AppError::invalid("phrases", "each phrase has 1 to 100 characters"));
            }
        }
        for h in &mut rules.allowed_link_hosts {
            *h = h
                .trim()
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_ascii_lowercase();
            let ok = h.contains('.')
                && h.len() <= 253
                && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                return Err(AppError::invalid("allowed_link_hosts", format!("{h:?} is not a host name")));
            }
        }
        let value = serde_json::to_value(&rules).map_err(|e| AppError::internal("saving the compliance rules", e))?;
        self.storage.put_compliance_rules(account, value.clone(), self.clock.now()).await?;
        let entry = ferry_storage::NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: "compliance_rules.update".into(),
            target_kind: "account".into(),
            target_id: account.to_string(),
            details: value,
            outcome: ferry_storage::AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(account, entry, self.clock.now()).await {
            tracing::error!(error = %e, "could not write the audit entry");
        }
        Ok(rules)
    }
}
