//! The `ferry` program's end-to-end tests, in one test program (one link
//! instead of one per file); each module is one feature's tests.

mod accounts_cli;
mod common;
mod crash_delivery;
mod import_files;
mod no_sandbox;
mod scale_out;
mod serve_s3;
mod soak;
