//! Values that must never be printed: passwords, tokens, URLs with
//! credentials. [`Secret`] hides its value from `Debug` (and so from logs
//! and panics); the code that needs the value asks for it with
//! [`Secret::expose`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value hidden from `Debug`. Serialises as the bare value, so
/// configuration files and environment variables hold it as before.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value, for the one place that uses it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl Secret<String> {
    /// Whether the value is empty or blank (an unset setting).
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret<String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An unset secret says so; a set one never shows a character.
        Redacted(&self.0).fmt(f)
    }
}

/// Shows a secret kept as a plain field (rows read from the store) the
/// way [`Secret`] does, for hand-written `Debug` implementations.
pub struct Redacted<'a>(pub &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("\"\"") } else { f.write_str("\"[redacted]\"") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value_and_serde_keeps_it() {
        let s = Secret::from("hunter2");
        assert_eq!(format!("{s:?}"), "\"[redacted]\"");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(serde_json::to_string(&s).ok().as_deref(), Some("\"hunter2\""));
        let back: Result<Secret<String>, _> = serde_json::from_str("\"hunter2\"");
        assert_eq!(back.ok(), Some(s));
        assert_eq!(format!("{:?}", Secret::<String>::default()), "\"\"");
    }
}
