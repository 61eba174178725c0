//! The agents' WebSocket: every committed event of the caller's account,
//! as JSON text frames (`{"id","account_id","created_at","event","data"}`).
//! A client that falls too far behind gets `{"event":"resync"}` and should
//! reload its lists.

use crate::ApiState;
use crate::extract::Auth;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use ferry_api_types::WsEvent;
use ferry_core::AccountId;
use tokio::sync::broadcast::error::RecvError;

/// Upgrades to the event stream (API token header or `api_access_token`
/// query parameter, or the session cookie).
pub async fn agent_socket(State(s): State<ApiState>, Auth(actor): Auth, ws: WebSocketUpgrade) -> Response {
    let account = actor.account();
    // Subscribe before the upgrade completes so no event committed after
    // the 101 is missed.
    let rx = s.app.bus.subscribe();
    ws.on_upgrade(move |socket| pump(socket, account, rx))
}

async fn pump(
    mut socket: WebSocket,
    account: AccountId,
    mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<ferry_core::event::EventEnvelope>>,
) {
    let _live = crate::monitoring::LiveSocket::open("agent");
    let hello = serde_json::json!({ "event": "ready", "account_id": account });
    if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(e) if e.account_id == account => {
                    for frame in WsEvent::frames((*e).clone()) {
                        let Ok(text) = serde_json::to_string(&frame) else { continue };
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
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
