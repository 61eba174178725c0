//! Conversations and their state machine.
//!
//! ```text
//!            hand-off / agent reply
//!   bot ───────────────────────────────▶ open ◀──── buyer message ──── pending
//!    ▲                                  │  ▲ ▲                            ▲
//!    └──────── return to bot ───────────┘  │ └── buyer message / wake ─ snoozed
//!                                          │
//!   resolved ──── buyer message / reopen ──┘   (to bot when the inbox's bot is on)
//! ```
//!
//! Every change goes through [`Conversation::apply`], which either performs
//! the whole transition and reports what changed, or refuses it and leaves
//! the conversation untouched.

use crate::{AccountId, ContactId, ConversationId, InboxId, TeamId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The bot is answering; no agent needed yet.
    Bot,
    /// Waiting for an agent.
    Open,
    /// Waiting for the buyer.
    Pending,
    /// Put aside until a time; wakes up by itself or when the buyer writes.
    Snoozed,
    /// Done. A new buyer message reopens it.
    Resolved,
}

impl Status {
    /// All statuses, in the console's tab order.
    pub const ALL: [Status; 5] = [Status::Open, Status::Pending, Status::Snoozed, Status::Resolved, Status::Bot];

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Bot => "bot",
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// How urgent a conversation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Not set.
    #[default]
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

impl Priority {
    /// All priorities, lowest first.
    pub const ALL: [Priority; 5] = [Priority::None, Priority::Low, Priority::Medium, Priority::High, Priority::Urgent];

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// A name that is not a priority.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown priority `{0}`")]
pub struct UnknownPriority(pub String);

impl FromStr for Priority {
    type Err = UnknownPriority;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownPriority(s.to_owned()))
    }
}

/// A thread between one buyer and the shop in one inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The inbox it arrived in.
    pub inbox_id: InboxId,
    /// The buyer.
    pub contact_id: ContactId,
    /// Where it stands.
    pub status: Status,
    /// The agent working it.
    pub assignee_id: Option<UserId>,
    /// The team it is routed to.
    pub team_id: Option<TeamId>,
    /// How urgent it is.
    pub priority: Priority,
    /// The buyer's language in this conversation (BCP 47).
    pub language: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// When a snoozed conversation wakes up.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// Why the bot handed it to a person, while it is with people.
    pub handoff_reason: Option<String>,
    /// The buyer's last message.
    pub last_buyer_message_at: Option<DateTime<Utc>>,
    /// The first reply by an agent.
    pub first_reply_at: Option<DateTime<Utc>>,
    /// When it was last resolved (cleared on reopening).
    pub resolved_at: Option<DateTime<Utc>>,
    /// Last message or status change; the list is sorted by it.
    pub last_activity_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Something that happens to a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The buyer wrote. Wakes pending, snoozed and resolved conversations;
    /// `bot_enabled` sends a reopened conversation back to the bot.
    BuyerMessage {
        /// When the message was sent.
        at: DateTime<Utc>,
        /// Whether the inbox's bot takes new and reopened conversations.
        bot_enabled: bool,
    },
    /// An agent replied (not a note). A bot conversation becomes the agent's.
    AgentReply {
        /// Who replied.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The bot (or a rule) passes the conversation to people: open, with
    /// the reason, routed to `team` and given to `assignee` unless it
    /// already has a team or an agent.
    HandOff {
        /// Why, shown to the agent.
        reason: String,
        /// The team that takes hand-offs, if any.
        team: Option<TeamId>,
        /// The agent chosen to take it, if any.
        assignee: Option<UserId>,
        /// The language the bot understood the buyer in; it becomes the
        /// conversation's, so people see and are routed by what the buyer
        /// writes rather than the browser's setting.
        language: Option<String>,
    },
    /// The bot answers: refused once people hold the conversation (an
    /// agent replied or took it while the bot was thinking), so a late
    /// answer is never sent; changes nothing.
    BotAnswer,
    /// An agent gives the conversation back to the bot.
    ReturnToBot,
    /// Waiting for the buyer.
    SetPending,
    /// Put aside until `until` (must be in the future).
    Snooze {
        /// When it wakes up.
        until: DateTime<Utc>,
    },
    /// The snooze time has passed.
    Wake,
    /// Done.
    Resolve,
    /// Back to open by an agent.
    Reopen,
    /// Assign to an agent, or unassign with `None`.
    Assign(Option<UserId>),
    /// Route to a team, or remove the team with `None`.
    SetTeam(Option<TeamId>),
    /// Change the priority.
    SetPriority(Priority),
    /// Replace the tags (already normalised).
    SetTags(Vec<String>),
}

impl Transition {
    fn name(&self) -> &'static str {
        match self {
            Transition::BuyerMessage { .. } => "buyer_message",
            Transition::AgentReply { .. } => "agent_reply",
            Transition::HandOff { .. } => "hand_off",
            Transition::BotAnswer => "bot_answer",
            Transition::ReturnToBot => "return_to_bot",
            Transition::SetPending => "set_pending",
            Transition::Snooze { .. } => "snooze",
            Transition::Wake => "wake",
            Transition::Resolve => "resolve",
            Transition::Reopen => "reopen",
            Transition::Assign(_) => "assign",
            Transition::SetTeam(_) => "set_team",
            Transition::SetPriority(_) => "set_priority",
            Transition::SetTags(_) => "set_tags",
        }
    }
}

/// A transition the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a conversation that is {from}")]
pub struct TransitionError {
    /// The state it was in.
    pub from: Status,
    /// The refused transition.
    pub action: &'static str,
    /// Why, when more than the state explains it.
    pub detail: Option<&'static str>,
}

/// What a transition changed; used for activity lines and events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The status moved.
    Status {
        /// Before.
        from: Status,
        /// After.
        to: Status,
    },
    /// The assignee changed.
    Assignee {
        /// Before.
        from: Option<UserId>,
        /// After.
        to: Option<UserId>,
    },
    /// The team changed.
    Team {
        /// Before.
        from: Option<TeamId>,
        /// After.
        to: Option<TeamId>,
    },
    /// The priority changed.
    Priority {
        /// Before.
        from: Priority,
        /// After.
        to: Priority,
    },
    /// Tags were added or removed.
    Tags {
        /// Tags now present that were not.
        added: Vec<String>,
        /// Tags gone.
        removed: Vec<String>,
    },
}

/// A broken invariant, reported by [`Conversation::check`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("conversation invariant broken: {0}")]
pub struct InvariantError(pub &'static str);

impl Conversation {
    /// Applies `t` at `now`. On success the conversation is in its new state
    /// and the changes are returned (empty when nothing changed); on error it
    /// is untouched.
    pub fn apply(&mut self, t: Transition, now: DateTime<Utc>) -> Result<Vec<Change>, TransitionError> {
        let refuse = |from: Status, detail: Option<&'static str>| TransitionError { from, action: t.name(), detail };
        let before = self.clone();
        match &t {
            Transition::BuyerMessage { at, bot_enabled } => {
                self.last_buyer_message_at = Some(self.last_buyer_message_at.map_or(*at, |p| p.max(*at)));
                match self.status {
                    Status::Bot | Status::Open => {}
                    Status::Pending | Status::Snoozed => self.set_status(Status::Open),
                    Status::Resolved => self.set_status(if *bot_enabled { Status::Bot } else { Status::Open }),
                }
            }
            Transition::AgentReply { by, at } => {
                if self.first_reply_at.is_none() {
                    self.first_reply_at = Some(*at);
                }
                if self.status == Status::Bot {
                    self.handoff_reason = Some("agent replied".to_owned());
                    self.set_status(Status::Open);
                }
                if self.assignee_id.is_none() {
                    self.assignee_id = Some(*by);
                }
            }
            Transition::HandOff { reason, team, assignee, language } => {
                if self.status != Status::Bot {
                    return Err(refuse(self.status, Some("only the bot hands off")));
                }
                self.handoff_reason = Some(reason.clone());
                if let Some(l) = language {
                    self.language = Some(l.clone());
                }
                self.set_status(Status::Open);
                // Routing an agent already set stays as it is.
                if self.team_id.is_none() {
                    self.team_id = *team;
                }
                if self.assignee_id.is_none() {
                    self.assignee_id = *assignee;
                }
            }
            Transition::BotAnswer => {
                if self.status != Status::Bot {
                    return Err(refuse(self.status, Some("people hold the conversation")));
                }
            }
            Transition::ReturnToBot => match self.status {
                Status::Open | Status::Pending => self.set_status(Status::Bot),
                s => return Err(refuse(s, None)),
            },
            Transition::SetPending => match self.status {
                Status::Open | Status::Snoozed | Status::Pending => self.set_status(Status::Pending),
                s => return Err(refuse(s, None)),
            },
            Transition::Snooze { until } => {
                if *until <= now {
                    return Err(refuse(self.status, Some("the snooze time must be in the future")));
                }
                match self.status {
                    Status::Open | Status::Pending | Status::Snoozed => {
                        self.set_status(Status::Snoozed);
                        self.snoozed_until = Some(*until);
                    }
                    s => return Err(refuse(s, None)),
                }
            }
            Transition::Wake => match (self.status, self.snoozed_until) {
                (Status::Snoozed, Some(until)) if until <= now => self.set_status(Status::Open),
                (Status::Snoozed, _) => return Err(refuse(Status::Snoozed, Some("it is not time yet"))),
                (s, _) => return Err(refuse(s, None)),
            },
            Transition::Resolve => match self.status {
                Status::Resolved => {}
                _ => {
                    self.set_status(Status::Resolved);
                    self.resolved_at = Some(now);
                }
            },
            Transition::Reopen => match self.status {
                Status::Open | Status::Bot => {}
                Status::Pending | Status::Snoozed | Status::Resolved => self.set_status(Status::Open),
            },
            Transition::Assign(user) => self.assignee_id = *user,
            Transition::SetTeam(team) => self.team_id = *team,
            Transition::SetPriority(p) => self.priority = *p,
            Transition::SetTags(tags) => {
                let mut tags = tags.clone();
                tags.sort();
                tags.dedup();
                self.tags = tags;
            }
        }
        let changes = self.diff(&before);
        if !changes.is_empty() || matches!(t, Transition::BuyerMessage { .. } | Transition::AgentReply { .. }) {
            self.updated_at = now;
            self.last_activity_at = self.last_activity_at.max(now);
        }
        Ok(changes)
    }

    /// Moves to `to`, keeping the fields that belong to a status in step.
    fn set_status(&mut self, to: Status) {
        if to != Status::Snoozed {
            self.snoozed_until = None;
        }
        if to != Status::Resolved {
            self.resolved_at = None;
        }
        if to == Status::Bot {
            self.handoff_reason = None;
        }
        self.status = to;
    }

    fn diff(&self, before: &Conversation) -> Vec<Change> {
        let mut out = Vec::new();
        if before.status != self.status {
            out.push(Change::Status { from: before.status, to: self.status });
        }
        if before.assignee_id != self.assignee_id {
            out.push(Change::Assignee { from: before.assignee_id, to: self.assignee_id });
        }
        if before.team_id != self.team_id {
            out.push(Change::Team { from: before.team_id, to: self.team_id });
        }
        if before.priority != self.priority {
            out.push(Change::Priority { from: before.priority, to: self.priority });
        }
        if before.tags != self.tags {
            let added = self.tags.iter().filter(|t| !before.tags.contains(t)).cloned().collect();
            let removed = before.tags.iter().filter(|t| !self.tags.contains(t)).cloned().collect();
            out.push(Change::Tags { added, removed });
        }
        out
    }

    /// Checks the invariants that every reachable state satisfies.
    pub fn check(&self) -> Result<(), InvariantError> {
        if (self.status == Status::Snoozed) != self.snoozed_until.is_some() {
            return Err(InvariantError("snoozed_until is set exactly when snoozed"));
        }
        if (self.status == Status::Resolved) != self.resolved_at.is_some() {
            return Err(InvariantError("resolved_at is set exactly when resolved"));
        }
        if self.status == Status::Bot && self.handoff_reason.is_some() {
            return Err(InvariantError("a bot conversation has no hand-off reason"));
        }
        if self.updated_at < self.created_at || self.last_activity_at < self.created_at {
            return Err(InvariantError("timestamps never precede creation"));
        }
        if self.first_reply_at.is_some_and(|first| first < self.created_at) {
            return Err(InvariantError("first reply never precedes creation"));
        }
        Ok(())
    }

    /// A new conversation opened by a buyer's first message.
    pub fn opened_by_buyer(
        account_id: AccountId,
        inbox_id: InboxId,
        contact_id: ContactId,
        bot_enabled: bool,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ConversationId(0),
            account_id,
            inbox_id,
            contact_id,
            status: if bot_enabled { Status::Bot } else { Status::Open },
            assignee_id: None,
            team_id: None,
            priority: Priority::None,
            language: None,
            tags: Vec::new(),
            snoozed_until: None,
            handoff_reason: None,
            last_buyer_message_at: Some(at),
            first_reply_at: None,
            resolved_at: None,
            last_activity_at: now,
            created_at: now,
            updated_at: now,
        }
    }
}

impl Conversation {
    /// A new conversation the business starts (a proactive notice):
    /// resolved from the start, so it asks nothing of agents until the
    /// buyer answers, which reopens it.
    pub fn opened_by_business(
        account_id: AccountId,
        inbox_id: InboxId,
        contact_id: ContactId,
        tag: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let mut c = Self::opened_by_buyer(account_id, inbox_id, contact_id, false, now, now);
        c.status = Status::Resolved;
        c.resolved_at = Some(now);
        c.last_buyer_message_at = None;
        c.tags = vec![tag.to_owned()];
        c
    }
}

/// Which of a contact's conversations in an inbox a new buyer message
/// belongs to: the latest one unless it was resolved long ago, in which case
/// a new conversation starts.
pub fn continues(latest: &Conversation, now: DateTime<Utc>, reopen_window: chrono::Duration) -> bool {
    match (latest.status, latest.resolved_at) {
        (Status::Resolved, Some(at)) => now - at <= reopen_window,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
    }

    fn conv(bot: bool) -> Conversation {
        Conversation::opened_by_buyer(AccountId(1), InboxId(1), ContactId(1), bot, t0(), t0())
    }

    #[test]
    fn buyer_message_reopens_resolved() {
        let mut c = conv(false);
        c.apply(Transition::Resolve, t0()).ok();
        assert_eq!(c.status, Status::Resolved);
        let ch = c.apply(Transition::BuyerMessage { at: t0(), bot_enabled: false }, t0());
        assert_eq!(ch, Ok(vec![Change::Status { from: Status::Resolved, to: Status::Open }]));
        assert_eq!(c.resolved_at, None);
    }

    #[test]
    fn the_bot_answers_only_while_it_holds_the_conversation() {
        let mut c = conv(true);
        assert_eq!(c.apply(Transition::BotAnswer, t0()), Ok(vec![]));
        let before = c.clone();
        c.apply(Transition::AgentReply { by: UserId(7), at: t0() }, t0()).ok();
        assert_eq!(c.status, Status::Open);
        let late = c.apply(Transition::BotAnswer, t0());
        assert!(late.is_err(), "{late:?}");
        assert_eq!(before.status, Status::Bot);
    }

    fn hand_off(reason: &str) -> Transition {
        Transition::HandOff { reason: reason.into(), team: None, assignee: None, language: None }
    }

    #[test]
    fn hand_off_only_from_bot() {
        let mut c = conv(true);
        assert!(c.apply(hand_off("asked for a person"), t0()).is_ok());
        assert_eq!(c.status, Status::Open);
        assert_eq!(c.handoff_reason.as_deref(), Some("asked for a person"));
        let before = c.clone();
        assert!(c.apply(hand_off("again"), t0()).is_err());
        assert_eq!(c, before);
    }

    #[test]
    fn hand_off_routes_to_the_team_and_agent_in_one_step() {
        let mut c = conv(true);
        let t = Transition::HandOff {
            reason: "asked".into(),
            team: Some(TeamId(2)),
            assignee: Some(UserId(5)),
            language: None,
        };
        let ch = c.apply(t, t0()).unwrap_or_default();
        assert_eq!((c.status, c.team_id, c.assignee_id), (Status::Open, Some(TeamId(2)), Some(UserId(5))));
        assert_eq!(
            ch,
            vec![
                Change::Status { from: Status::Bot, to: Status::Open },
                Change::Assignee { from: None, to: Some(UserId(5)) },
                Change::Team { from: None, to: Some(TeamId(2)) },
            ]
        );
        // A team or agent set before the hand-off is kept.
        let mut c = conv(true);
        c.team_id = Some(TeamId(1));
        c.assignee_id = Some(UserId(1));
        let t = Transition::HandOff {
            reason: "asked".into(),
            team: Some(TeamId(2)),
            assignee: Some(UserId(5)),
            language: None,
        };
        let ch = c.apply(t, t0()).unwrap_or_default();
        assert_eq!((c.team_id, c.assignee_id), (Some(TeamId(1)), Some(UserId(1))));
        assert_eq!(ch.len(), 1);
    }

    #[test]
    fn snooze_needs_a_future_time_and_wakes() {
        let mut c = conv(false);
        assert!(c.apply(Transition::Snooze { until: t0() }, t0()).is_err());
        let until = t0() + Duration::hours(2);
        assert!(c.apply(Transition::Snooze { until }, t0()).is_ok());
        assert!(c.apply(Transition::Wake, t0() + Duration::hours(1)).is_err());
        assert!(c.apply(Transition::Wake, until).is_ok());
        assert_eq!(c.status, Status::Open);
        assert_eq!(c.snoozed_until, None);
    }

    #[test]
    fn agent_reply_takes_over_from_bot_and_records_first_reply() {
        let mut c = conv(true);
        let at = t0() + Duration::minutes(3);
        let ch = c.apply(Transition::AgentReply { by: UserId(7), at }, at).unwrap_or_default();
        assert_eq!(c.status, Status::Open);
        assert_eq!(c.first_reply_at, Some(at));
        assert_eq!(c.assignee_id, Some(UserId(7)));
        assert_eq!(ch.len(), 2);
    }

    #[test]
    fn old_resolved_conversations_are_not_continued() {
        let mut c = conv(false);
        c.apply(Transition::Resolve, t0()).ok();
        assert!(continues(&c, t0() + Duration::days(1), Duration::days(7)));
        assert!(!continues(&c, t0() + Duration::days(8), Duration::days(7)));
    }

    fn transition() -> impl Strategy<Value = Transition> {
        let minutes = 0i64..600;
        prop_oneof![
            (minutes.clone(), any::<bool>())
                .prop_map(|(m, b)| Transition::BuyerMessage { at: t0() + Duration::minutes(m), bot_enabled: b }),
            (minutes.clone(), 1i64..4)
                .prop_map(|(m, u)| Transition::AgentReply { by: UserId(u), at: t0() + Duration::minutes(m) }),
            ("[a-z ]{0,12}", proptest::option::of(1i64..3), proptest::option::of(1i64..4)).prop_map(
                |(reason, t, u)| {
                    Transition::HandOff { reason, team: t.map(TeamId), assignee: u.map(UserId), language: None }
                }
            ),
            Just(Transition::ReturnToBot),
            Just(Transition::SetPending),
            minutes.clone().prop_map(|m| Transition::Snooze { until: t0() + Duration::minutes(m) }),
            Just(Transition::Wake),
            Just(Transition::Resolve),
            Just(Transition::Reopen),
            proptest::option::of(1i64..4).prop_map(|u| Transition::Assign(u.map(UserId))),
            proptest::option::of(1i64..3).prop_map(|t| Transition::SetTeam(t.map(TeamId))),
            (0usize..5).prop_map(|i| Transition::SetPriority(Priority::ALL[i])),
            proptest::collection::vec("[a-c]", 0..3).prop_map(Transition::SetTags),
        ]
    }

    proptest! {
        #[test]
        fn random_sequences_keep_invariants(
            bot in any::<bool>(),
            steps in proptest::collection::vec((transition(), 0i64..30), 0..60),
        ) {
            let mut c = conv(bot);
            let mut now = t0();
            prop_assert!(c.check().is_ok());
            for (t, dt) in steps {
                now += Duration::minutes(dt);
                let before = c.clone();
                match c.apply(t.clone(), now) {
                    Ok(changes) => {
                        // Changes report exactly the status move, if any.
                        let moved = before.status != c.status;
                        let reported = changes.iter().any(|ch| matches!(ch, Change::Status { .. }));
                        prop_assert_eq!(moved, reported);
                    }
                    Err(_) => prop_assert_eq!(&c, &before),
                }
                prop_assert!(c.check().is_ok(), "{:?} after {:?}", c.check(), t);
                prop_assert!(c.last_activity_at >= before.last_activity_at);
                if let Transition::BuyerMessage { .. } = t {
                    prop_assert!(matches!(c.status, Status::Bot | Status::Open));
                }
            }
        }
    }
}
