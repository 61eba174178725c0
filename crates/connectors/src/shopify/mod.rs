//! Shopify over its Admin REST API: the client with its rate-limit
//! handling and the resumable backfill ([`sync`]), and the order actions
//! carried out on the shop ([`actions`]). Payloads are read by
//! `ferry_commerce::shopify`.

pub mod actions;
pub mod sync;
