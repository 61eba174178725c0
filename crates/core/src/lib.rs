//! Ferry's domain core: the types and rules every other crate shares.
//!
//! Nothing in this crate performs IO, spawns tasks or reads the clock by
//! itself: time arrives through [`clock::Clock`], ids are assigned by the
//! store, and every rule is a plain function that tests can drive directly.

pub mod account;
pub mod bot;
pub mod campaign;
pub mod canned;
pub mod clock;
pub mod compliance;
pub mod contact;
pub mod conversation;
pub mod csat;
pub mod event;
pub mod filetype;
pub mod ids;
pub mod inbound;
pub mod inbox;
pub mod insights;
pub mod invitation;
pub mod journey;
pub mod message;
pub mod notices;
pub mod privacy;
pub mod profile;
pub mod secret;
pub mod segment;
pub mod signature;
pub mod sms_signature;
pub mod throttle;

pub use ids::*;
