//! Ferry's shop connectors: the network side of the shops Ferry mirrors.
//! Each platform's module holds its API client, its backfill and the order
//! actions it can carry out; what the payloads mean is read by
//! `ferry-commerce`, which stays pure. The use cases reach a connection's
//! actions through the `ShopConnector` trait ([`connector_for`]).

pub mod amazon;
pub mod shopify;

use ferry_commerce::actions::{NoActions, ShopConnector};
use ferry_storage::{ShopConnection, ShopPlatform};
use std::sync::Arc;

/// Why an imported shop allows no actions.
pub const IMPORT_REASON: &str =
    "this shop's orders were imported from files, so Ferry cannot change them; change the order in the shop itself";

/// Why an Amazon connection allows no order actions.
pub const AMAZON_REASON: &str =
    "Amazon orders are cancelled and refunded in Seller Central; Ferry sends Amazon's messages for them";

/// The connector of a connection, and why it allows nothing when it does:
/// imported shops and Shopify connections without Admin API credentials
/// allow nothing, and say why.
pub fn connector_for(c: &ShopConnection) -> (Arc<dyn ShopConnector>, Option<&'static str>) {
    let none = |reason: &'static str| -> (Arc<dyn ShopConnector>, Option<&'static str>) {
        (Arc::new(NoActions { reason: reason.to_owned() }), Some(reason))
    };
    match c.platform {
        ShopPlatform::Import => none(IMPORT_REASON),
        ShopPlatform::Amazon => none(AMAZON_REASON),
        ShopPlatform::Shopify => match shopify::actions::ShopifyConnector::for_connection(c) {
            Some(connector) => (Arc::new(connector), None),
            None => none(shopify::actions::NO_API_REASON),
        },
    }
}
