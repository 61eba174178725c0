//! API access tokens as their owner manages them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An API access token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessTokenView {
    /// Id.
    pub id: i64,
    /// The name given (the integration using it).
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A new token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccessToken {
    /// What it is for (1–100 characters).
    pub name: String,
}

/// A token just created, with its secret: shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedAccessToken {
    /// The token.
    pub token: AccessTokenView,
    /// Send it as the `api_access_token` header.
    pub secret: String,
}
