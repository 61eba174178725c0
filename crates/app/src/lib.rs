//! Ferry's use cases. HTTP handlers, webhooks, workers and the CLI call
//! these services alike; this is the one place that orchestrates storage,
//! the event bus, jobs and outside calls.

pub mod alerts;
pub mod attachments;
pub mod auth;
pub mod bot;
pub mod bus;
mod canned;
pub mod commerce;
pub mod contacts;
mod conversations;
pub mod delivery;
mod directory;
pub mod email;
mod error;
pub mod housekeeping;
mod inbox_cache;
pub mod intake;
pub mod mail;
pub mod order_actions;
pub mod search;
pub mod shop_import;
pub mod shopify_connector;
#[cfg(feature = "shopify-mock")]
pub mod shopify_mock;
pub mod shopify_sync;
pub mod sms;
pub mod widget;

pub use conversations::{ConversationQuery, NewReply};
pub use directory::{NewAgent, NewInboxInput};
pub use error::{AppError, AppResult};

use attachments::AttachmentStore;
use bus::{Dispatcher, EventBus};
use chrono::Duration;
use ferry_core::clock::Clock;
use ferry_storage::Storage;
use std::sync::Arc;
use tokio::sync::Notify;

/// Settings of the use cases.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// A buyer message within this long after resolving reopens the
    /// conversation; later ones open a new one.
    pub reopen_window: Duration,
    /// How long a console login lasts.
    pub session_ttl: Duration,
    /// Public base URL (for links in webhooks and the widget snippet).
    pub public_url: String,
    /// Outgoing mail (one-time codes); `None`: Ferry sends no e-mail.
    pub smtp: Option<SmtpConfig>,
    /// The commerce detectors' settings.
    pub detectors: alerts::DetectorConfig,
    /// How long published events and finished jobs are kept.
    pub retention: Duration,
    /// Outgoing SMS (one-time codes to an order's phone); `None`: Ferry
    /// sends no SMS.
    pub sms: Option<SmsConfig>,
}

/// A provider speaking Twilio's Messages API.
#[derive(Clone)]
pub struct SmsConfig {
    /// Base URL (`https://api.twilio.com`).
    pub base_url: String,
    /// Account sid (the basic-auth user and part of the path).
    pub account_sid: String,
    /// Auth token (never logged).
    pub auth_token: String,
    /// Sender number (E.164) or alphanumeric sender id.
    pub from: String,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"…")
            .field("from", &self.from)
            .finish()
    }
}

/// Where Ferry's e-mails go out.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port`, `smtps://user:pass@host:465`, … (lettre's URL form).
    pub url: String,
    /// Sender, e.g. `Shop <no-reply@shop.example>`.
    pub from: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            reopen_window: Duration::days(7),
            session_ttl: Duration::days(14),
            public_url: "http://127.0.0.1:8080".to_owned(),
            smtp: None,
            detectors: alerts::DetectorConfig::default(),
            retention: Duration::days(7),
            sms: None,
        }
    }
}

/// The application: every use case hangs off it.
pub struct App {
    /// The store.
    pub storage: Arc<dyn Storage>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Where committed events are published.
    pub bus: Arc<dyn EventBus>,
    /// Files attached to messages.
    pub attachments: Arc<dyn AttachmentStore>,
    /// Settings.
    pub config: AppConfig,
    dispatch: Arc<Notify>,
    jobs: Arc<Notify>,
    inbox_cache: inbox_cache::InboxCache,
    bots: bot::Engines,
}

impl App {
    /// Builds the application. `jobs` wakes the job worker when a job is
    /// enqueued.
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        bus: Arc<dyn EventBus>,
        attachments: Arc<dyn AttachmentStore>,
        config: AppConfig,
        jobs: Arc<Notify>,
    ) -> Arc<Self> {
        Arc::new(Self {
            storage,
            clock,
            bus,
            attachments,
            config,
            dispatch: Arc::new(Notify::new()),
            jobs,
            inbox_cache: inbox_cache::InboxCache::default(),
            bots: bot::Engines::default(),
        })
    }

    /// The outbox dispatcher of this application; run it once per process.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(self.storage.clone(), self.bus.clone(), self.dispatch.clone(), self.clock.clone())
    }

    /// Tells the dispatcher new events were committed.
    pub(crate) fn events_committed(&self) {
        self.dispatch.notify_one();
    }

    /// Tells the worker a job was enqueued.
    pub(crate) fn job_enqueued(&self) {
        self.jobs.notify_one();
    }
}
