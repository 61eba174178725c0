//! Reports: figures over conversations for a range of local days, grouped
//! by day, week or month and broken down by a dimension, each number
//! traceable to the conversations behind it. Figures are added up from
//! daily rollups (a row per day and value, however many conversations);
//! the conversations behind a number are read from their facts. The
//! rebuild recomputes every conversation's facts and the rollups from its
//! messages and history.
//!
//! Business hours also drive the out-of-office reply: a buyer writing to
//! an inbox while it is closed gets the inbox's text in their language,
//! once per closed period and conversation.
//!
//! Roles: owners and admins read reports and set the account's time zone.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::NaiveDate;
use ferry_core::AccountId;
use ferry_core::conversation::Status;
use ferry_core::inbox::Inbox;
use ferry_core::insights::{
    AgentLine, Dimension, Granularity, HandoffLine, Metric, OverviewLine, Range, agents_of_rollups, day_date,
    day_number, drill_down, handoffs_of_rollups, local_day, overview_of_rollups, parse_timezone,
};
use ferry_core::message::{ContentPart, MessageKind, Sender};
use ferry_storage::{InsightQuery, IntakeOutcome};
use std::collections::HashMap;

/// Longest range a report covers, in days.
pub const MAX_RANGE_DAYS: i64 = 1100;

/// Conversations a rebuild recomputes per transaction.
const REBUILD_BATCH: u32 = 500;

/// What a report covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportParams {
    /// First local day (default: 29 days before `until`).
    pub from: Option<NaiveDate>,
    /// Last local day (default: today in the account's time zone).
    pub until: Option<NaiveDate>,
    /// Time buckets.
    pub group_by: Option<Granularity>,
    /// Breakdown.
    pub by: Option<Dimension>,
}

/// A report's lines and what they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<T> {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub until: NaiveDate,
    /// The time zone of the days.
    pub timezone: String,
    /// The lines.
    pub lines: Vec<T>,
}

/// The conversations behind one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillDown {
    /// How many there are.
    pub total: u64,
    /// The first `limit` of their ids, ascending.
    pub conversation_ids: Vec<i64>,
}

/// The number to drill into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillTarget {
    /// The metric.
    pub metric: Metric,
    /// The bucket's label (all buckets when `None`).
    pub bucket: Option<String>,
    /// The breakdown's value (all values when `None`).
    pub key: Option<String>,
    /// Most ids returned.
    pub limit: u32,
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildSummary {
    /// Accounts rebuilt.
    pub accounts: u64,
    /// Conversations whose facts were recomputed.
    pub conversations: u64,
    /// Contacts whose profiles were recomputed.
    pub contacts: u64,
}

fn report<T>(range: &Range, timezone: String, lines: Vec<T>) -> Report<T> {
    Report { from: day_date(range.from), until: day_date(range.until), timezone, lines }
}

pub(crate) fn can_read_reports(actor: &Actor, account: AccountId) -> AppResult<()> {
    actor.in_account(account)?;
    actor.can_read_reports()
}

impl App {
    /// The account's time zone for reports.
    pub(crate) async fn report_timezone(&self, account: AccountId) -> AppResult<chrono_tz::Tz> {
        let name = self.storage.account_timezone(account).await?.ok_or(AppError::NotFound("account"))?;
        Ok(parse_timezone(&name).unwrap_or(chrono_tz::UTC))
    }

    /// The local days a report covers, and their time zone.
    pub(crate) async fn report_range(&self, account: AccountId, p: &ReportParams) -> AppResult<(Range, String)> {
        let tz = self.report_timezone(account).await?;
        let until = match p.until {
            Some(d) => day_number(d),
            None => local_day(self.clock.now(), tz),
        };
        let from = match p.from {
            Some(d) => day_number(d),
            None => until - 29,
        };
        if from > until {
            return Err(AppError::invalid("from", "from must not be after until"));
        }
        if until - from >= MAX_RANGE_DAYS {
            return Err(AppError::invalid("from", format!("a report covers at most {MAX_RANGE_DAYS} days")));
        }
        Ok((Range { from, until, group_by: p.group_by }, tz.name().to_owned()))
    }

    /// Display names of the values of a dimension that are ids.
    async fn labels(&self, account: AccountId, by: Option<Dimension>) -> AppResult<HashMap<String, String>> {
        Ok(match by {
            Some(Dimension::Inbox) => {
                self.storage.list_inboxes(account).await?.into_iter().map(|i| (i.id.0.to_string(), i.name)).collect()
            }
            Some(Dimension::Team) => {
                self.storage.list_teams(account).await?.into_iter().map(|t| (t.id.0.to_string(), t.name)).collect()
            }
            Some(Dimension::Agent | Dimension::Replier) => {
                self.storage.list_users(account).await?.into_iter().map(|u| (u.id.0.to_string(), u.name)).collect()
            }
            _ => HashMap::new(),
        })
    }

    /// The overview: opened, resolved, reopened, containment, hand-offs,
    /// replies, response and resolution times and backlog per bucket and
    /// value.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn report_overview(
        &self,
        actor: &Actor,
        account: AccountId,
        params: ReportParams,
    ) -> AppResult<Report<OverviewLine>> {
        can_read_reports(actor, account)?;
        let (range, timezone) = self.report_range(account, &params).await?;
        let q = InsightQuery { from: range.from, until: range.until, by: params.by };
        let rows = self.storage.rollup_rows(account, q, true).await?;
        let mut lines = overview_of_rollups(&rows, &range);
        let labels = self.labels(account, params.by).await?;
        for l in &mut lines {
            l.label = l.key.as_ref().and_then(|k| labels.get(k).cloned());
        }
        Ok(report(&range, timezone, lines))
    }

    /// Per agent: conversations handled, replies, first response and
    /// resolution times.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn report_agents(
        &self,
        actor: &Actor,
        account: AccountId,
        params: ReportParams,
    ) -> AppResult<Report<AgentLine>> {
        can_read_reports(actor, account)?;
        let (range, timezone) = self.report_range(account, &params).await?;
        let q = |by| InsightQuery { from: range.from, until: range.until, by: Some(by) };
        let replied = self.storage.rollup_rows(account, q(Dimension::Replier), false).await?;
        let assigned = self.storage.rollup_rows(account, q(Dimension::Agent), false).await?;
        let mut lines = agents_of_rollups(&replied, &assigned, &range);
        let labels = self.labels(account, Some(Dimension::Agent)).await?;
        for l in &mut lines {
            l.name = labels.get(&l.agent_id.to_string()).cloned();
        }
        Ok(report(&range, timezone, lines))
    }

    /// Hand-offs by reason.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn report_handoffs(
        &self,
        actor: &Actor,
        account: AccountId,
        params: ReportParams,
    ) -> AppResult<Report<HandoffLine>> {
        can_read_reports(actor, account)?;
        let (range, timezone) = self.report_range(account, &params).await?;
        let q = InsightQuery { from: range.from, until: range.until, by: Some(Dimension::HandoffReason) };
        let lines = handoffs_of_rollups(&self.storage.rollup_rows(account, q, false).await?, &range);
        Ok(report(&range, timezone, lines))
    }

    /// The conversations behind a number of the overview.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn report_conversations(
        &self,
        actor: &Actor,
        account: AccountId,
        params: ReportParams,
        target: DrillTarget,
    ) -> AppResult<DrillDown> {
        can_read_reports(actor, account)?;
        let (range, _) = self.report_range(account, &params).await?;
        let rows = self
            .storage
            .insight_rows(account, InsightQuery { from: range.from, until: range.until, by: params.by })
            .await?;
        let ids = drill_down(&rows, &range, target.metric, target.bucket.as_deref(), target.key.as_deref());
        let limit = target.limit as usize;
        Ok(DrillDown { total: ids.len() as u64, conversation_ids: ids.into_iter().take(limit).collect() })
    }

    /// Sets the account's time zone for reports and recomputes its facts
    /// (their days follow it).
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn set_report_timezone(&self, actor: &Actor, account: AccountId, timezone: &str) -> AppResult<String> {
        can_read_reports(actor, account)?;
        let tz = parse_timezone(timezone).map_err(|e| AppError::invalid("timezone", e.to_string()))?;
        self.storage.set_account_timezone(account, tz.name(), self.clock.now()).await?;
        self.rebuild_account_insights(account).await?;
        Ok(tz.name().to_owned())
    }

    /// The account's time zone for reports.
    pub async fn get_report_timezone(&self, actor: &Actor, account: AccountId) -> AppResult<String> {
        can_read_reports(actor, account)?;
        Ok(self.report_timezone(account).await?.name().to_owned())
    }

    /// Recomputes the facts of every conversation of the account from its
    /// messages and history; returns how many.
    pub async fn rebuild_account_insights(&self, account: AccountId) -> AppResult<u64> {
        let mut after = None;
        let mut n = 0;
        loop {
            let ids = self.storage.conversation_ids(account, after, REBUILD_BATCH).await?;
            let Some(last) = ids.last().copied() else { break };
            n += ids.len() as u64;
            self.storage.refresh_facts(account, ids, self.clock.now()).await?;
            after = Some(last);
        }
        Ok(n)
    }

    /// Recomputes the facts of one account, or of all (`ferry insights
    /// rebuild`), from scratch.
    #[tracing::instrument(skip_all)]
    pub async fn rebuild_insights(&self, account: Option<AccountId>) -> AppResult<RebuildSummary> {
        let accounts = match account {
            Some(a) => vec![a],
            None => self.storage.account_ids().await?,
        };
        let mut out = RebuildSummary::default();
        for a in accounts {
            self.storage.clear_facts(a).await?;
            out.conversations += self.rebuild_account_insights(a).await?;
            self.storage.rollups_built(a, self.clock.now()).await?;
            out.contacts += self.rebuild_account_profiles(a).await?;
            out.accounts += 1;
        }
        Ok(out)
    }

    /// Rebuilds the insights of the accounts whose facts were written
    /// before the daily rollups existed (once, in the background of
    /// `ferry serve`); live writes meanwhile stay consistent, since each
    /// moves the rollups by the change of its own facts.
    #[tracing::instrument(skip_all)]
    pub async fn fill_pending_rollups(&self) -> AppResult<RebuildSummary> {
        let mut out = RebuildSummary::default();
        for a in self.storage.accounts_pending_rollups().await? {
            let done = self.rebuild_insights(Some(a)).await?;
            out.accounts += done.accounts;
            out.conversations += done.conversations;
        }
        Ok(out)
    }

    /// Sends the inbox's out-of-office reply when the buyer's message came
    /// while the inbox is closed, unless the bot is answering or one went
    /// out in this closed period already. The reply is Ferry's own
    /// (`Sender::System`), through the compliance gate and the delivery
    /// engine like any other.
    #[tracing::instrument(skip_all, fields(conversation_id = %outcome.conversation.id))]
    pub(crate) async fn reply_out_of_office(&self, inbox: &Inbox, outcome: &IntakeOutcome) -> AppResult<bool> {
        let conv = &outcome.conversation;
        if outcome.duplicate || conv.status == Status::Bot || outcome.message.kind != MessageKind::Incoming {
            return Ok(false);
        }
        let Some(hours) = inbox.config.business_hours() else { return Ok(false) };
        let now = self.clock.now();
        if hours.is_open(now) {
            return Ok(false);
        }
        let account = self.storage.get_account(conv.account_id).await?.ok_or(AppError::NotFound("account"))?;
        let Some(text) = inbox.config.out_of_office_text(conv.language.as_deref(), &account.default_language) else {
            return Ok(false);
        };
        let recent = self.storage.list_messages(conv.account_id, conv.id, None, 200).await?;
        let last = recent
            .iter()
            .rev()
            .find(|m| m.kind == MessageKind::Outgoing && m.sender == Sender::System)
            .map(|m| m.sent_at);
        if !hours.out_of_office_due(now, last) {
            return Ok(false);
        }
        let out = crate::outgoing::OutgoingMessage {
            notice_send: None,
            conversation: conv,
            sender: Sender::System,
            parts: vec![ContentPart::Text { text }],
            transition: None,
            describe: None,
            bot_state: None,
            rules: None,
        };
        self.send_outgoing(conv.account_id, out).await?;
        Ok(true)
    }
}
