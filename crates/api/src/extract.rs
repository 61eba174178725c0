//! Extractors: JSON bodies whose rejections use our error format, and the
//! authenticated actor (API token header or session cookie).

use crate::{ApiError, ApiState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use ferry_app::AppError;
use ferry_app::auth::Actor;
use serde::de::DeserializeOwned;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ferry_session";

/// A JSON body; errors answer 400/413/415/422 in our format.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<ApiState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(AppJson(v)),
            Err(rej) => Err(match rej {
                JsonRejection::JsonDataError(e) => ApiError(AppError::Invalid { field: None, message: e.body_text() }),
                JsonRejection::JsonSyntaxError(e) => ApiError::malformed(e.body_text()),
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::malformed("send the body as JSON with Content-Type: application/json")
                }
                JsonRejection::BytesRejection(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError(AppError::TooLarge(state.config.max_body_bytes))
                }
                other => ApiError::malformed(other.body_text()),
            }),
        }
    }
}

/// A raw request body within the body limit; too large answers 413 in our
/// format.
pub struct AppBytes(pub axum::body::Bytes);

impl FromRequest<ApiState> for AppBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(AppBytes(b)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError(AppError::TooLarge(state.config.max_body_bytes)))
            }
            Err(e) => Err(ApiError::malformed(e.body_text())),
        }
    }
}

fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The authenticated caller. A session limited to setting up two-factor
/// authentication (the account requires it) is refused with
/// `two_factor_required`; see [`Caller`] for the routes it may use.
pub struct Auth(pub Actor);

impl FromRequestParts<ApiState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let c = Caller::from_request_parts(parts, state).await?;
        if c.two_factor_missing {
            return Err(ApiError(AppError::TwoFactorRequired));
        }
        // The answer's buyers' data is masked unless the actor may see it.
        if let Some(flag) = parts.extensions.get::<crate::masking::MaskFlag>() {
            flag.set(!c.actor.sees_unmasked());
        }
        Ok(Auth(c.actor))
    }
}

/// The authenticated caller, with the session it came with (`None` for an
/// API token). Accepts sessions limited to setting up two-factor
/// authentication: only for the profile's own routes.
pub struct Caller {
    /// Who.
    pub actor: Actor,
    /// The session's public id.
    pub session_id: Option<i64>,
    /// The session may only set up two-factor authentication.
    pub two_factor_missing: bool,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let token = match parts.headers.get("api_access_token").or_else(|| parts.headers.get("api-access-token")) {
            Some(t) => Some(
                t.to_str().map_err(|_| ApiError(AppError::Unauthorized("invalid API access token")))?.trim().to_owned(),
            ),
            // Browsers cannot set headers on WebSocket upgrades; allow the
            // token as a query parameter there.
            None => parts.uri.query().and_then(|q| url_param(q, "api_access_token")),
        };
        if let Some(token) = token {
            let ClientAddr(ip) = ClientAddr::from_request_parts(parts, state).await?;
            let actor = state.app.token_actor(&token, ip).await?;
            return Ok(Caller { actor, session_id: None, two_factor_missing: false });
        }
        if let Some(session) = cookie(&parts.headers, SESSION_COOKIE) {
            // Browsers send the cookie with a WebSocket from any page, and
            // the same-origin policy does not cover sockets: only Ferry's
            // own pages may open one with it.
            if is_websocket(&parts.headers) && !own_origin(&parts.headers, &state.app.config.public_url) {
                return Err(ApiError(AppError::Forbidden("this page may not open Ferry's live connection")));
            }
            let s = state.app.session_actor(&session).await?;
            return Ok(Caller {
                actor: s.actor,
                session_id: Some(s.session_id),
                two_factor_missing: s.two_factor_missing,
            });
        }
        Err(ApiError(AppError::Unauthorized("log in or send an api_access_token header")))
    }
}

/// Where the request comes from, for sign-in limits and the session list.
pub struct Client(pub ferry_app::security::ClientInfo);

impl FromRequestParts<ApiState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let ClientAddr(ip) = ClientAddr::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        Ok(Client(ferry_app::security::ClientInfo { ip, user_agent }))
    }
}

fn is_websocket(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the request's `Origin` (when a browser sent one) is Ferry's own:
/// the host it was addressed to, or the public URL.
pub fn own_origin(headers: &axum::http::HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_ascii_lowercase);
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    if host.is_some() && origin_host == host.as_deref() {
        return true;
    }
    let public = public_url.trim().trim_end_matches('/').to_ascii_lowercase();
    !public.is_empty() && public.split('/').take(3).collect::<Vec<_>>().join("/") == origin
}

/// The caller's address: the peer's, or with `behind_proxy` set the last
/// `X-Forwarded-For` entry (the one the proxy added).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl FromRequestParts<ApiState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        if state.config.behind_proxy
            && let Some(ip) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse().ok())
                .next_back()
        {
            return Ok(ClientAddr(Some(ip)));
        }
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(peer))
    }
}

fn url_param(query: &str, name: &str) -> Option<String> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
}

/// The session secret of the request, if any (for logout).
pub fn session_of(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// A WebSocket upgrade; a plain HTTP request to a socket's path answers
/// 400 in our format (axum's own rejection is plain text).
pub struct AppWs(pub axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for AppWs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state).await {
            Ok(ws) => Ok(AppWs(ws)),
            Err(_) => Err(ApiError::malformed(
                "this is a WebSocket endpoint: connect with a GET request carrying Upgrade: websocket",
            )),
        }
    }
}

/// Path parameters; a malformed one is a 404 in our format (an id that is
/// not a number names nothing).
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(AppPath(v)),
            Err(_) => Err(ApiError(AppError::NotFound("resource"))),
        }
    }
}

/// Query parameters; bad ones are a 422 in our format.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(AppQuery(v)),
            Err(e) => Err(ApiError(AppError::Invalid { field: None, message: e.body_text() })),
        }
    }
}
