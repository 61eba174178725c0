//! Campaigns: one message to a saved segment, in each buyer's language,
//! on the channel each can be reached on, sent at a controlled rate with
//! an optional hold-out group. Pure: what a campaign is, how it is
//! checked, who is held out and how its rate is kept;
//! [`crate::notices::plan_outreach`] decides each buyer with the rules
//! every notice keeps (consent, opt-outs, quiet hours, the Amazon ban,
//! WhatsApp's window, the weekly cap).

use crate::inbox::ChannelKind;
use crate::notices::{NOTICE_CHANNELS, NoticeTemplate, Outreach, Purpose};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The slowest and fastest a campaign may go, in messages a minute.
pub const RATE_LIMITS: (u32, u32) = (1, 60_000);
/// The largest hold-out group, in percent of the audience.
pub const MAX_HOLDOUT_PERCENT: u8 = 50;

/// A campaign as the account writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignDefinition {
    /// Its name, for people.
    pub name: String,
    /// The saved segment it goes to (evaluated when it starts).
    pub segment_id: i64,
    /// Marketing (consent, caps and the Amazon ban apply) or
    /// transactional (about the buyer's own orders).
    #[serde(default = "marketing")]
    pub purpose: Purpose,
    /// Channels in order of preference; each buyer's last-used channel
    /// first when it is one of them.
    pub channels: Vec<ChannelKind>,
    /// The text per language (`en`, `es`…); `{{ contact.name }}` is the
    /// buyer's first name. Buyers of other languages get the account's
    /// language, else the first text.
    pub texts: BTreeMap<String, String>,
    /// The approved WhatsApp template for buyers outside the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_template: Option<NoticeTemplate>,
    /// When to start; now when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<DateTime<Utc>>,
    /// Messages a minute at most.
    #[serde(default = "default_rate")]
    pub rate_per_minute: u32,
    /// Percent of the audience kept out (to measure what the campaign
    /// changed); they are logged as `held_out`, never sent.
    #[serde(default)]
    pub holdout_percent: u8,
}

fn marketing() -> Purpose {
    Purpose::Marketing
}

fn default_rate() -> u32 {
    600
}

/// Where a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CampaignState {
    /// Being written; not sending.
    Draft,
    /// Launched, waiting for its start.
    Scheduled,
    /// Sending.
    Running,
    /// Stopped for now; resumes where it was.
    Paused,
    /// Everyone was decided and every send done.
    Done,
    /// Stopped for good; nothing more goes.
    Cancelled,
}

impl CampaignState {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Scheduled, Self::Running, Self::Paused, Self::Done, Self::Cancelled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A refused definition: which field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignError {
    /// The field.
    pub field: &'static str,
    /// Why.
    pub message: String,
}

impl CampaignDefinition {
    /// Checks what a person wrote.
    pub fn check(&self) -> Result<(), CampaignError> {
        let err = |field, message: &str| Err(CampaignError { field, message: message.to_owned() });
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
            return err("name", "a name of 1 to 120 characters");
        }
        if self.channels.is_empty() {
            return err("channels", "at least one channel");
        }
        if let Some(c) = self.channels.iter().find(|c| !NOTICE_CHANNELS.contains(c)) {
            return Err(CampaignError { field: "channels", message: format!("campaigns cannot go on {c}") });
        }
        if self.texts.is_empty() {
            return err("texts", "at least one text");
        }
        for (lang, text) in &self.texts {
            if lang.is_empty() || lang.len() > 35 || text.trim().is_empty() || text.chars().count() > 2000 {
                return Err(CampaignError {
                    field: "texts",
                    message: format!("the {lang:?} text must have 1 to 2000 characters"),
                });
            }
        }
        if let Some(t) = &self.whatsapp_template
            && (t.name.trim().is_empty() || t.languages.is_empty())
        {
            return err("whatsapp_template", "the template needs its name and at least one language");
        }
        if !(RATE_LIMITS.0..=RATE_LIMITS.1).contains(&self.rate_per_minute) {
            return Err(CampaignError {
                field: "rate_per_minute",
                message: format!("from {} to {} messages a minute", RATE_LIMITS.0, RATE_LIMITS.1),
            });
        }
        if self.holdout_percent > MAX_HOLDOUT_PERCENT {
            return Err(CampaignError {
                field: "holdout_percent",
                message: format!("at most {MAX_HOLDOUT_PERCENT} percent"),
            });
        }
        Ok(())
    }

    /// The text for a buyer reading `language`: theirs, their base
    /// language's, the account's, else the first.
    pub fn text_for(&self, language: &str, account_language: &str) -> &str {
        crate::notices::text_in(&self.texts, language, account_language).unwrap_or_default()
    }

    /// The campaign as the planner reads it.
    pub fn outreach(&self) -> Outreach<'_> {
        Outreach {
            enabled: true,
            countries: &[],
            delay_minutes: 0,
            channels: &self.channels,
            whatsapp_template: self.whatsapp_template.as_ref(),
        }
    }
}

/// Whether a buyer is in a campaign's hold-out group: a stable draw from
/// the campaign and the buyer, so a resumed campaign draws the same.
pub fn held_out(campaign: i64, contact: i64, percent: u8) -> bool {
    if percent == 0 {
        return false;
    }
    let digest = Sha256::digest(format!("{campaign}:{contact}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100 < u64::from(percent)
}

/// How a campaign keeps its rate: every `tick` it sends at most `batch`
/// messages (a second's share, or one message every `60 / rate` seconds
/// for slow campaigns), so a paused and resumed campaign goes on at the
/// same pace instead of catching up in a burst.
pub fn pace(rate_per_minute: u32) -> (u32, Duration) {
    let rate = rate_per_minute.clamp(RATE_LIMITS.0, RATE_LIMITS.1);
    if rate >= 60 {
        (rate.div_ceil(60), Duration::seconds(1))
    } else {
        (1, Duration::milliseconds(60_000 / i64::from(rate)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn def() -> CampaignDefinition {
        CampaignDefinition {
            name: "Spring".into(),
            segment_id: 1,
            purpose: Purpose::Marketing,
            channels: vec![ChannelKind::Whatsapp, ChannelKind::Email],
            texts: BTreeMap::from([("en".into(), "Hi".into()), ("es".into(), "Hola".into())]),
            whatsapp_template: None,
            send_at: None,
            rate_per_minute: 600,
            holdout_percent: 10,
        }
    }

    #[test]
    fn check_refuses_what_cannot_be_sent() {
        assert!(def().check().is_ok());
        let mut d = def();
        d.channels = vec![ChannelKind::Amazon];
        assert_eq!(d.check().unwrap_err().field, "channels");
        let mut d = def();
        d.texts.clear();
        assert_eq!(d.check().unwrap_err().field, "texts");
        let mut d = def();
        d.rate_per_minute = 0;
        assert_eq!(d.check().unwrap_err().field, "rate_per_minute");
        let mut d = def();
        d.holdout_percent = 51;
        assert_eq!(d.check().unwrap_err().field, "holdout_percent");
        let mut d = def();
        d.name = " ".into();
        assert_eq!(d.check().unwrap_err().field, "name");
    }

    #[test]
    fn text_falls_back_to_base_then_account_language() {
        let d = def();
        assert_eq!(d.text_for("es-MX", "en"), "Hola");
        assert_eq!(d.text_for("de", "en"), "Hi");
        assert_eq!(d.text_for("de", "es"), "Hola");
    }

    #[test]
    fn pace_keeps_the_rate() {
        assert_eq!(pace(600), (10, Duration::seconds(1)));
        assert_eq!(pace(60_000), (1000, Duration::seconds(1)));
        assert_eq!(pace(90), (2, Duration::seconds(1)));
        assert_eq!(pace(30), (1, Duration::seconds(2)));
        assert_eq!(pace(1), (1, Duration::minutes(1)));
    }

    proptest! {
        #[test]
        fn holdout_is_stable_and_near_its_share(campaign in 1i64..1000, percent in 0u8..=50) {
            let held = (0..4000i64).filter(|c| held_out(campaign, *c, percent)).count();
            prop_assert_eq!(held, (0..4000i64).filter(|c| held_out(campaign, *c, percent)).count());
            let expected = 4000.0 * f64::from(percent) / 100.0;
            prop_assert!((held as f64 - expected).abs() <= 4000.0 * 0.04, "{held} vs {expected}");
        }
    }
}
