//! Channel adapters: each channel's inbound parsing (pure) and outbound
//! sending, one module per channel.

pub mod email;
