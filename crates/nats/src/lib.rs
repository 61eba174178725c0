//! Ferry's event bus on NATS JetStream, for several nodes sharing one
//! PostgreSQL store.
//!
//! Each node's outbox dispatcher publishes committed events to the stream
//! `FERRY_EVENTS` under `ferry.{account}.{event}` (`ferry` being the
//! installation's prefix, so installations can share a server), with the outbox id as
//! the JetStream message id: when two nodes publish the same event (one
//! from its commit, the other from its recovery scan) the stream keeps it
//! once. The dispatcher marks events published only after the stream
//! acknowledged them. Every node reads the stream through its own durable
//! consumer and hands each event to its local subscribers (the agents' and
//! visitors' WebSockets), acknowledging it once handed on; a consumer left
//! by a node that died is removed by the server after a while.
//!
//! Typing and presence go over core NATS (`ferry_signals.{account}`): not
//! stored, best effort, like the signals themselves.

use async_nats::jetstream::{self, consumer, stream};
use async_trait::async_trait;
use ferry_app::bus::{BusError, EventBus};
use ferry_app::signals::{Signal, SignalRelay, Signals};
use ferry_core::event::EventEnvelope;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Settings of the NATS connection.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// `nats://host:port` (several separated by commas).
    pub url: String,
    /// Subject prefix of the installation (letters, digits, `_`, `-`).
    pub prefix: String,
    /// How long the stream keeps events.
    pub max_age: Duration,
    /// Events kept for subscribers that fall behind on this node.
    pub local_capacity: usize,
}

impl NatsOptions {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "ferry".to_owned(),
            max_age: Duration::from_secs(24 * 3600),
            local_capacity: 1024,
        }
    }
}

/// NATS could not be reached or set up.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// Connecting failed.
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// JetStream refused the stream or consumer.
    #[error("NATS JetStream: {0} (is the server started with JetStream, `-js`?)")]
    JetStream(String),
}

/// The JetStream event bus of one node.
pub struct NatsBus {
    js: jetstream::Context,
    prefix: String,
    local: broadcast::Sender<Arc<EventEnvelope>>,
}

/// Subject of an event.
pub fn subject(prefix: &str, e: &EventEnvelope) -> String {
    format!("{prefix}.{}.{}", e.account_id, e.event.name())
}

/// The stream of an installation.
pub fn stream_name(prefix: &str) -> String {
    format!("{}_EVENTS", prefix.to_ascii_uppercase().replace('-', "_"))
}

impl NatsBus {
    /// Connects, creates the stream if missing and starts this node's
    /// consumer; attaches the signal relay to `signals`.
    pub async fn connect(opts: NatsOptions, signals: Arc<Signals>) -> Result<Arc<Self>, NatsError> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("ferry {}", signals.node_name()))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(opts.url.as_str());
        let client = tokio::time::timeout(Duration::from_secs(10), client)
            .await
            .map_err(|_| NatsError::Connect { url: opts.url.clone(), reason: "timed out".into() })?
            .map_err(|e| NatsError::Connect { url: opts.url.clone(), reason: e.to_string() })?;
        let js = jetstream::new(client.clone());
        let stream = js
            .get_or_create_stream(stream::Config {
                name: stream_name(&opts.prefix),
                subjects: vec![format!("{}.*.*", opts.prefix)],
                max_age: opts.max_age,
                duplicate_window: Duration::from_secs(120),
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| NatsError::JetStream(e.to_string()))?;
        let name = format!("hub-{}", signals.node_name());
        let consumer = open_consumer(&stream, &name).await.map_err(|e| NatsError::JetStream(e.to_string()))?;
        let messages = consumer.messages().await.map_err(|e| NatsError::JetStream(e.to_string()))?;
        let (local, _) = broadcast::channel(opts.local_capacity.max(16));
        tokio::spawn(hand_on(stream, name, messages, local.clone()));

        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(relay_out(client.clone(), rx, format!("{}_signals", opts.prefix)));
        let live = format!("{}_signals", opts.prefix);
        let sub = client
            .subscribe(format!("{live}.>"))
            .await
            .map_err(|e| NatsError::Connect { url: opts.url, reason: e.to_string() })?;
        tokio::spawn(relay_in(sub, signals.clone()));
        signals.attach(Arc::new(Relay { tx }));
        Ok(Arc::new(Self { js, prefix: opts.prefix, local }))
    }
}

/// This node's durable consumer: new events from now on, each
/// acknowledged once handed on; the server removes it when the node has
/// been gone for five minutes.
async fn open_consumer(stream: &stream::Stream, name: &str) -> Result<consumer::PullConsumer, async_nats::Error> {
    let config = consumer::pull::Config {
        durable_name: Some(name.to_owned()),
        deliver_policy: consumer::DeliverPolicy::New,
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        inactive_threshold: Duration::from_secs(300),
        max_ack_pending: 10_000,
        ..Default::default()
    };
    Ok(stream.get_or_create_consumer(name, config).await?)
}

/// Hands the stream's events to this node's subscribers, acknowledging
/// each once handed on. When the message stream ends (NATS restarted, the
/// consumer was removed after an outage) it is opened again, the consumer
/// made again if it is gone.
async fn hand_on(
    stream: stream::Stream,
    name: String,
    mut messages: consumer::pull::Stream,
    local: broadcast::Sender<Arc<EventEnvelope>>,
) {
    loop {
        while let Some(m) = messages.next().await {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "reading events from NATS");
                    continue;
                }
            };
            match serde_json::from_slice::<EventEnvelope>(&m.payload) {
                Ok(e) => {
                    let _ = local.send(Arc::new(e));
                }
                Err(e) => tracing::error!(error = %e, subject = %m.subject, "an event on NATS does not parse; skipped"),
            }
            if let Err(e) = m.ack().await {
                tracing::warn!(error = %e, "acknowledging an event to NATS");
            }
        }
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let reopened = match open_consumer(&stream, &name).await {
                Ok(c) => c.messages().await.map_err(async_nats::Error::from),
                Err(e) => Err(e),
            };
            match reopened {
                Ok(s) => {
                    messages = s;
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "re-opening the NATS consumer"),
            }
        }
    }
}

#[async_trait]
impl EventBus for NatsBus {
    async fn publish(&self, events: &[Arc<EventEnvelope>]) -> Result<(), BusError> {
        let mut acks = Vec::with_capacity(events.len());
        for e in events {
            let body = serde_json::to_vec(&**e).map_err(|x| BusError(x.to_string()))?;
            let publish =
                jetstream::message::PublishMessage::build().payload(body.into()).message_id(e.id.0.to_string());
            let ack =
                self.js.send_publish(subject(&self.prefix, e), publish).await.map_err(|x| BusError(x.to_string()))?;
            acks.push(ack);
        }
        for ack in futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future)).await {
            ack.map_err(|x| BusError(x.to_string()))?;
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.local.subscribe()
    }
}

struct Relay {
    tx: mpsc::Sender<Signal>,
}

impl SignalRelay for Relay {
    fn relay(&self, signal: &Signal) {
        // A full queue drops the signal: typing is not worth waiting for.
        let _ = self.tx.try_send(signal.clone());
    }
}

async fn relay_out(client: async_nats::Client, mut rx: mpsc::Receiver<Signal>, live: String) {
    while let Some(s) = rx.recv().await {
        let Ok(body) = serde_json::to_vec(&s) else { continue };
        if let Err(e) = client.publish(format!("{live}.{}", s.account), body.into()).await {
            tracing::debug!(error = %e, "sending a live signal over NATS");
        }
    }
}

async fn relay_in(mut sub: async_nats::Subscriber, signals: Arc<Signals>) {
    while let Some(m) = sub.next().await {
        match serde_json::from_slice::<Signal>(&m.payload) {
            Ok(s) => signals.received(s),
            Err(e) => tracing::debug!(error = %e, "a live signal on NATS does not parse"),
        }
    }
}
