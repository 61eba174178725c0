//! The demo program's end-to-end tests, in one test program (one link
//! instead of one per file); each module is one feature's tests.

mod common;
mod demo_mail;
mod demo_meta;
mod demo_phone;
mod sandbox;
