//! Live signals: typing and agents' presence. Unlike events they are not
//! stored and may be lost; they reach every socket of this node at once and,
//! when a relay is attached (NATS), every other node too.

use ferry_core::AccountId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long a node's presence report counts without a fresh one.
pub const PRESENCE_TTL: Duration = Duration::from_secs(30);

/// How often a node repeats its presence report.
pub const PRESENCE_EVERY: Duration = Duration::from_secs(10);

/// One signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// The account it belongs to.
    pub account: AccountId,
    /// The node that sent it.
    pub origin: u64,
    /// What it says.
    pub body: SignalBody,
}

/// What a signal says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum SignalBody {
    /// Someone started or stopped typing (the API's typing frame).
    Typing(serde_json::Value),
    /// How many agents of the account have the console open on the node.
    Presence {
        /// Open consoles.
        agents: u32,
    },
}

/// Carries signals to other nodes.
pub trait SignalRelay: Send + Sync {
    /// Sends a signal of this node to the others (best effort).
    fn relay(&self, signal: &Signal);
}

/// The node's signal hub.
pub struct Signals {
    node: u64,
    tx: broadcast::Sender<Arc<Signal>>,
    relay: OnceLock<Arc<dyn SignalRelay>>,
    local_agents: Mutex<HashMap<AccountId, u32>>,
    remote_agents: Mutex<HashMap<(AccountId, u64), (u32, Instant)>>,
}

impl Signals {
    /// A hub for a node with a random id.
    pub fn new() -> Arc<Self> {
        let (tx, _) = broadcast::channel(1024);
        Arc::new(Self {
            node: rand::random::<u64>() | 1,
            tx,
            relay: OnceLock::new(),
            local_agents: Mutex::default(),
            remote_agents: Mutex::default(),
        })
    }

    /// This node's id in signals.
    pub fn node(&self) -> u64 {
        self.node
    }

    /// This node's name where nodes meet (leases, NATS consumers).
    pub fn node_name(&self) -> String {
        format!("{:016x}", self.node)
    }

    /// Attaches the relay to other nodes (once; later calls are ignored).
    pub fn attach(&self, relay: Arc<dyn SignalRelay>) {
        let _ = self.relay.set(relay);
    }

    /// Every signal from now on, from this node and the others.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.tx.subscribe()
    }

    /// Sends a typing signal to this node's sockets and the other nodes.
    pub fn typing(&self, account: AccountId, frame: serde_json::Value) {
        self.send(Signal { account, origin: self.node, body: SignalBody::Typing(frame) });
    }

    fn send(&self, signal: Signal) {
        if let Some(r) = self.relay.get() {
            r.relay(&signal);
        }
        let _ = self.tx.send(Arc::new(signal));
    }

    /// Takes in a signal another node sent; its own come back and are
    /// dropped.
    pub fn received(&self, signal: Signal) {
        if signal.origin == self.node {
            return;
        }
        if let SignalBody::Presence { agents } = signal.body {
            let mut m = self.remote_agents.lock().unwrap_or_else(|e| e.into_inner());
            m.insert((signal.account, signal.origin), (agents, Instant::now() + PRESENCE_TTL));
            return;
        }
        let _ = self.tx.send(Arc::new(signal));
    }

    /// An agent opened the console on this node.
    pub fn agent_joined(&self, account: AccountId) {
        let n = {
            let mut m = self.local_agents.lock().unwrap_or_else(|e| e.into_inner());
            let n = m.entry(account).or_insert(0);
            *n += 1;
            *n
        };
        self.announce(account, n);
    }

    /// An agent closed the console on this node.
    pub fn agent_left(&self, account: AccountId) {
        let n = {
            let mut m = self.local_agents.lock().unwrap_or_else(|e| e.into_inner());
            let n = m.entry(account).or_insert(0);
            *n = n.saturating_sub(1);
            let n = *n;
            if n == 0 {
                m.remove(&account);
            }
            n
        };
        self.announce(account, n);
    }

    fn announce(&self, account: AccountId, agents: u32) {
        if let Some(r) = self.relay.get() {
            r.relay(&Signal { account, origin: self.node, body: SignalBody::Presence { agents } });
        }
    }

    /// Repeats this node's presence to the others, so theirs stays fresh;
    /// run every [`PRESENCE_EVERY`].
    pub fn heartbeat(&self) {
        let counts: Vec<(AccountId, u32)> = {
            let m = self.local_agents.lock().unwrap_or_else(|e| e.into_inner());
            m.iter().map(|(a, n)| (*a, *n)).collect()
        };
        for (account, n) in counts {
            self.announce(account, n);
        }
        let now = Instant::now();
        let mut m = self.remote_agents.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, (_, until)| *until > now);
    }

    /// Agents with the console open on any node.
    pub fn agents_online(&self, account: AccountId) -> u32 {
        let local = {
            let m = self.local_agents.lock().unwrap_or_else(|e| e.into_inner());
            m.get(&account).copied().unwrap_or(0)
        };
        let now = Instant::now();
        let m = self.remote_agents.lock().unwrap_or_else(|e| e.into_inner());
        let remote: u32 =
            m.iter().filter(|((a, _), (_, until))| *a == account && *until > now).map(|(_, (n, _))| *n).sum();
        local + remote
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Wire(Arc<Signals>);

    impl SignalRelay for Wire {
        fn relay(&self, signal: &Signal) {
            // What travels: the serialised form.
            let text = serde_json::to_string(signal).unwrap_or_default();
            if let Ok(s) = serde_json::from_str(&text) {
                self.0.received(s);
            }
        }
    }

    #[tokio::test]
    async fn typing_and_presence_cross_to_the_other_node_and_not_back() {
        let (a, b) = (Signals::new(), Signals::new());
        a.attach(Arc::new(Wire(b.clone())));
        b.attach(Arc::new(Wire(a.clone())));
        let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());
        let acc = AccountId(7);
        a.typing(acc, serde_json::json!({ "conversation_id": 3, "typing": true }));
        let got = on_b.recv().await.ok().map(|s| s.body.clone());
        assert_eq!(got, Some(SignalBody::Typing(serde_json::json!({ "conversation_id": 3, "typing": true }))));
        // The sender's own sockets get it once, from itself.
        assert_eq!(on_a.recv().await.ok().map(|s| s.origin), Some(a.node()));
        assert!(on_a.try_recv().is_err(), "a signal came back to its sender");

        assert_eq!(b.agents_online(acc), 0);
        a.agent_joined(acc);
        a.agent_joined(acc);
        assert_eq!((a.agents_online(acc), b.agents_online(acc)), (2, 2));
        b.agent_joined(acc);
        assert_eq!((a.agents_online(acc), b.agents_online(acc)), (3, 3));
        a.agent_left(acc);
        a.agent_left(acc);
        assert_eq!((a.agents_online(acc), b.agents_online(acc)), (1, 1));
        assert_eq!(b.agents_online(AccountId(8)), 0, "presence is per account");
    }
}
