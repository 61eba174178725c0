//! Ferry's end-to-end tests through the HTTP API, on SQLite and PostgreSQL,
//! in one test program (one link instead of one per file); each module is
//! one feature's tests.

mod alerts;
mod amazon;
mod api;
mod attachments_s3;
mod authz_matrix;
mod bot_handoff;
mod campaigns;
mod csat;
mod email;
mod files;
mod imap;
mod inbox_settings;
mod logs;
mod messenger;
mod metrics;
mod notices;
mod openapi;
mod order_actions;
mod outbox;
mod outgoing_webhooks;
mod platform;
mod privacy;
mod products;
mod profiles;
mod questions;
mod reports;
mod search;
mod security_login;
mod security_web;
mod shop_import;
mod shopify_backfill;
mod sms_inbox;
mod telegram;
mod translation;
mod whatsapp;
mod widget;
