//! E-mail: reading mailboxes over IMAP and sending replies over SMTP.

pub mod imap;
pub mod send;
