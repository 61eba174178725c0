//! Alerts the commerce detectors raise, and the reads of the mirror and the
//! conversations the detectors need.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::OrderDetails;
use ferry_commerce::detect::{AlertKind, Severity};
use ferry_core::{AccountId, AlertId, ShopConnectionId, UserId};
use serde::{Deserialize, Serialize};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised, nobody has looked yet.
    Open,
    /// Somebody is on it; still found by the detectors.
    Acknowledged,
    /// Fixed (by a person, or no longer found by the detectors).
    Resolved,
}

impl AlertStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(AlertStatus::Open),
            "acknowledged" => Some(AlertStatus::Acknowledged),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Id.
    pub id: AlertId,
    /// Account.
    pub account_id: AccountId,
    /// The shop it is about, if one.
    pub connection_id: Option<ShopConnectionId>,
    /// Which detector.
    pub kind: AlertKind,
    /// Stable identity within the connection (see `ferry_commerce::detect`).
    pub key: String,
    /// How urgent.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// The numbers behind it.
    pub details: serde_json::Value,
    /// Where it stands.
    pub status: AlertStatus,
    /// When it was first raised (or raised again after being resolved).
    pub first_seen_at: DateTime<Utc>,
    /// When a detector last found it.
    pub last_seen_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<UserId>,
    /// Who resolved it (`None` with `resolved_at`: the detectors did).
    pub resolved_by: Option<UserId>,
}

/// A finding to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// Which detector.
    pub kind: AlertKind,
    /// Stable identity within the connection.
    pub key: String,
    /// How urgent.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// The numbers behind it.
    pub details: serde_json::Value,
}

impl NewAlert {
    /// The outbox event of this finding raised as alert `id`.
    pub fn raised_event(&self, id: AlertId) -> ferry_core::event::Event {
        ferry_core::event::Event::AlertRaised {
            alert_id: id,
            kind: self.kind.as_str().to_owned(),
            severity: self.severity.as_str().to_owned(),
            title: self.title.clone(),
        }
    }
}

impl From<ferry_commerce::detect::Finding> for NewAlert {
    fn from(f: ferry_commerce::detect::Finding) -> Self {
        Self { kind: f.kind, key: f.key, severity: f.severity, title: f.title, details: f.details }
    }
}

/// What recording one detector run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRunOutcome {
    /// Alerts raised: new, or found again after being resolved.
    pub raised: Vec<AlertId>,
    /// Alerts still open or acknowledged, refreshed.
    pub refreshed: u32,
    /// Alerts resolved because they were no longer found.
    pub resolved: u32,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only in this status.
    pub status: Option<AlertStatus>,
    /// Only of this kind.
    pub kind: Option<AlertKind>,
    /// Page size (1–500; 0 means 100).
    pub limit: u32,
}

/// Alerts, and the reads the detectors need.
#[async_trait]
pub trait AlertRepo {
    /// Records the findings of one run of the detectors `kinds` on a
    /// connection, in one transaction: a new key opens an alert; an open or
    /// acknowledged one gets its severity, title, details and
    /// `last_seen_at` refreshed; a resolved one opens again. Every alert
    /// opened appends an `AlertRaised` event to the outbox. Open and
    /// acknowledged alerts of those kinds on the connection that were not
    /// found are resolved (by nobody). `NotFound` for a connection of
    /// another account.
    async fn record_alerts(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        kinds: &[AlertKind],
        found: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> StorageResult<AlertRunOutcome>;
    /// Records the findings of one run of account-wide detectors `kinds`
    /// (alerts on no connection), like [`AlertRepo::record_alerts`].
    async fn record_account_alerts(
        &self,
        account: AccountId,
        kinds: &[AlertKind],
        found: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> StorageResult<AlertRunOutcome>;
    /// Alerts of the account, newest first.
    async fn list_alerts(&self, account: AccountId, filter: AlertFilter) -> StorageResult<Vec<Alert>>;
    /// Reads an alert of the account.
    async fn get_alert(&self, account: AccountId, id: AlertId) -> StorageResult<Option<Alert>>;
    /// Acknowledges (`Acknowledged`) or resolves (`Resolved`) an alert on
    /// behalf of a user; `Open` reopens it. `NotFound` when it is not the
    /// account's.
    async fn set_alert_status(
        &self,
        account: AccountId,
        id: AlertId,
        status: AlertStatus,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StorageResult<Alert>;
    /// Every shop connection of every account, for the scheduled
    /// detectors (global, like the snooze timer's query).
    async fn detector_targets(&self) -> StorageResult<Vec<(AccountId, ShopConnectionId)>>;
    /// Units available per inventory item over all locations of a
    /// connection.
    async fn stock_levels(&self, account: AccountId, connection: ShopConnectionId)
    -> StorageResult<Vec<(String, i64)>>;
    /// Orders of a connection placed at or after `since`, newest first, at
    /// most `limit`, with their fulfilments and refunds.
    async fn orders_placed_since(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<OrderDetails>>;
    /// How many unresolved conversations of the account have a buyer
    /// message sent at or after `since` containing any of `terms`
    /// (case-insensitive).
    async fn count_conversations_asking(
        &self,
        account: AccountId,
        terms: &[String],
        since: DateTime<Utc>,
    ) -> StorageResult<u32>;
    /// The buyers of those conversations (at most 1,000).
    async fn contacts_asking(
        &self,
        account: AccountId,
        terms: &[String],
        since: DateTime<Utc>,
    ) -> StorageResult<Vec<ferry_core::ContactId>>;
}

/// An `alerts` row as both backends read it.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// connection_id
    pub connection_id: Option<i64>,
    /// kind
    pub kind: String,
    /// key
    pub key: String,
    /// severity
    pub severity: String,
    /// title
    pub title: String,
    /// details
    pub details: serde_json::Value,
    /// status
    pub status: String,
    /// first_seen_at
    pub first_seen_at: DateTime<Utc>,
    /// last_seen_at
    pub last_seen_at: DateTime<Utc>,
    /// resolved_at
    pub resolved_at: Option<DateTime<Utc>>,
    /// acknowledged_by
    pub acknowledged_by: Option<i64>,
    /// resolved_by
    pub resolved_by: Option<i64>,
}

/// The columns of [`AlertRow`], in order.
pub const ALERT_COLS: &str = "id, account_id, connection_id, kind, key, severity, title, details, status, \
     first_seen_at, last_seen_at, resolved_at, acknowledged_by, resolved_by";

impl TryFrom<AlertRow> for Alert {
    type Error = crate::StorageError;
    fn try_from(r: AlertRow) -> Result<Self, Self::Error> {
        let bad = |what: &str, v: &str| crate::StorageError::Corrupt(format!("alerts.{what} `{v}`"));
        Ok(Alert {
            id: AlertId(r.id),
            account_id: AccountId(r.account_id),
            connection_id: r.connection_id.map(ShopConnectionId),
            kind: r.kind.parse().map_err(|_| bad("kind", &r.kind))?,
            key: r.key,
            severity: r.severity.parse().map_err(|_| bad("severity", &r.severity))?,
            title: r.title,
            details: r.details,
            status: AlertStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
            resolved_at: r.resolved_at,
            acknowledged_by: r.acknowledged_by.map(UserId),
            resolved_by: r.resolved_by.map(UserId),
        })
    }
}

/// The page size of a filter: 1–500, 100 when unset.
pub fn alert_limit(f: &AlertFilter) -> u32 {
    if f.limit == 0 { 100 } else { f.limit.clamp(1, 500) }
}
