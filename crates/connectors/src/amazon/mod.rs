//! Amazon's Selling Partner API for one seller: the settings of an Amazon
//! connection ([`AmazonSettings`], kept in a shop connection), the
//! messages a seller may send about an order ([`MessageAction`]), and the
//! client ([`client::AmazonClient`]) with its Login with Amazon token
//! cache, per-operation rate limits and back-off.
//!
//! An Amazon connection is a shop connection of platform `amazon`: its
//! `api_url` is the region's endpoint, its `shop_domain` the marketplace
//! id, its `secret` signs relayed notifications, and its `access_token`
//! holds the LWA credentials as a small JSON document (client id, client
//! secret, refresh token, token URL), so every secret stays in the one
//! column that is never shown.

pub mod client;
mod limiter;

use ferry_storage::{ShopConnection, ShopPlatform};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Amazon's Login with Amazon token endpoint.
pub const LWA_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";

/// The Selling Partner API endpoints by region.
pub const ENDPOINTS: [(&str, &str); 3] = [
    ("na", "https://sellingpartnerapi-na.amazon.com"),
    ("eu", "https://sellingpartnerapi-eu.amazon.com"),
    ("fe", "https://sellingpartnerapi-fe.amazon.com"),
];

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself, to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Login with Amazon credentials of the seller's app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// LWA client id (`amzn1.application-oa2-client.…`).
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: Secret,
    /// The seller's refresh token (`Atzr|…`).
    pub refresh_token: Secret,
    /// The token endpoint (Amazon's unless a stand-in is used).
    #[serde(default = "default_token_url")]
    pub token_url: String,
}

fn default_token_url() -> String {
    LWA_TOKEN_URL.to_owned()
}

/// Everything needed to call the Selling Partner API for one seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmazonSettings {
    /// The region's endpoint (`https://sellingpartnerapi-eu.amazon.com`).
    pub endpoint: String,
    /// The marketplace (`A1PA6795UKMFR9`).
    pub marketplace_id: String,
    /// LWA credentials.
    pub credentials: Credentials,
}

/// Why a connection has no usable Amazon settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Not an Amazon connection.
    #[error("this shop connection is not an Amazon connection")]
    NotAmazon,
    /// The endpoint or credentials are missing or unreadable.
    #[error("this Amazon connection has no usable endpoint and credentials; an admin can set them again")]
    Incomplete,
}

impl AmazonSettings {
    /// The settings stored in a connection.
    pub fn of(c: &ShopConnection) -> Result<Self, SettingsError> {
        if c.platform != ShopPlatform::Amazon {
            return Err(SettingsError::NotAmazon);
        }
        let (Some(endpoint), Some(doc)) = (&c.api_url, &c.access_token) else {
            return Err(SettingsError::Incomplete);
        };
        let credentials: Credentials = serde_json::from_str(doc).map_err(|_| SettingsError::Incomplete)?;
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            marketplace_id: c.shop_domain.clone(),
            credentials,
        })
    }

    /// The credentials as stored in a connection's `access_token`.
    pub fn credentials_document(credentials: &Credentials) -> String {
        serde_json::json!({
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.expose(),
            "refresh_token": credentials.refresh_token.expose(),
            "token_url": credentials.token_url,
        })
        .to_string()
    }
}

/// A message a seller may send a buyer about an order through the
/// Messaging API. The stable name is Amazon's path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageAction {
    /// Ask the buyer to confirm customisation details.
    #[serde(rename = "confirmCustomizationDetails")]
    ConfirmCustomizationDetails,
    /// Arrange delivery details with the buyer.
    #[serde(rename = "confirmDeliveryDetails")]
    ConfirmDeliveryDetails,
    /// Send a legal disclosure (attachments).
    #[serde(rename = "legalDisclosure")]
    LegalDisclosure,
    /// Ask the buyer to confirm order details.
    #[serde(rename = "confirmOrderDetails")]
    ConfirmOrderDetails,
    /// Arrange a service call.
    #[serde(rename = "confirmServiceDetails")]
    ConfirmServiceDetails,
    /// Send warranty information (attachments).
    #[serde(rename = "warranty")]
    Warranty,
    /// Send a digital access key.
    #[serde(rename = "digitalAccessKey")]
    DigitalAccessKey,
    /// Tell the buyer of an unexpected problem with the order.
    #[serde(rename = "unexpectedProblem")]
    UnexpectedProblem,
    /// Send an invoice (attachments).
    #[serde(rename = "invoice")]
    Invoice,
}

impl MessageAction {
    /// Every action.
    pub const ALL: [MessageAction; 9] = [
        MessageAction::ConfirmCustomizationDetails,
        MessageAction::ConfirmDeliveryDetails,
        MessageAction::LegalDisclosure,
        MessageAction::ConfirmOrderDetails,
        MessageAction::ConfirmServiceDetails,
        MessageAction::Warranty,
        MessageAction::DigitalAccessKey,
        MessageAction::UnexpectedProblem,
        MessageAction::Invoice,
    ];

    /// Amazon's path segment, also the stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageAction::ConfirmCustomizationDetails => "confirmCustomizationDetails",
            MessageAction::ConfirmDeliveryDetails => "confirmDeliveryDetails",
            MessageAction::LegalDisclosure => "legalDisclosure",
            MessageAction::ConfirmOrderDetails => "confirmOrderDetails",
            MessageAction::ConfirmServiceDetails => "confirmServiceDetails",
            MessageAction::Warranty => "warranty",
            MessageAction::DigitalAccessKey => "digitalAccessKey",
            MessageAction::UnexpectedProblem => "unexpectedProblem",
            MessageAction::Invoice => "invoice",
        }
    }

    /// The action of a stable name; Amazon's operation names
    /// (`createUnexpectedProblem`, `sendInvoice`) are accepted too.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s) || a.operation().eq_ignore_ascii_case(s))
    }

    /// Amazon's operation name (its rate plan is per operation).
    pub fn operation(self) -> &'static str {
        match self {
            MessageAction::ConfirmCustomizationDetails => "confirmCustomizationDetails",
            MessageAction::ConfirmDeliveryDetails => "createConfirmDeliveryDetails",
            MessageAction::LegalDisclosure => "createLegalDisclosure",
            MessageAction::ConfirmOrderDetails => "createConfirmOrderDetails",
            MessageAction::ConfirmServiceDetails => "createConfirmServiceDetails",
            MessageAction::Warranty => "CreateWarranty",
            MessageAction::DigitalAccessKey => "createDigitalAccessKey",
            MessageAction::UnexpectedProblem => "createUnexpectedProblem",
            MessageAction::Invoice => "sendInvoice",
        }
    }

    /// Whether the message carries text (the others carry only
    /// attachments).
    pub fn takes_text(self) -> bool {
        !matches!(self, MessageAction::LegalDisclosure | MessageAction::Warranty | MessageAction::Invoice)
    }

    /// Whether the message may carry attachments.
    pub fn takes_attachments(self) -> bool {
        matches!(
            self,
            MessageAction::ConfirmCustomizationDetails
                | MessageAction::LegalDisclosure
                | MessageAction::Warranty
                | MessageAction::DigitalAccessKey
                | MessageAction::Invoice
        )
    }

    /// Whether Amazon requires at least one attachment.
    pub fn needs_attachments(self) -> bool {
        matches!(self, MessageAction::Warranty | MessageAction::Invoice)
    }
}

impl fmt::Display for MessageAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file already uploaded through Amazon's Uploads API, named in a
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// The upload destination id Amazon gave.
    #[serde(rename = "uploadDestinationId")]
    pub upload_destination_id: String,
    /// The file name the buyer sees.
    #[serde(rename = "fileName")]
    pub file_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn settings_round_trip_through_a_connection_and_never_print_secrets() {
        let credentials = Credentials {
            client_id: "amzn1.application-oa2-client.x".into(),
            client_secret: Secret::new("very-secret"),
            refresh_token: Secret::new("Atzr|refresh"),
            token_url: LWA_TOKEN_URL.into(),
        };
        let c = ShopConnection {
            id: ferry_core::ShopConnectionId(1),
            account_id: ferry_core::AccountId(1),
            platform: ShopPlatform::Amazon,
            name: "EU".into(),
            shop_domain: "A1PA6795UKMFR9".into(),
            secret: "s".repeat(32),
            api_url: Some("https://sellingpartnerapi-eu.amazon.com/".into()),
            access_token: Some(AmazonSettings::credentials_document(&credentials)),
            created_at: Utc::now(),
        };
        let s = AmazonSettings::of(&c);
        assert_eq!(s.as_ref().map(|s| s.endpoint.as_str()), Ok("https://sellingpartnerapi-eu.amazon.com"));
        assert_eq!(s.as_ref().map(|s| &s.credentials), Ok(&credentials));
        let printed = format!("{s:?}");
        assert!(!printed.contains("very-secret") && !printed.contains("Atzr|refresh"), "{printed}");
        let shopify = ShopConnection { platform: ShopPlatform::Shopify, ..c.clone() };
        assert_eq!(AmazonSettings::of(&shopify), Err(SettingsError::NotAmazon));
        let broken = ShopConnection { access_token: Some("{".into()), ..c };
        assert_eq!(AmazonSettings::of(&broken), Err(SettingsError::Incomplete));
    }

    #[test]
    fn actions_parse_by_segment_and_operation() {
        assert_eq!(MessageAction::parse("unexpectedProblem"), Some(MessageAction::UnexpectedProblem));
        assert_eq!(MessageAction::parse("createUnexpectedProblem"), Some(MessageAction::UnexpectedProblem));
        assert_eq!(MessageAction::parse("sendInvoice"), Some(MessageAction::Invoice));
        assert_eq!(MessageAction::parse("negativeFeedbackRemoval"), None);
        assert!(MessageAction::Invoice.needs_attachments() && !MessageAction::Invoice.takes_text());
    }
}
