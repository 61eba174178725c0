//! E-mail: reading mailboxes over IMAP.

pub mod imap;
