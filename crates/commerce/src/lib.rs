//! The shop mirror: what Ferry knows of the seller's shops — orders with
//! their fulfilments and refunds, products, stock per location, customers —
//! and the Shopify connector's side that needs no IO: verifying webhook
//! signatures and turning Shopify's JSON into mirror writes; and the
//! detectors that find stock-outs, low stock, late orders and slow carriers
//! in it ([`detect`]).
//!
//! Writes carry the shop's own `updated_at`; applying them keeps the newer
//! version of every record, so deliveries may arrive twice or out of order
//! ([`Mirror`] is the reference the stores follow).
//!
//! [`actions`] holds the connector trait through which agents cancel,
//! refund and re-address orders, and the rules those actions obey.

pub mod actions;
pub mod amazon;
pub mod detect;
pub mod import;
pub mod mirror;
pub mod model;
pub mod money;
pub mod shopify;

pub use mirror::Mirror;
pub use model::*;
