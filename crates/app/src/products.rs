//! Product feedback: defect conversations per SKU of the buyer's orders
//! and per week, beside the orders of that SKU, with example buyer
//! messages; the account's defect rules; and the detector that raises a
//! `defect_rate` alert when a SKU's defect rate jumps. The rules and
//! figures are those of `ferry_core::insights::products`.
//!
//! Roles: owners and admins, like reports (they read the figures and set
//! the rules).

use crate::alerts::DetectorSummary;
use crate::auth::Actor;
use crate::insights::{ReportParams, can_read_reports};
use crate::{App, AppError, AppResult};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use ferry_commerce::detect::{AlertKind, Severity};
use ferry_core::insights::{
    DefectJump, DefectRules, DefectThresholds, ProductLine, ProductWeek, SkuConversation, SkuSale, day_date,
    defect_conversations_of, defect_jumps, defect_windows, local_day, product_lines, week_start,
};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, ConversationId};
use ferry_storage::NewAlert;

/// Example messages shown for a SKU.
pub const EXAMPLES: usize = 5;

/// Most lines in a page.
pub const MAX_PAGE: u32 = 500;

/// A page of SKUs.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPage {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub until: NaiveDate,
    /// The account's time zone the days are in.
    pub timezone: String,
    /// SKUs in all.
    pub total: u64,
    /// This page's lines.
    pub lines: Vec<ProductLine>,
}

/// A file a buyer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleAttachment {
    /// Where it is fetched.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Original name.
    pub filename: Option<String>,
}

/// The first buyer message of a defect conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefectExample {
    /// Conversation.
    pub conversation_id: i64,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Its language.
    pub language: Option<String>,
    /// The defect tags or intent it matched.
    pub reasons: Vec<String>,
    /// The message's text (empty when it only carried files).
    pub text: String,
    /// Its files.
    pub attachments: Vec<ExampleAttachment>,
}

/// One SKU in detail.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDetail {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub until: NaiveDate,
    /// The account's time zone.
    pub timezone: String,
    /// Its figures and weeks.
    pub line: ProductLine,
    /// The newest defect conversations' first buyer messages.
    pub examples: Vec<DefectExample>,
}

/// The first instant of a local day.
fn day_start(day: i64, tz: Tz) -> DateTime<Utc> {
    let midnight = day_date(day).and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // Midnight skipped by a clock change: an hour later exists.
        None => (midnight + chrono::Duration::hours(1)).and_utc(),
    }
}

fn empty_line(sku: &str, from: i64, until: i64) -> ProductLine {
    let mut weeks = Vec::new();
    let mut w = week_start(from);
    while w <= until {
        weeks.push(ProductWeek { week: day_date(w), ..Default::default() });
        w += 7;
    }
    ProductLine { sku: sku.to_owned(), weeks, ..Default::default() }
}

fn attachments_of(parts: &[ContentPart]) -> Vec<ExampleAttachment> {
    parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } => Some(ExampleAttachment {
                url: attachment.url.clone(),
                content_type: attachment.content_type.clone(),
                filename: attachment.filename.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn jump_alert(j: &DefectJump, t: &DefectThresholds) -> NewAlert {
    let pct = |r: f64| (r * 1000.0).round() / 10.0;
    NewAlert {
        kind: AlertKind::DefectRate,
        key: format!("{}:{}", AlertKind::DefectRate.as_str(), j.sku),
        severity: if j.critical { Severity::Critical } else { Severity::Warning },
        title: format!(
            "{}: {} defect conversations in {} days ({}% of orders, before {}%)",
            j.sku,
            j.recent.defects,
            t.recent_days,
            pct(j.recent_rate),
            pct(j.baseline_rate)
        ),
        details: serde_json::json!({
            "sku": j.sku,
            "recent_days": t.recent_days,
            "baseline_days": t.baseline_days,
            "recent_defects": j.recent.defects,
            "recent_orders": j.recent.orders,
            "recent_rate": j.recent_rate,
            "baseline_defects": j.baseline.defects,
            "baseline_orders": j.baseline.orders,
            "baseline_rate": j.baseline_rate,
        }),
    }
}

impl App {
    /// The conversations mentioning SKUs opened in `from..=until` and the
    /// order lines of their SKUs placed in those days.
    async fn sku_figures(
        &self,
        account: AccountId,
        tz: Tz,
        from: i64,
        until: i64,
        sku: Option<String>,
    ) -> AppResult<(Vec<SkuConversation>, Vec<SkuSale>)> {
        let convs = self.storage.sku_conversations(account, from, until, sku.clone()).await?;
        let skus: Vec<String> = match sku {
            Some(s) => vec![s],
            None => {
                let mut v: Vec<String> = convs.iter().flat_map(|c| c.skus.iter().cloned()).collect();
                v.sort();
                v.dedup();
                v
            }
        };
        let lines = self.storage.sku_order_lines(account, skus, day_start(from, tz), day_start(until + 1, tz)).await?;
        let sales = lines
            .into_iter()
            .map(|l| SkuSale { day: local_day(l.placed_at, tz), sku: l.sku, quantity: l.quantity })
            .collect();
        Ok((convs, sales))
    }

    /// The SKUs that conversations opened in the range mention, most
    /// defect conversations first, `limit` from `offset`.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn product_feedback(
        &self,
        actor: &Actor,
        account: AccountId,
        params: ReportParams,
        limit: u32,
        offset: u32,
    ) -> AppResult<ProductPage> {
        can_read_reports(actor, account)?;
        let (range, timezone) = self.report_range(account, &params).await?;
        let tz = self.report_timezone(account).await?;
        let rules = self.storage.defect_rules(account).await?;
        let (convs, sales) = self.sku_figures(account, tz, range.from, range.until, None).await?;
        let lines = product_lines(&rules, &convs, &sales, range.from, range.until);
        let total = lines.len() as u64;
        let limit = if limit == 0 { 50 } else { limit.min(MAX_PAGE) } as usize;
        let lines = lines.into_iter().skip(offset as usize).take(limit).collect();
        Ok(ProductPage { from: day_date(range.from), until: day_date(range.until), timezone, total, lines })
    }

    /// One SKU: its figures and weeks, and the first buyer messages of
    /// its newest defect conversations with their files.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn product_detail(
        &self,
        actor: &Actor,
        account: AccountId,
        sku: &str,
        params: ReportParams,
    ) -> AppResult<ProductDetail> {
        can_read_reports(actor, account)?;
        let sku = sku.trim();
        if sku.is_empty() {
            return Err(AppError::invalid("sku", "sku cannot be empty"));
        }
        let (range, timezone) = self.report_range(account, &params).await?;
        let tz = self.report_timezone(account).await?;
        let rules = self.storage.defect_rules(account).await?;
        let (convs, sales) = self.sku_figures(account, tz, range.from, range.until, Some(sku.to_owned())).await?;
        let line = product_lines(&rules, &convs, &sales, range.from, range.until)
            .into_iter()
            .find(|l| l.sku == sku)
            .unwrap_or_else(|| {
                // Orders but no conversation: its orders still count.
                let mut l = empty_line(sku, range.from, range.until);
                for s in &sales {
                    l.orders += 1;
                    l.units += s.quantity;
                    if let Some(w) = l.weeks.iter_mut().find(|w| w.week == day_date(week_start(s.day))) {
                        w.orders += 1;
                        w.units += s.quantity;
                    }
                }
                l
            });
        let newest: Vec<&SkuConversation> =
            defect_conversations_of(&rules, &convs, sku).into_iter().take(EXAMPLES).collect();
        let ids: Vec<ConversationId> = newest.iter().map(|c| ConversationId(c.conversation_id)).collect();
        let firsts = self.storage.first_buyer_messages(account, ids).await?;
        let examples = newest
            .into_iter()
            .map(|c| {
                let first = firsts.iter().find(|m| m.conversation_id.0 == c.conversation_id);
                DefectExample {
                    conversation_id: c.conversation_id,
                    opened_at: c.opened_at,
                    language: c.language.clone(),
                    reasons: rules.reasons(&c.tags, c.intent.as_deref()),
                    text: first.map(|m| ferry_core::message::text_of(&m.parts)).unwrap_or_default(),
                    attachments: first.map(|m| attachments_of(&m.parts)).unwrap_or_default(),
                }
            })
            .collect();
        Ok(ProductDetail { from: day_date(range.from), until: day_date(range.until), timezone, line, examples })
    }

    /// The account's defect rules.
    pub async fn defect_rules(&self, actor: &Actor, account: AccountId) -> AppResult<DefectRules> {
        can_read_reports(actor, account)?;
        Ok(self.storage.defect_rules(account).await?)
    }

    /// Sets the defect rules (checked and normalised); figures and the
    /// alert follow at their next read or run.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn set_defect_rules(
        &self,
        actor: &Actor,
        account: AccountId,
        tags: Vec<String>,
        intents: Vec<String>,
    ) -> AppResult<DefectRules> {
        can_read_reports(actor, account)?;
        let rules = DefectRules::new(tags, intents).map_err(|e| AppError::invalid(e.field, e.message))?;
        self.storage.set_defect_rules(account, rules.clone(), self.clock.now()).await?;
        Ok(rules)
    }

    /// Runs the defect-rate detector on the account: one `defect_rate`
    /// alert per SKU whose rate jumped, resolved once it no longer has.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn run_defect_detector(&self, account: AccountId) -> AppResult<DetectorSummary> {
        let t = DefectThresholds::default();
        let now = self.clock.now();
        let tz = self.report_timezone(account).await?;
        let today = local_day(now, tz);
        let (recent_from, baseline_from) = (today - t.recent_days + 1, today - t.recent_days - t.baseline_days + 1);
        let rules = self.storage.defect_rules(account).await?;
        let (convs, sales) = self.sku_figures(account, tz, baseline_from, today, None).await?;
        let recent = defect_windows(&rules, &convs, &sales, recent_from, today);
        let baseline = defect_windows(&rules, &convs, &sales, baseline_from, recent_from - 1);
        let jumps = defect_jumps(&recent, &baseline, &t);
        let new: Vec<NewAlert> = jumps.iter().map(|j| jump_alert(j, &t)).collect();
        let found = u32::try_from(new.len()).unwrap_or(u32::MAX);
        let out = self.storage.record_account_alerts(account, &[AlertKind::DefectRate], new, now).await?;
        if !out.raised.is_empty() {
            tracing::info!(raised = out.raised.len(), resolved = out.resolved, "defect rates jumped");
        }
        Ok(DetectorSummary {
            connections: 0,
            found,
            raised: u32::try_from(out.raised.len()).unwrap_or(u32::MAX),
            refreshed: out.refreshed,
            resolved: out.resolved,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ferry_core::insights::day_number;

    #[test]
    fn days_start_at_local_midnight() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let d = day_number(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(day_start(d, tz).to_rfc3339(), "2026-03-01T16:00:00+00:00");
    }
}
