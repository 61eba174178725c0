//! Journeys: a short sequence of steps a buyer goes through — send, wait,
//! wait for their reply, branch, tag, hand off to an agent — written as
//! data. Pure: [`Journey::check`] refuses what cannot run (a jump
//! backwards could loop forever, so every jump goes forward), and
//! [`advance`] moves one buyer's [`Enrolment`] as far as it can at a
//! moment, deciding every send with [`plan_outreach`] at the moment it
//! goes — so a buyer who opted out meanwhile, is asleep, or reached the
//! week's marketing cap gets nothing, whatever the journey says.

use crate::inbox::ChannelKind;
use crate::notices::{
    NOTICE_CHANNELS, NoticeTemplate, Outreach, Plan, Purpose, Recipient, SendingPolicy, Skip, plan_outreach,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Steps in one journey, at most.
pub const MAX_STEPS: usize = 30;
/// The longest a step may wait, in minutes (90 days).
pub const MAX_WAIT_MINUTES: u32 = 90 * 24 * 60;

/// A journey as the account writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Journey {
    /// Its name.
    pub name: String,
    /// Marketing (consent, caps, the Amazon ban) or transactional.
    pub purpose: Purpose,
    /// How buyers enter it.
    #[serde(default)]
    pub trigger: Trigger,
    /// The steps, run in order; jumps go forward.
    pub steps: Vec<Step>,
}

/// How buyers enter a journey.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Trigger {
    /// People enrol buyers: one by one, or a saved segment at once.
    #[default]
    Manual,
    /// A shop event enrols the order's buyer, once per event (an order
    /// confirmed, shipped, delivered, late, cancelled or refunded).
    Event {
        /// The event, named as the notice about it.
        event: crate::notices::NoticeKind,
    },
}

/// One step of a journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Step {
    /// Sends a message on the first channel that may carry it.
    Send {
        /// Channels in order of preference.
        channels: Vec<ChannelKind>,
        /// The text per language.
        texts: BTreeMap<String, String>,
        /// The WhatsApp template for a closed window.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        whatsapp_template: Option<NoticeTemplate>,
    },
    /// Waits this long.
    Wait {
        /// Minutes.
        minutes: u32,
    },
    /// Waits for the buyer's reply, at most this long, then goes on at
    /// `replied` or `otherwise` (step numbers; the number of steps ends
    /// the journey).
    WaitForReply {
        /// Minutes.
        within_minutes: u32,
        /// Where to go when they replied.
        replied: usize,
        /// Where to go when they did not.
        otherwise: usize,
    },
    /// Goes on at `then` when the condition holds, else at `otherwise`.
    Branch {
        /// The condition.
        condition: Condition,
        /// Where to go when it holds.
        then: usize,
        /// Where to go when it does not.
        otherwise: usize,
    },
    /// Tags the buyer.
    Tag {
        /// The tag.
        tag: String,
    },
    /// Hands the buyer to an agent, with the reason; the journey ends.
    HandOff {
        /// Why, for the agent.
        reason: String,
    },
}

/// What a branch asks of the buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Condition {
    /// They replied since they entered the journey.
    Replied,
    /// Their country is one of these.
    Country {
        /// ISO codes.
        any_of: Vec<String>,
    },
    /// Their language is one of these.
    Language {
        /// Language tags (`es`, `pt-BR`).
        any_of: Vec<String>,
    },
    /// They have one of these tags.
    Tag {
        /// Tags.
        any_of: Vec<String>,
    },
}

/// Where one buyer is in a journey.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Enrolment {
    /// The step they are at; the number of steps when done.
    pub step: usize,
    /// When the step they wait at is over (a wait, a reply's time limit,
    /// or the end of their quiet hours before a send).
    pub until: Option<DateTime<Utc>>,
    /// They left the journey (finished, handed off, or opted out).
    pub done: bool,
}

/// What [`advance`] knows of the buyer now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// Where and how they can be reached, as the notices' planner reads it.
    pub recipient: Recipient,
    /// Their tags.
    pub tags: Vec<String>,
    /// They replied since they entered the journey.
    pub replied: bool,
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send step `step` now, on this channel, in this language (as this
    /// WhatsApp template when given).
    Send {
        /// The step.
        step: usize,
        /// The channel.
        channel: ChannelKind,
        /// The language.
        language: String,
        /// The template name and language code.
        template: Option<(String, String)>,
    },
    /// Step `step` sent nothing, for this reason; the journey goes on
    /// (or ends when the buyer stopped every channel).
    Skipped {
        /// The step.
        step: usize,
        /// Why.
        why: Skip,
    },
    /// Tag the buyer.
    Tag(String),
    /// Hand the buyer to an agent.
    HandOff(String),
}

impl Journey {
    /// Checks what a person wrote: some steps, each jump forward and in
    /// range, waits and texts of sane size.
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err("a name of 1 to 120 characters".into());
        }
        if let Trigger::Event { event: crate::notices::NoticeKind::BackInStock } = self.trigger {
            return Err("a journey starts from an order's event; back in stock is a notice".into());
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(format!("1 to {MAX_STEPS} steps"));
        }
        let end = self.steps.len();
        let forward = |i: usize, to: usize| {
            if to <= i || to > end {
                Err(format!("step {}: a jump goes to a later step (or {end}, the end)", i + 1))
            } else {
                Ok(())
            }
        };
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::Send { channels, texts, whatsapp_template } => {
                    if channels.is_empty() || channels.iter().any(|c| !NOTICE_CHANNELS.contains(c)) {
                        return Err(format!("step {}: channels notices can use", i + 1));
                    }
                    if texts.is_empty()
                        || texts.iter().any(|(l, t)| l.is_empty() || t.trim().is_empty() || t.chars().count() > 2000)
                    {
                        return Err(format!("step {}: texts of 1 to 2000 characters", i + 1));
                    }
                    if whatsapp_template.as_ref().is_some_and(|t| t.name.trim().is_empty() || t.languages.is_empty()) {
                        return Err(format!("step {}: the template needs its name and a language", i + 1));
                    }
                }
                Step::Wait { minutes } if *minutes == 0 || *minutes > MAX_WAIT_MINUTES => {
                    return Err(format!("step {}: wait 1 minute to 90 days", i + 1));
                }
                Step::WaitForReply { within_minutes, replied, otherwise } => {
                    if *within_minutes == 0 || *within_minutes > MAX_WAIT_MINUTES {
                        return Err(format!("step {}: wait 1 minute to 90 days", i + 1));
                    }
                    forward(i, *replied)?;
                    forward(i, *otherwise)?;
                }
                Step::Branch { then, otherwise, .. } => {
                    forward(i, *then)?;
                    forward(i, *otherwise)?;
                }
                Step::Tag { tag } if tag.trim().is_empty() => return Err(format!("step {}: a tag", i + 1)),
                _ => {}
            }
        }
        Ok(())
    }
}

fn holds(c: &Condition, f: &Facts) -> bool {
    let any = |list: &[String], v: Option<&str>| v.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)));
    match c {
        Condition::Replied => f.replied,
        Condition::Country { any_of } => any(any_of, f.recipient.country.as_deref()),
        Condition::Language { any_of } => {
            let lang = f.recipient.language.as_deref();
            any(any_of, lang) || any(any_of, lang.and_then(|l| l.split(['-', '_']).next()))
        }
        Condition::Tag { any_of } => f.tags.iter().any(|t| any_of.iter().any(|x| x.eq_ignore_ascii_case(t))),
    }
}

/// Moves `e` as far as it goes at `now` and returns what to do. Each send
/// is decided at the moment it goes: during the buyer's quiet hours the
/// enrolment waits for their end and decides again then; a buyer who
/// stopped every channel leaves the journey.
pub fn advance(
    j: &Journey,
    e: &mut Enrolment,
    f: &Facts,
    policy: &SendingPolicy,
    account_language: &str,
    now: DateTime<Utc>,
) -> Vec<Action> {
    let mut out = Vec::new();
    // Sends of this call count towards the cap of the next one.
    let mut to = f.recipient.clone();
    // Jumps go forward, so this ends; the bound guards unchecked data.
    for _ in 0..=j.steps.len() {
        if e.done {
            break;
        }
        let Some(step) = j.steps.get(e.step) else {
            e.done = true;
            e.until = None;
            break;
        };
        let i = e.step;
        match step {
            Step::Send { channels, whatsapp_template, .. } => {
                let rule = Outreach {
                    enabled: true,
                    countries: &[],
                    delay_minutes: 0,
                    channels,
                    whatsapp_template: whatsapp_template.as_ref(),
                };
                match plan_outreach(&rule, j.purpose, &to, policy, account_language, now) {
                    Plan::Send { at, .. } if at > now => {
                        e.until = Some(at);
                        break;
                    }
                    Plan::Send { channel, language, template, .. } => {
                        if j.purpose == Purpose::Marketing {
                            to.marketing_last_week += 1;
                        }
                        out.push(Action::Send { step: i, channel, language, template });
                        e.step += 1;
                        e.until = None;
                    }
                    Plan::Skip(Skip::OptedOut) => {
                        out.push(Action::Skipped { step: i, why: Skip::OptedOut });
                        e.done = true;
                        e.until = None;
                    }
                    Plan::Skip(why) => {
                        out.push(Action::Skipped { step: i, why });
                        e.step += 1;
                        e.until = None;
                    }
                }
            }
            Step::Wait { minutes } => match e.until {
                None => {
                    e.until = Some(now + Duration::minutes(i64::from(*minutes)));
                    break;
                }
                Some(t) if now < t => break,
                Some(_) => {
                    e.step += 1;
                    e.until = None;
                }
            },
            Step::WaitForReply { within_minutes, replied, otherwise } => {
                if f.replied {
                    e.step = *replied;
                    e.until = None;
                    continue;
                }
                match e.until {
                    None => {
                        e.until = Some(now + Duration::minutes(i64::from(*within_minutes)));
                        break;
                    }
                    Some(t) if now < t => break,
                    Some(_) => {
                        e.step = *otherwise;
                        e.until = None;
                    }
                }
            }
            Step::Branch { condition, then, otherwise } => {
                e.step = if holds(condition, f) { *then } else { *otherwise };
            }
            Step::Tag { tag } => {
                out.push(Action::Tag(tag.clone()));
                e.step += 1;
            }
            Step::HandOff { reason } => {
                out.push(Action::HandOff(reason.clone()));
                e.done = true;
                e.until = None;
            }
        }
        // An unchecked backward jump ends the journey rather than loop.
        if e.step <= i && !e.done {
            e.done = true;
        }
    }
    out
}

/// What a journey would do for a buyer whose facts stay as they are: each
/// action with its moment, from `start` until it ends or `horizon` passes
/// (the console's test run).
pub fn dry_run(
    j: &Journey,
    f: &Facts,
    policy: &SendingPolicy,
    account_language: &str,
    start: DateTime<Utc>,
    horizon: Duration,
) -> Vec<(DateTime<Utc>, Action)> {
    let mut e = Enrolment::default();
    let mut facts = f.clone();
    let mut now = start;
    let mut out = Vec::new();
    for _ in 0..(MAX_STEPS * 4) {
        for a in advance(j, &mut e, &facts, policy, account_language, now) {
            if matches!(a, Action::Send { .. }) && j.purpose == Purpose::Marketing {
                facts.recipient.marketing_last_week += 1;
            }
            out.push((now, a));
        }
        match e.until {
            Some(t) if !e.done && t - start <= horizon => now = t,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::notices::{Reachable, is_quiet, recipient_timezone};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn send(channels: Vec<ChannelKind>) -> Step {
        Step::Send { channels, texts: BTreeMap::from([("en".into(), "Hi".into())]), whatsapp_template: None }
    }

    fn buyer(country: &str) -> Facts {
        Facts {
            recipient: Recipient {
                channels: vec![Reachable {
                    channel: ChannelKind::Email,
                    last_buyer_message_at: None,
                    opted_out: false,
                    consent: true,
                }],
                language: Some("en".into()),
                timezone: None,
                country: Some(country.into()),
                amazon: false,
                marketing_last_week: 0,
            },
            tags: Vec::new(),
            replied: false,
        }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn check_refuses_backward_jumps_and_empty_journeys() {
        let mut j = Journey {
            name: "Care".into(),
            purpose: Purpose::Marketing,
            trigger: Trigger::Manual,
            steps: vec![send(vec![ChannelKind::Email])],
        };
        assert!(j.check().is_ok());
        j.steps.push(Step::Branch { condition: Condition::Replied, then: 0, otherwise: 2 });
        assert!(j.check().unwrap_err().contains("later step"));
        j.steps.clear();
        assert!(j.check().is_err());
    }

    #[test]
    fn a_reply_takes_the_other_way() {
        let j = Journey {
            name: "Review".into(),
            purpose: Purpose::Transactional,
            trigger: Trigger::Manual,
            steps: vec![
                send(vec![ChannelKind::Email]),
                Step::WaitForReply { within_minutes: 60 * 24, replied: 3, otherwise: 2 },
                send(vec![ChannelKind::Email]),
                Step::HandOff { reason: "answered the care message".into() },
            ],
        };
        j.check().unwrap();
        let policy = SendingPolicy::default();
        let mut e = Enrolment::default();
        let mut f = buyer("GB");
        let first = advance(&j, &mut e, &f, &policy, "en", at(12));
        assert!(matches!(first[..], [Action::Send { step: 0, .. }]), "{first:?}");
        assert_eq!(e.until, Some(at(12) + Duration::days(1)));
        assert!(advance(&j, &mut e, &f, &policy, "en", at(13)).is_empty());
        f.replied = true;
        let next = advance(&j, &mut e, &f, &policy, "en", at(14));
        assert_eq!(next, [Action::HandOff("answered the care message".into())]);
        assert!(e.done);
    }

    #[test]
    fn the_dry_run_shows_moments_and_quiet_hours() {
        let j = Journey {
            name: "Welcome".into(),
            purpose: Purpose::Marketing,
            trigger: Trigger::Manual,
            steps: vec![send(vec![ChannelKind::Email]), Step::Wait { minutes: 600 }, send(vec![ChannelKind::Email])],
        };
        // 12:00 UTC is 13:00 in London; ten hours later is 23:00 there,
        // so the second message waits until 08:00 (07:00 UTC).
        let run = dry_run(&j, &buyer("GB"), &SendingPolicy::default(), "en", at(12), Duration::days(7));
        let sends: Vec<DateTime<Utc>> =
            run.iter().filter(|(_, a)| matches!(a, Action::Send { .. })).map(|(t, _)| *t).collect();
        assert_eq!(sends, [at(12), at(7) + Duration::days(1)]);
    }

    fn channel() -> impl Strategy<Value = ChannelKind> {
        prop_oneof![Just(ChannelKind::Email), Just(ChannelKind::Sms), Just(ChannelKind::Whatsapp)]
    }

    /// Steps whose jumps go forward from step `i` of `n`.
    fn step(i: usize, n: usize) -> BoxedStrategy<Step> {
        let ahead = (i + 1)..=n;
        prop_oneof![
            3 => prop::collection::vec(channel(), 1..3).prop_map(send),
            2 => (1u32..3000).prop_map(|minutes| Step::Wait { minutes }),
            1 => (1u32..3000, ahead.clone(), ahead.clone())
                .prop_map(|(within_minutes, replied, otherwise)| Step::WaitForReply { within_minutes, replied, otherwise }),
            1 => (ahead.clone(), ahead).prop_map(|(then, otherwise)| Step::Branch {
                condition: Condition::Country { any_of: vec!["ES".into()] }, then, otherwise }),
            1 => Just(Step::Tag { tag: "journey".into() }),
        ]
        .boxed()
    }

    fn journey() -> impl Strategy<Value = Journey> {
        (1usize..12).prop_flat_map(|n| {
            (0..n).map(|i| step(i, n)).collect::<Vec<_>>().prop_map(|steps| Journey {
                name: "Generated".into(),
                purpose: Purpose::Marketing,
                trigger: Trigger::Manual,
                steps,
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Whatever the journey and whenever the buyer opts out: no send
        /// after the opt-out, none in the buyer's quiet hours, and never
        /// more marketing in any 7 days than the cap.
        #[test]
        fn a_journey_keeps_every_rule(
            j in journey(),
            country in prop_oneof![Just("ES"), Just("JP"), Just("US"), Just("BR")],
            opt_out_after_hours in 0i64..400,
            cap in 1u32..4,
            earlier in prop::collection::vec(0i64..(7 * 24), 0..3),
            start_hour in 0u32..24,
        ) {
            prop_assert!(j.check().is_ok(), "{:?}", j.check());
            let policy = SendingPolicy { marketing_per_week: cap, ..SendingPolicy::default() };
            let start = at(start_hour);
            let opt_out = start + Duration::hours(opt_out_after_hours);
            // Marketing the buyer got before the journey (hours before start).
            let mut sent: Vec<DateTime<Utc>> = earlier.iter().map(|h| start - Duration::hours(*h)).collect();
            let mut f = buyer(country);
            for c in [ChannelKind::Sms, ChannelKind::Whatsapp] {
                f.recipient.channels.push(Reachable { channel: c, last_buyer_message_at: None, opted_out: false, consent: true });
            }
            let tz = recipient_timezone(&f.recipient);
            let mut e = Enrolment::default();
            let mut now = start;
            for _ in 0..(6 * 24 * 30) {
                let stopped = now >= opt_out;
                for r in &mut f.recipient.channels {
                    r.opted_out = stopped;
                }
                f.recipient.marketing_last_week = sent.iter().filter(|t| **t > now - Duration::days(7)).count() as u32;
                for a in advance(&j, &mut e, &f, &policy, "en", now) {
                    if let Action::Send { channel, .. } = a {
                        prop_assert!(!stopped, "sent on {channel} at {now} after the opt-out at {opt_out}");
                        let local = now.with_timezone(&tz).time();
                        prop_assert!(!is_quiet(local, policy.quiet_start, policy.quiet_end), "sent at {local} local");
                        sent.push(now);
                        let week = sent.iter().filter(|t| **t > now - Duration::days(7)).count() as u32;
                        prop_assert!(week <= cap, "{week} marketing messages in 7 days, cap {cap}");
                    }
                }
                if e.done {
                    break;
                }
                now += Duration::minutes(10);
            }
        }
    }
}
