//! Ferry's channels: one module per channel. Each verifies what its
//! channel delivers, parses it into the normalised inbound message as a
//! pure function, sends what goes out, and knows the channel's rules.

pub mod email;
