//! Configuration: an optional TOML file overridden by `FERRY_*`
//! environment variables (`__` for nesting). With nothing set, Ferry runs on
//! SQLite in the user's data directory.

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A value that must never be printed (passwords, tokens, URLs with them).
pub type Secret = ferry_core::secret::Secret<String>;

/// Ferry's settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://path/to/ferry.sqlite` or `postgres://user:pass@host/db`.
    /// Empty: SQLite in `data_dir`.
    pub database_url: Secret,
    /// `nats://host:4222` (with JetStream): events and live signals go
    /// through NATS to every node sharing the database. Empty: one node,
    /// events in process.
    pub nats_url: Secret,
    /// Subject prefix and stream name of this installation on NATS (one
    /// server may serve several installations).
    pub nats_prefix: String,
    /// Address to listen on.
    pub listen: String,
    /// Where SQLite and attachments live. Empty: the user's data directory.
    pub data_dir: Option<PathBuf>,
    /// Base URL users reach Ferry at (links, widget snippet).
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Mark session cookies Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Ferry is reached through a reverse proxy: a caller's address (for
    /// the widget's rate limits) is the last `X-Forwarded-For` entry.
    pub behind_proxy: bool,
    /// SQLite commit durability: `full` (default: every answered write is
    /// on disk) or `normal`.
    pub sqlite_synchronous: String,
    /// Log filter, e.g. `info` or `ferry=debug,info`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>`.
    /// Empty: the metrics are open to whoever reaches the port.
    pub metrics_token: Secret,
    /// Days finished jobs are kept (published events go within seconds).
    pub retention_days: i64,
    /// Outgoing mail for one-time codes: `smtp://host:25`,
    /// `smtps://user:password@host:465` or `smtp://user:password@host:587?tls=required`.
    /// Empty: no e-mail is sent (the bot asks for the order's e-mail instead).
    pub smtp_url: Secret,
    /// Sender address of Ferry's e-mails.
    pub smtp_from: String,
    /// Base URL of an SMS provider speaking Twilio's Messages API
    /// (`https://api.twilio.com`). Empty: no SMS is sent.
    pub sms_url: String,
    /// The provider's account sid.
    pub sms_account_sid: String,
    /// The provider's auth token.
    pub sms_auth_token: Secret,
    /// Sender number (E.164) or sender id of Ferry's SMS.
    pub sms_from: String,
    /// The commerce detectors.
    pub detectors: DetectorsConfig,
    pub jobs: JobsConfig,
    /// Where attachment bytes are kept.
    pub attachments: AttachmentsConfig,
    /// The token of the platform API (`/platform/api/v1/…`: create, list
    /// and suspend accounts), sent as `Authorization: Bearer <token>`.
    /// Empty: the platform API is off (404).
    pub platform_token: Secret,
    /// Outgoing webhooks.
    pub webhooks: WebhooksConfig,
}

/// Outgoing webhooks (`[webhooks]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow receivers on private, loopback and link-local addresses.
    pub allow_private_targets: bool,
    /// Disable a webhook after this many failed attempts in a row.
    pub disable_after_failures: u32,
    /// Disable a webhook failing for this many hours without a success.
    pub disable_after_hours: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        let d = ferry_app::webhooks::WebhookSettings::default();
        Self {
            allow_private_targets: d.allow_private_targets,
            disable_after_failures: d.disable_after_failures,
            disable_after_hours: u32::try_from(d.disable_after.num_hours()).unwrap_or(24),
        }
    }
}

impl WebhooksConfig {
    /// The use cases' settings.
    pub fn to_app(&self) -> ferry_app::webhooks::WebhookSettings {
        ferry_app::webhooks::WebhookSettings {
            allow_private_targets: self.allow_private_targets,
            disable_after_failures: self.disable_after_failures,
            disable_after: chrono::Duration::hours(i64::from(self.disable_after_hours)),
            ..ferry_app::webhooks::WebhookSettings::default()
        }
    }
}

/// Where attachment bytes are kept (`[attachments]`): files under
/// `data_dir/attachments` by default, an S3-compatible bucket when
/// `s3_bucket` is set (needed when several nodes serve the same database).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// Largest file an agent may upload, in bytes.
    pub max_upload_bytes: u64,
    /// Endpoint URL of an S3-compatible server; empty: AWS S3.
    pub s3_endpoint: String,
    /// Bucket; empty: local files.
    pub s3_bucket: String,
    pub s3_region: String,
    /// Empty: the usual AWS sources (`AWS_ACCESS_KEY_ID`, web identity,
    /// instance metadata).
    pub s3_access_key_id: String,
    pub s3_secret_access_key: Secret,
    /// Allow an `http://` endpoint.
    pub s3_allow_http: bool,
    /// `endpoint/bucket/key` addressing (MinIO and most self-hosted
    /// servers) instead of `bucket.endpoint/key`.
    pub s3_path_style: bool,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: ferry_app::AppConfig::default().max_attachment_bytes,
            s3_endpoint: String::new(),
            s3_bucket: String::new(),
            s3_region: "us-east-1".into(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: Secret::default(),
            s3_allow_http: false,
            s3_path_style: false,
        }
    }
}

impl AttachmentsConfig {
    /// The bucket's settings, when attachments go to S3.
    pub fn s3(&self) -> Option<ferry_app::attachments::S3Settings> {
        (!self.s3_bucket.trim().is_empty()).then(|| ferry_app::attachments::S3Settings {
            endpoint: self.s3_endpoint.trim().to_owned(),
            bucket: self.s3_bucket.trim().to_owned(),
            region: self.s3_region.trim().to_owned(),
            access_key_id: self.s3_access_key_id.trim().to_owned(),
            secret_access_key: self.s3_secret_access_key.clone(),
            allow_http: self.s3_allow_http,
            path_style: self.s3_path_style,
        })
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_upload_bytes >= 1024, "attachments.max_upload_bytes must be at least 1024");
        let s3_set = !self.s3_endpoint.trim().is_empty()
            || !self.s3_access_key_id.trim().is_empty()
            || !self.s3_secret_access_key.is_blank();
        if self.s3_bucket.trim().is_empty() {
            anyhow::ensure!(!s3_set, "attachments: S3 settings are given but attachments.s3_bucket is empty");
            return Ok(());
        }
        anyhow::ensure!(
            self.s3_access_key_id.trim().is_empty() == self.s3_secret_access_key.is_blank(),
            "attachments.s3_access_key_id and attachments.s3_secret_access_key go together"
        );
        if !self.s3_endpoint.trim().is_empty() {
            let u = url::Url::parse(self.s3_endpoint.trim()).context("attachments.s3_endpoint is not a URL")?;
            match u.scheme() {
                "https" => {}
                "http" => anyhow::ensure!(
                    self.s3_allow_http,
                    "attachments.s3_endpoint is http://: set attachments.s3_allow_http = true to allow it"
                ),
                _ => anyhow::bail!("attachments.s3_endpoint must be http or https"),
            }
        }
        Ok(())
    }
}

/// How background jobs run (`[jobs]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    pub lease_seconds: u64,
    pub concurrency: usize,
    pub reconcile_seconds: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        let d = ferry_app::JobSettings::default();
        Self {
            lease_seconds: u64::try_from(d.lease.num_seconds()).unwrap_or(120),
            concurrency: d.concurrency,
            reconcile_seconds: u64::try_from(d.reconcile.num_seconds()).unwrap_or(60),
        }
    }
}

impl JobsConfig {
    pub fn to_app(&self) -> ferry_app::JobSettings {
        let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        ferry_app::JobSettings {
            lease: secs(self.lease_seconds),
            concurrency: self.concurrency,
            reconcile: secs(self.reconcile_seconds),
        }
    }
}

/// The commerce detectors: stock-outs, low stock, late orders and slow
/// carriers (the rules are described in `ferry_commerce::detect`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorsConfig {
    /// Minutes between scheduled runs.
    pub interval_minutes: u64,
    /// Days of sales the sell-through rate is computed over.
    pub sales_window_days: i64,
    /// Days of cover below which stock is low.
    pub low_stock_cover_days: f64,
    /// Days within which a paid order must ship.
    pub ship_within_days: i64,
    /// Fewest shipments of a carrier to a country worth judging.
    pub carrier_min_shipments: usize,
    /// Fewest late shipments of a delayed carrier to a country.
    pub carrier_min_late: usize,
    /// Smallest late share (0–1) of a delayed carrier to a country.
    pub carrier_late_share: f64,
}

impl Default for DetectorsConfig {
    fn default() -> Self {
        let d = ferry_app::alerts::DetectorConfig::default();
        let t = d.thresholds;
        Self {
            interval_minutes: u64::try_from(d.interval.num_minutes()).unwrap_or(15),
            sales_window_days: t.sales_window_days,
            low_stock_cover_days: t.min_cover_days,
            ship_within_days: t.ship_within_days,
            carrier_min_shipments: t.carrier_min_shipments,
            carrier_min_late: t.carrier_min_late,
            carrier_late_share: t.carrier_late_share,
        }
    }
}

impl DetectorsConfig {
    /// The use cases' settings.
    pub fn to_app(&self) -> ferry_app::alerts::DetectorConfig {
        let d = ferry_app::alerts::DetectorConfig::default();
        ferry_app::alerts::DetectorConfig {
            thresholds: ferry_commerce::detect::Thresholds {
                sales_window_days: self.sales_window_days,
                min_cover_days: self.low_stock_cover_days,
                ship_within_days: self.ship_within_days,
                carrier_min_shipments: self.carrier_min_shipments,
                carrier_min_late: self.carrier_min_late,
                carrier_late_share: self.carrier_late_share,
                ..d.thresholds
            },
            interval: chrono::Duration::minutes(i64::try_from(self.interval_minutes).unwrap_or(15)),
            ..d
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: Secret::default(),
            nats_url: Secret::default(),
            nats_prefix: "ferry".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: None,
            public_url: None,
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
            behind_proxy: false,
            sqlite_synchronous: "full".into(),
            log: "info".into(),
            log_format: "text".into(),
            metrics_token: Secret::default(),
            retention_days: 7,
            smtp_url: Secret::default(),
            smtp_from: "Ferry <no-reply@localhost>".into(),
            sms_url: String::new(),
            sms_account_sid: String::new(),
            sms_auth_token: Secret::default(),
            sms_from: String::new(),
            detectors: DetectorsConfig::default(),
            jobs: JobsConfig::default(),
            attachments: AttachmentsConfig::default(),
            platform_token: Secret::default(),
            webhooks: WebhooksConfig::default(),
        }
    }
}

/// A documented example configuration (`ferry default-config`).
pub const EXAMPLE: &str = r#"# Ferry configuration. Every key may also be set as an environment variable
# FERRY_<KEY> (upper case), e.g. FERRY_DATABASE_URL, FERRY_LISTEN.

# sqlite://path/to/ferry.sqlite or postgres://user:password@host:5432/db.
# Empty: SQLite in data_dir.
database_url = ""

# nats://host:4222 of a NATS server with JetStream (nats-server -js). Set it
# on every node when several `ferry serve` share one PostgreSQL database:
# events reach the agents' consoles on every node. Empty: a single node.
nats_url = ""
# Subjects are <nats_prefix>.<account>.<event>; the stream is named after
# the prefix. Give each installation sharing a NATS server its own.
nats_prefix = "ferry"

# Address to listen on.
listen = "127.0.0.1:8080"

# Where SQLite and attachments live. Commented out: the user's data directory.
# data_dir = "/var/lib/ferry"

# Base URL users reach Ferry at (links, widget snippet).
# public_url = "https://support.example.com"

# Largest accepted request body in bytes (webhooks included).
max_body_bytes = 1048576

# Mark session cookies Secure; set when Ferry is served over HTTPS.
secure_cookies = false

# Set when a reverse proxy forwards to Ferry: the widget's rate limits then
# count a visitor's address from the last X-Forwarded-For entry instead of
# the proxy's.
behind_proxy = false

# SQLite commit durability: "full" (every acknowledged write is on disk) or
# "normal" (faster; the last commits may be lost on power failure).
sqlite_synchronous = "full"

# Log filter and format ("text" or "json").
log = "info"
log_format = "text"

# Prometheus metrics are served at GET /metrics. When a token is set, a
# scrape must send "Authorization: Bearer <token>"; empty: no token needed
# (keep the port private then).
metrics_token = ""

# Days finished jobs are kept before the hourly housekeeping deletes them
# (failed jobs are kept; published events are deleted within seconds).
retention_days = 7

# Outgoing mail for the one-time codes that prove a buyer owns an order:
# smtp://host:25, smtps://user:password@host:465 or
# smtp://user:password@host:587?tls=required. Empty: no e-mail is sent and
# the bot asks for the order's e-mail address instead.
smtp_url = ""
smtp_from = "Ferry <no-reply@localhost>"

# SMS for one-time codes to an order's phone (used when the order has no
# e-mail or the e-mail cannot be sent), through a provider speaking Twilio's
# Messages API. Empty sms_url: no SMS is sent.
sms_url = ""            # e.g. "https://api.twilio.com"
sms_account_sid = ""
sms_auth_token = ""
sms_from = ""           # e.g. "+15005550006"

# The platform API for the server's operator: POST/GET
# /platform/api/v1/accounts (create an account with its first owner, list
# accounts) and POST /platform/api/v1/accounts/{id}/suspend and /unsuspend,
# authenticated with "Authorization: Bearer <platform_token>". Use a long
# random value. Empty: the platform API is off (404). The command line
# (`ferry account create|list|suspend|unsuspend`) needs no token.
platform_token = ""
# The commerce detectors raise alerts in the console: variants out of stock
# but still listed, low stock by sell-through, orders past their promised
# ship or delivery date, carriers late to one destination country.
[detectors]
# Minutes between runs.
interval_minutes = 15
# Sell-through is measured over this many days; stock is low below this
# many days of cover.
sales_window_days = 14
low_stock_cover_days = 7.0
# A paid order must ship within this many days.
ship_within_days = 3
# A carrier is late to a country with at least this many shipments there,
# this many of them late, and this late share (also clearly above the rest).
carrier_min_shipments = 5
carrier_min_late = 3
carrier_late_share = 0.3

# Background jobs (deliveries of outgoing messages, bot replies).
[jobs]
# How long a node holds a job it claimed: when a node dies mid-job, another
# (or the same one restarted) takes the job over after this.
lease_seconds = 120
# Jobs a node runs at once (deliveries to different buyers go side by side;
# one buyer's messages always go in order).
concurrency = 16
# A delivery interrupted mid-send (the node died) on a channel that reports
# sends with Ferry's message id (WhatsApp) waits this long for that report
# before sending again, so the buyer does not get the message twice.
reconcile_seconds = 60

# Attachment bytes. By default they are files under data_dir/attachments;
# several nodes serving one database need a shared S3-compatible bucket
# (AWS S3, MinIO, Ceph, Garage, ...): set s3_bucket. As variables:
# FERRY_ATTACHMENTS__S3_BUCKET, FERRY_ATTACHMENTS__S3_ENDPOINT, ...
[attachments]
# Largest file an agent may upload (streamed, so above max_body_bytes).
max_upload_bytes = 26214400
# Endpoint of an S3-compatible server, e.g. "http://minio:9000"; empty: AWS.
s3_endpoint = ""
# Bucket (it must exist); empty: local files.
s3_bucket = ""
s3_region = "us-east-1"
# Empty key and secret: the usual AWS sources (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, web identity, instance metadata).
s3_access_key_id = ""
s3_secret_access_key = ""
# Allow an http:// endpoint (a server on a private network).
s3_allow_http = false
# Address objects as endpoint/bucket/key (MinIO and most self-hosted
# servers) rather than bucket.endpoint/key (AWS).
s3_path_style = false

# Outgoing webhooks that accounts subscribe to their events.
[webhooks]
# Receivers on private, loopback or link-local addresses (10.x, 192.168.x,
# 127.0.0.1, 169.254.x, fc00::/7, ...) are refused unless this is true: set
# it only when the integrations run on Ferry's own trusted network.
allow_private_targets = false
# A webhook is disabled (and an alert raised) after this many failed
# attempts in a row, or after failing this many hours without a success.
disable_after_failures = 50
disable_after_hours = 24
"#;

impl Config {
    /// Reads defaults, then `file` (if given or `ferry.toml` exists), then
    /// `FERRY_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
                fig = fig.merge(Toml::file(f));
            }
            None => {
                if Path::new("ferry.toml").exists() {
                    fig = fig.merge(Toml::file("ferry.toml"));
                }
            }
        }
        // Variables of the same prefix that are not settings: the config
        // file's path and `ferry account create`'s owner password (read by
        // the command line) and the test and tool settings.
        const NOT_SETTINGS: [&str; 6] =
            ["config", "test_postgres_url", "minilm_dir", "shared_data", "bin", "owner_password"];
        // The same for nested settings: variable name, then setting path.
        const NESTED_TEXT: [(&str, &str); 2] = [
            ("attachments__s3_access_key_id", "attachments.s3_access_key_id"),
            ("attachments__s3_secret_access_key", "attachments.s3_secret_access_key"),
        ];
        // Values figment would read as numbers (`+15005550006`, an
        // all-digit token) are taken as the text they are.
        const TEXT: [&str; 4] = ["sms_from", "sms_account_sid", "sms_auth_token", "platform_token"];
        let skip: Vec<&str> =
            NOT_SETTINGS.iter().chain(TEXT.iter()).chain(NESTED_TEXT.iter().map(|(var, _)| var)).copied().collect();
        fig = fig.merge(Env::prefixed("FERRY_").ignore(&skip).split("__"));
        for key in TEXT {
            if let Ok(v) = std::env::var(format!("FERRY_{}", key.to_ascii_uppercase())) {
                fig = fig.merge(Serialized::default(key, v));
            }
        }
        for (var, path) in NESTED_TEXT {
            if let Ok(v) = std::env::var(format!("FERRY_{}", var.to_ascii_uppercase())) {
                fig = fig.merge(Serialized::default(path, v));
            }
        }
        let c: Config = fig.extract().context("invalid configuration")?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!((1..=3650).contains(&self.retention_days), "retention_days must be from 1 to 3650");
        if !self.sms_url.trim().is_empty() {
            let u = url::Url::parse(self.sms_url.trim()).context("sms_url is not a URL")?;
            anyhow::ensure!(matches!(u.scheme(), "http" | "https"), "sms_url must be http or https");
            anyhow::ensure!(
                !self.sms_account_sid.trim().is_empty() && !self.sms_auth_token.is_blank(),
                "sms_url needs sms_account_sid and sms_auth_token"
            );
            anyhow::ensure!(!self.sms_from.trim().is_empty(), "sms_url needs sms_from (the sender number or id)");
        }
        anyhow::ensure!(
            matches!(self.sqlite_synchronous.as_str(), "full" | "normal"),
            "sqlite_synchronous must be \"full\" or \"normal\""
        );
        anyhow::ensure!(matches!(self.log_format.as_str(), "text" | "json"), "log_format must be \"text\" or \"json\"");
        anyhow::ensure!(self.max_body_bytes >= 1024, "max_body_bytes must be at least 1024");
        self.attachments.check()?;
        anyhow::ensure!(
            self.webhooks.disable_after_failures >= 1 && (1..=720).contains(&self.webhooks.disable_after_hours),
            "webhooks: disable_after_failures must be at least 1 and disable_after_hours from 1 to 720"
        );
        let token = self.platform_token.expose().trim();
        anyhow::ensure!(
            token.is_empty() || token.len() >= 16,
            "platform_token must have at least 16 characters (or be empty to turn the platform API off)"
        );
        self.listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| format!("listen `{}` is not host:port", self.listen))?;
        let d = &self.detectors;
        anyhow::ensure!(
            (1..=10_080).contains(&d.interval_minutes),
            "detectors.interval_minutes must be from 1 to 10080 (a week)"
        );
        anyhow::ensure!(
            (1..=3650).contains(&d.sales_window_days)
                && (0..=3650).contains(&d.ship_within_days)
                && (0.0..=3650.0).contains(&d.low_stock_cover_days),
            "detectors: sales_window_days must be from 1 to 3650, ship_within_days and low_stock_cover_days from 0 to 3650"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&d.carrier_late_share),
            "detectors.carrier_late_share must be between 0 and 1"
        );
        let j = &self.jobs;
        anyhow::ensure!((1..=86_400).contains(&j.lease_seconds), "jobs.lease_seconds must be from 1 to 86400 (a day)");
        anyhow::ensure!((1..=1024).contains(&j.concurrency), "jobs.concurrency must be from 1 to 1024");
        anyhow::ensure!(j.reconcile_seconds <= 86_400, "jobs.reconcile_seconds must be at most 86400 (a day)");
        let url = self.database_url.expose();
        anyhow::ensure!(
            url.is_empty()
                || url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"),
            "database_url must start with sqlite:// or postgres://"
        );
        let nats = self.nats_url.expose().trim();
        anyhow::ensure!(
            nats.is_empty()
                || nats.split(',').all(|u| u.trim().starts_with("nats://") || u.trim().starts_with("tls://")),
            "nats_url must start with nats:// or tls://"
        );
        anyhow::ensure!(
            !self.nats_prefix.is_empty()
                && self.nats_prefix.len() <= 32
                && self.nats_prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "nats_prefix must be 1 to 32 letters, digits, '_' or '-'"
        );
        Ok(())
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("ferry"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let c: Config = Figment::from(Toml::string(EXAMPLE)).extract().unwrap_or_default();
        assert_eq!(c, Config::default());
        let unknown: Result<Config, _> = Figment::from(Toml::string("lisen = \"x\"")).extract();
        assert!(unknown.is_err());
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn detector_settings_come_from_the_file_with_defaults_for_the_rest() {
        let fig = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("[detectors]\ninterval_minutes = 5\nship_within_days = 2\n"));
        let c: Config = fig.extract().unwrap();
        let d = c.detectors.to_app();
        assert_eq!(d.interval, chrono::Duration::minutes(5));
        assert_eq!(d.thresholds.ship_within_days, 2);
        assert_eq!(d.thresholds.sales_window_days, 14);
        assert_eq!(Config::default().detectors.to_app(), ferry_app::alerts::DetectorConfig::default());
        let bad = |d: DetectorsConfig| Config { detectors: d, ..Config::default() }.check().is_err();
        assert!(bad(DetectorsConfig { carrier_late_share: 1.5, ..DetectorsConfig::default() }));
        assert!(bad(DetectorsConfig { interval_minutes: 0, ..DetectorsConfig::default() }));
        assert!(!bad(DetectorsConfig::default()));
        let typo: Result<Config, _> = Figment::from(Toml::string("[detectors]\nintervall = 5\n")).extract();
        assert!(typo.is_err());
    }

    #[test]
    #[allow(clippy::unwrap_used, clippy::result_large_err)]
    fn the_environment_sets_text_that_looks_like_numbers_and_ignores_tool_variables() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FERRY_SMS_URL", "https://api.twilio.com");
            jail.set_env("FERRY_SMS_ACCOUNT_SID", "12345");
            jail.set_env("FERRY_SMS_AUTH_TOKEN", "987654321");
            jail.set_env("FERRY_SMS_FROM", "+15005550006");
            jail.set_env("FERRY_RETENTION_DAYS", "30");
            jail.set_env("FERRY_DETECTORS__INTERVAL_MINUTES", "5");
            jail.set_env("FERRY_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");
            jail.set_env("FERRY_CONFIG", "ferry.toml");
            let c = Config::load(None).map_err(|e| figment::Error::from(format!("{e:#}")))?;
            assert_eq!((c.sms_from.as_str(), c.sms_account_sid.as_str()), ("+15005550006", "12345"));
            assert_eq!(c.sms_auth_token.expose(), "987654321");
            assert_eq!((c.retention_days, c.detectors.interval_minutes), (30, 5));
            jail.set_env("FERRY_DETECTORS__INTERVAL_MINUTES", "99999999999");
            assert!(Config::load(None).is_err(), "out of range");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::unwrap_used, clippy::result_large_err)]
    fn job_settings_come_from_the_file_and_the_environment() {
        assert_eq!(Config::default().jobs.to_app(), ferry_app::JobSettings::default());
        figment::Jail::expect_with(|jail| {
            jail.create_file("jobs.toml", "[jobs]\nlease_seconds = 3\n")?;
            jail.set_env("FERRY_JOBS__CONCURRENCY", "4");
            let c = Config::load(Some(Path::new("jobs.toml"))).map_err(|e| figment::Error::from(format!("{e:#}")))?;
            let j = c.jobs.to_app();
            assert_eq!((j.lease, j.concurrency), (chrono::Duration::seconds(3), 4));
            assert_eq!(j.reconcile, ferry_app::JobSettings::default().reconcile);
            jail.set_env("FERRY_JOBS__CONCURRENCY", "0");
            assert!(Config::load(Some(Path::new("jobs.toml"))).is_err(), "no worker at all");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_platform_token_and_webhook_settings_come_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FERRY_PLATFORM_TOKEN", "operator-token-0123456789");
            jail.set_env("FERRY_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true");
            jail.set_env("FERRY_WEBHOOKS__DISABLE_AFTER_FAILURES", "3");
            let c = Config::load(None).map_err(|e| figment::Error::from(format!("{e:#}")))?;
            assert_eq!(c.platform_token.expose(), "operator-token-0123456789");
            let w = c.webhooks.to_app();
            assert!(w.allow_private_targets);
            assert_eq!((w.disable_after_failures, w.disable_after), (3, chrono::Duration::hours(24)));
            jail.set_env("FERRY_PLATFORM_TOKEN", "short");
            assert!(Config::load(None).is_err(), "a guessable token");
            Ok(())
        });
        assert_eq!(Config::default().webhooks.to_app(), ferry_app::webhooks::WebhookSettings::default());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_metrics_token_comes_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FERRY_METRICS_TOKEN", "scrape-me");
            let c = Config::load(None).map_err(|e| figment::Error::from(format!("{e:#}")))?;
            assert_eq!(c.metrics_token.expose(), "scrape-me");
            Ok(())
        });
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config {
            database_url: Secret::from("postgres://u:hunter2@h/db"),
            smtp_url: Secret::from("smtps://codes:hunter3@mail.example:465"),
            sms_auth_token: Secret::from("hunter4"),
            metrics_token: Secret::from("hunter5"),
            platform_token: Secret::from("hunter7-platform-token"),
            attachments: AttachmentsConfig {
                s3_bucket: "files".into(),
                s3_access_key_id: "AKIAFERRY".into(),
                s3_secret_access_key: Secret::from("hunter6"),
                ..AttachmentsConfig::default()
            },
            ..Config::default()
        };
        let printed = format!("{c:?}");
        for secret in ["hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "hunter7"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn s3_settings_come_from_the_environment_and_are_checked() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| figment::Error::from(format!("{e:#}")))?;
            assert!(c.attachments.s3().is_none(), "local files by default");
            jail.set_env("FERRY_ATTACHMENTS__S3_ENDPOINT", "http://127.0.0.1:9000");
            jail.set_env("FERRY_ATTACHMENTS__S3_BUCKET", "ferry");
            jail.set_env("FERRY_ATTACHMENTS__S3_ACCESS_KEY_ID", "12345");
            jail.set_env("FERRY_ATTACHMENTS__S3_SECRET_ACCESS_KEY", "0987654321");
            jail.set_env("FERRY_ATTACHMENTS__S3_PATH_STYLE", "true");
            let refused = format!("{:#}", Config::load(None).err().unwrap_or_else(|| anyhow::anyhow!("loaded")));
            assert!(refused.contains("s3_allow_http"), "{refused}");
            jail.set_env("FERRY_ATTACHMENTS__S3_ALLOW_HTTP", "true");
            let c = Config::load(None).map_err(|e| figment::Error::from(format!("{e:#}")))?;
            let s3 = c.attachments.s3().ok_or_else(|| figment::Error::from("no S3 settings".to_owned()))?;
            assert_eq!((s3.endpoint.as_str(), s3.bucket.as_str()), ("http://127.0.0.1:9000", "ferry"));
            assert_eq!((s3.access_key_id.as_str(), s3.secret_access_key.expose().as_str()), ("12345", "0987654321"));
            assert!(s3.allow_http && s3.path_style);
            assert_eq!(s3.region, "us-east-1");
            jail.set_env("FERRY_ATTACHMENTS__S3_SECRET_ACCESS_KEY", "");
            assert!(Config::load(None).is_err(), "a key id without its secret");
            jail.set_env("FERRY_ATTACHMENTS__S3_BUCKET", "");
            jail.set_env("FERRY_ATTACHMENTS__S3_ACCESS_KEY_ID", "");
            assert!(Config::load(None).is_err(), "an endpoint without a bucket");
            Ok(())
        });
    }
}
