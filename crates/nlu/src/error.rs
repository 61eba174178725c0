//! The error type shared by every module of the crate.

use std::path::PathBuf;

/// Everything that can go wrong in `ferry-nlu`.
#[derive(Debug, thiserror::Error)]
pub enum NluError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A data file (CSV, JSON, JSONL) could not be parsed.
    #[error("cannot parse {what}: {message}")]
    Parse { what: String, message: String },
    /// A model file was written by an unknown format version.
    #[error("unsupported model format version {found} (this build reads version {supported})")]
    UnsupportedModelVersion { found: u32, supported: u32 },
    /// A byte stream is not a Ferry model at all, or is truncated.
    #[error("not a valid ferry-nlu model: {0}")]
    InvalidModel(String),
    /// Training was asked for something impossible (no examples, one class, ...).
    #[error("cannot train: {0}")]
    Training(String),
    /// A configuration value is invalid (e.g. a bad regular expression).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// No sentence-embedding back-end is configured.
    #[error("no embedding back-end is configured")]
    EmbedderNotConfigured,
}

impl NluError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn parse(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Parse { what: what.into(), message: message.to_string() }
    }
}
