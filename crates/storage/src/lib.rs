//! The storage boundary: repository traits per aggregate under one
//! [`Storage`] trait, the error type, and the conformance suite that every
//! backend (SQLite, PostgreSQL) runs.
//!
//! Backends own their SQL and migrations; everything above them sees only
//! these traits, used as `Arc<dyn Storage>`.

mod access_tokens;
mod alerts;
mod amazon;
mod campaigns;
mod credentials;
mod csat;
pub mod db;
mod echoes;
mod error;
mod insights;
mod journeys;
mod leases;
mod merges;
mod model;
mod notices;
mod opt_outs;
mod platform;
mod privacy;
mod products;
mod profiles;
mod questions;
mod replay;
mod repo;
pub mod rows;
pub mod search;
mod security;
mod stock;
mod store;
mod translation;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod conformance_alerts;
#[cfg(feature = "conformance")]
pub mod conformance_credentials;
#[cfg(feature = "conformance")]
pub mod conformance_insights;
#[cfg(feature = "conformance")]
pub mod conformance_merges;
#[cfg(feature = "conformance")]
pub mod conformance_platform;
#[cfg(feature = "conformance")]
pub mod conformance_products;
#[cfg(feature = "conformance")]
pub mod conformance_security;

pub use access_tokens::*;
pub use alerts::*;
pub use amazon::*;
pub use campaigns::*;
pub use credentials::*;
pub use csat::*;
pub use echoes::*;
pub use error::{StorageError, StorageResult};
pub use insights::*;
pub use journeys::*;
pub use leases::*;
pub use merges::*;
pub use model::*;
pub use notices::*;
pub use opt_outs::*;
pub use platform::*;
pub use privacy::*;
pub use products::*;
pub use profiles::*;
pub use questions::*;
pub use replay::*;
pub use repo::*;
pub use security::*;
pub use stock::*;
pub use translation::*;
