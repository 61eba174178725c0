//! The agents' WebSocket: every committed event of the caller's account,
//! as JSON text frames (`{"id","account_id","created_at","event","data"}`).
//! A client that falls too far behind gets `{"event":"resync"}` and should
//! reload its lists.
//!
//! A client that reconnects sends the id of the last event it saw as
//! `after`: that event again (one event may span several frames, and the
//! connection may have dropped between them) and the events it missed
//! meanwhile come first — from the outbox, while it holds them; `resync`
//! when they are gone — then the live ones. Frames are idempotent: clients
//! apply a repeated one as they applied it the first time.

use crate::ApiState;
use crate::extract::{AppQuery, AppWs, Auth};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket};
use axum::response::Response;
use ferry_api_types::WsEvent;
use ferry_core::event::EventEnvelope;
use ferry_core::{AccountId, EventId};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Events replayed to a reconnecting socket at most; more: `resync`.
const REPLAY_MAX: usize = 5_000;

/// Query of the agents' socket.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// The last event id the client saw before it reconnected.
    #[param(minimum = 0)]
    after: Option<i64>,
}

/// Upgrades to the event stream (API token header or `api_access_token`
/// query parameter, or the session cookie).
#[utoipa::path(get, path = "/ws", tag = "events", params(SocketQuery),
    responses(
        (status = 101, description = "Switched to the WebSocket; text frames carry `WsEvent`s", body = WsEvent),
        (status = 400, description = "Not a WebSocket upgrade", body = ferry_api_types::ErrorBody),
        (status = 401, description = "No valid API token or session", body = ferry_api_types::ErrorBody),
        (status = 422, description = "A bad `after`", body = ferry_api_types::ErrorBody),
        (status = 429, description = "Too many attempts", body = ferry_api_types::ErrorBody),
    ))]
pub async fn agent_socket(
    State(s): State<ApiState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<SocketQuery>,
    AppWs(ws): AppWs,
) -> Response {
    let account = actor.account();
    let mask = !actor.sees_unmasked();
    // Subscribe before the upgrade completes so no event committed after
    // the 101 is missed.
    let rx = s.app.bus.subscribe();
    ws.on_upgrade(move |socket| pump(socket, s, account, mask, rx, q.after.map(EventId)))
}

/// Sends an event's frames; buyers' phone numbers and e-mail addresses
/// masked when `mask` (the agent may not see them in clear).
async fn send_event(socket: &mut WebSocket, e: EventEnvelope, mask: bool) -> bool {
    for frame in WsEvent::frames(e) {
        let Ok(mut v) = serde_json::to_value(&frame) else { continue };
        if mask {
            ferry_core::privacy::mask_json(&mut v);
        }
        let text = v.to_string();
        if socket.send(Message::Text(text.into())).await.is_err() {
            return false;
        }
    }
    true
}

/// Sends the event `after` and the ones after it; returns their ids, or
/// `None` when the socket closed.
async fn replay(
    socket: &mut WebSocket,
    s: &ApiState,
    account: AccountId,
    mask: bool,
    after: EventId,
) -> Option<HashSet<EventId>> {
    let mut sent = HashSet::new();
    let storage = &s.app.storage;
    let gone = match storage.oldest_event(account).await {
        Ok(oldest) => oldest.is_some_and(|o| o.0 > after.0),
        Err(_) => true,
    };
    let mut last = EventId(after.0.saturating_sub(1));
    while !gone && sent.len() < REPLAY_MAX {
        let Ok(batch) = storage.events_after(account, last, 500).await else { break };
        let done = batch.len() < 500;
        for e in batch {
            last = e.id;
            sent.insert(e.id);
            if !send_event(socket, e, mask).await {
                return None;
            }
        }
        if done {
            return Some(sent);
        }
    }
    // Missed events are gone (or too many): the client reloads.
    socket.send(Message::Text(r#"{"event":"resync"}"#.into())).await.ok().map(|_| sent)
}

async fn pump(
    mut socket: WebSocket,
    s: ApiState,
    account: AccountId,
    mask: bool,
    mut rx: tokio::sync::broadcast::Receiver<Arc<EventEnvelope>>,
    after: Option<EventId>,
) {
    let _live = crate::monitoring::LiveSocket::open("agent");
    let hello = serde_json::json!({ "event": "ready", "account_id": account });
    if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    let mut replayed = HashSet::new();
    if let Some(after) = after {
        match replay(&mut socket, &s, account, mask, after).await {
            Some(ids) => replayed = ids,
            None => return,
        }
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(e) if e.account_id == account && !replayed.contains(&e.id) => {
                    if !send_event(&mut socket, (*e).clone(), mask).await {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if socket.send(Message::Text(r#"{"event":"resync"}"#.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(Message::Text(t))) if t.as_str().contains("\"ping\"") => {
                    if socket.send(Message::Text(r#"{"event":"pong"}"#.into())).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}
