//! Password rules, changing a password and resetting it by e-mail.
//!
//! New passwords have 10 to 128 characters, are not among the common
//! passwords Ferry ships (built here from common words, keyboard walks,
//! digit runs, years and their leetspeak forms) and do not contain the
//! user's e-mail name or name. Existing hashes keep working whatever their
//! password. A reset link carries a random token, stored only as its hash,
//! that works once within an hour; using it, or changing the password,
//! ends the user's other sessions.

use crate::auth::{Actor, new_secret, secret_hash, verify_password};
use crate::{App, AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use chrono::Duration;
use ferry_core::account::{User, normalize_email};
use ferry_storage::{AuditOutcome, NewAuditEntry, StorageError};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Fewest characters of a new password.
pub const MIN_LEN: usize = 10;
/// Most characters of a password.
pub const MAX_LEN: usize = 128;
/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);

/// Why a new password is refused (each is the error's code).
pub mod codes {
    /// Fewer than [`super::MIN_LEN`] characters.
    pub const TOO_SHORT: &str = "password_too_short";
    /// More than [`super::MAX_LEN`] characters.
    pub const TOO_LONG: &str = "password_too_long";
    /// Among the common passwords.
    pub const TOO_COMMON: &str = "password_too_common";
    /// Contains the user's e-mail name or name.
    pub const PERSONAL: &str = "password_contains_personal_info";
    /// The current password given is wrong.
    pub const WRONG: &str = "wrong_password";
    /// The link's token is unknown.
    pub const TOKEN_INVALID: &str = "token_invalid";
    /// The link expired.
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// The link was used already.
    pub const TOKEN_USED: &str = "token_used";
    /// The invitation was revoked.
    pub const TOKEN_REVOKED: &str = "token_revoked";
}

/// Only the length (for users made at set-up, by the demo and by tests).
pub fn check_length(field: &'static str, password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(AppError::rejected(
            codes::TOO_SHORT,
            field,
            format!("the password must have at least {MIN_LEN} characters"),
        ));
    }
    if n > MAX_LEN {
        return Err(AppError::rejected(
            codes::TOO_LONG,
            field,
            format!("the password must have at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// The whole policy for a new password of the user with `email` and
/// `name`; errors name `field`.
pub fn check_new_password(field: &'static str, password: &str, email: &str, name: &str) -> AppResult<()> {
    check_length(field, password)?;
    let lower = password.to_lowercase();
    if is_common(&lower) {
        return Err(AppError::rejected(
            codes::TOO_COMMON,
            field,
            "this password is too common and easy to guess; choose another",
        ));
    }
    let squeezed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let name = name.to_lowercase();
    let mut personal: Vec<String> = vec![local.clone(), name.split_whitespace().collect()];
    personal.extend(local.split(|c: char| !c.is_alphanumeric()).map(str::to_owned));
    personal.extend(name.split(|c: char| !c.is_alphanumeric()).map(str::to_owned));
    let hit = personal
        .iter()
        .filter(|p| p.chars().count() >= 3)
        .any(|p| lower.contains(p.as_str()) || squeezed.contains(p.as_str()));
    if hit {
        return Err(AppError::rejected(
            codes::PERSONAL,
            field,
            "the password must not contain your name or the name of your e-mail address",
        ));
    }
    Ok(())
}

/// Hashes a password with Argon2id (no policy check).
pub(crate) fn hash(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h: PasswordHash| h.to_string())
        .map_err(|e| AppError::internal("hashing a password", e.to_string()))
}

/// Whether `lower` (lower-cased) is one of the common passwords.
pub fn is_common(lower: &str) -> bool {
    common().contains(lower)
}

/// The common passwords (only those long enough to be allowed otherwise).
pub fn common() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(build_common)
}

const WORDS: &[&str] = &[
    "password",
    "passw0rd",
    "letmein",
    "welcome",
    "dragon",
    "monkey",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "hockey",
    "master",
    "shadow",
    "qwerty",
    "admin",
    "administrator",
    "login",
    "iloveyou",
    "trustno1",
    "superman",
    "batman",
    "spiderman",
    "starwars",
    "whatever",
    "freedom",
    "hello",
    "secret",
    "summer",
    "winter",
    "spring",
    "autumn",
    "flower",
    "computer",
    "internet",
    "michael",
    "jennifer",
    "jordan",
    "charlie",
    "thomas",
    "daniel",
    "jessica",
    "ashley",
    "michelle",
    "nicole",
    "andrew",
    "joshua",
    "matthew",
    "robert",
    "chocolate",
    "cookie",
    "banana",
    "orange",
    "purple",
    "yellow",
    "silver",
    "golden",
    "diamond",
    "angel",
    "lovely",
    "loveme",
    "forever",
    "friends",
    "family",
    "mother",
    "father",
    "sister",
    "brother",
    "killer",
    "hunter",
    "ranger",
    "tigger",
    "pepper",
    "ginger",
    "buster",
    "maggie",
    "bailey",
    "cheese",
    "coffee",
    "butterfly",
    "rainbow",
    "unicorn",
    "pokemon",
    "minecraft",
    "fortnite",
    "gaming",
    "player",
    "legend",
    "warrior",
    "phoenix",
    "mustang",
    "ferrari",
    "porsche",
    "corvette",
    "harley",
    "yamaha",
    "samsung",
    "iphone",
    "android",
    "google",
    "facebook",
    "twitter",
    "youtube",
    "microsoft",
    "windows",
    "apple",
    "london",
    "paris",
    "berlin",
    "newyork",
    "america",
    "canada",
    "germany",
    "england",
    "liverpool",
    "chelsea",
    "arsenal",
    "barcelona",
    "madrid",
    "juventus",
    "hannah",
    "snoopy",
    "garfield",
    "mickey",
    "blink182",
    "metallica",
    "nirvana",
    "beatles",
    "guitar",
    "music",
    "dancer",
    "sparkle",
    "heaven",
    "jesus",
    "christ",
    "blessed",
    "faith",
    "peace",
    "happy",
    "smile",
    "sunflower",
    "kitten",
    "puppy",
    "doggie",
    "horse",
    "tiger",
    "eagle",
    "falcon",
    "cowboy",
    "changeme",
    "default",
    "guest",
    "test",
    "testing",
    "demo",
    "user",
    "root",
    "access",
    "private",
    "security",
    "letmein",
    "opensesame",
    "abcdef",
    "abcdefg",
    "abc",
    "qazwsx",
    "zaq12wsx",
    "woaini",
    "nihao",
    "wodemima",
    "aini",
    "baobei",
    "tianshi",
    "shanghai",
    "beijing",
    "china",
    "zhongguo",
    "xiaoming",
    "laopo",
    "customer",
    "support",
    "service",
    "shop",
    "store",
    "ferry",
    "company",
    "office",
    "business",
    "money",
];

const SUFFIXES: &[&str] = &[
    "", "1", "12", "123", "1234", "12345", "123456", "1234567", "!", "!!", "1!", "123!", "01", "11", "69", "99", "00",
    "007", "2000", "@123", "#1", "321", "111", "666", "777", "888", "999", "520", "1314", "5201314",
];

const ROWS: &[&str] = &[
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb",
    "qazwsxedcrfvtgb",
    "zaq1xsw2cde3vfr4",
    "!qaz@wsx#edc$rfv",
    "qwertzuiop",
    "azertyuiop",
    "abcdefghijklmnopqrstuvwxyz",
];

fn leet(word: &str) -> Vec<String> {
    let full: String = word
        .chars()
        .map(|c| match c {
            'a' => '@',
            'e' => '3',
            'i' => '1',
            'o' => '0',
            's' => '$',
            't' => '7',
            other => other,
        })
        .collect();
    let light: String = word
        .chars()
        .map(|c| match c {
            'a' => '4',
            'e' => '3',
            'o' => '0',
            other => other,
        })
        .collect();
    let vowels: String = word
        .chars()
        .map(|c| match c {
            'a' => '@',
            'o' => '0',
            's' => '5',
            other => other,
        })
        .collect();
    vec![full, light, vowels]
}

fn build_common() -> HashSet<String> {
    let mut out: HashSet<String> = HashSet::new();
    let mut add = |s: String| {
        if s.chars().count() >= MIN_LEN {
            out.insert(s);
        }
    };
    let years: Vec<String> = (1950..=2035).map(|y| y.to_string()).collect();
    for w in WORDS {
        let mut forms = vec![(*w).to_owned(), format!("{w}{w}"), w.chars().rev().collect()];
        forms.extend(leet(w));
        for f in &forms {
            for s in SUFFIXES {
                add(format!("{f}{s}"));
            }
            for y in &years {
                add(format!("{f}{y}"));
                add(format!("{f}@{y}"));
                add(format!("{f}{y}!"));
                add(format!("{y}{f}"));
            }
        }
    }
    // Keyboard walks: every run of 4 or more keys along a row, both ways,
    // alone, twice, and with a digit run after it.
    for row in ROWS {
        let keys: Vec<char> = row.chars().collect();
        for len in 4..=keys.len() {
            for start in 0..=keys.len() - len {
                let walk: String = keys[start..start + len].iter().collect();
                let back: String = walk.chars().rev().collect();
                for w in [walk, back] {
                    add(w.clone());
                    add(format!("{w}{w}"));
                    for s in ["1", "12", "123", "1234", "123456", "!", "1!"] {
                        add(format!("{w}{s}"));
                    }
                }
            }
        }
    }
    // Digit runs: ascending and descending sequences, repeated blocks,
    // one character repeated.
    let digits = "01234567890123456789";
    for start in 0..10 {
        for len in MIN_LEN..=20 {
            if let Some(run) = digits.get(start..start + len) {
                add(run.to_owned());
                add(run.chars().rev().collect());
            }
        }
    }
    for block in ["12", "123", "1234", "12345", "abc", "abc123", "qwe", "asd", "ab", "xo", "520", "1314"] {
        for times in 2..=10 {
            add(block.repeat(times));
        }
    }
    for c in ('a'..='z').chain('0'..='9').chain(['!', '.', '*']) {
        for len in MIN_LEN..=24 {
            add(std::iter::repeat_n(c, len).collect());
        }
    }
    // Dates as digits, day first and year first.
    for y in 1950..=2035 {
        for m in 1..=12 {
            add(format!("{y}{m:02}01{m:02}"));
            add(format!("01{m:02}{y}!!"));
        }
    }
    out
}

impl App {
    /// Changes the actor's password after checking the current one; ends
    /// their other sessions (all but `current_session`, the secret of the
    /// session making the change). Returns how many sessions ended.
    #[tracing::instrument(skip_all, fields(user_id = actor.user.id.0))]
    pub async fn change_password(
        &self,
        actor: &Actor,
        current_session: Option<&str>,
        current: &str,
        new: &str,
    ) -> AppResult<u64> {
        let u = &actor.user;
        let stored = self.storage.password_hash(u.account_id, u.id).await?.ok_or(AppError::NotFound("user"))?;
        if !verify_password(current, &stored) {
            return Err(AppError::rejected(codes::WRONG, "current_password", "the current password is wrong"));
        }
        check_new_password("new_password", new, &u.email, &u.name)?;
        let hashed = hash(new)?;
        let keep = current_session.map(secret_hash);
        let now = self.clock.now();
        let ended = self.storage.set_password(u.account_id, u.id, &hashed, keep.as_deref(), now).await?;
        self.audit_about_user(u, u, "user.password_change", serde_json::json!({ "sessions_ended": ended })).await;
        Ok(ended)
    }

    /// Sends a reset link to `email` when it is a user's login; does the
    /// same visible nothing otherwise (callers answer alike either way).
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str) -> AppResult<()> {
        let Some(email) = normalize_email(email) else { return Ok(()) };
        let Some((user, _)) = self.storage.find_login(&email).await? else { return Ok(()) };
        let Some(smtp) = self.config.smtp.as_ref() else {
            tracing::warn!(user_id = user.id.0, "a password reset was asked for, but no SMTP server is set (smtp_url)");
            return Ok(());
        };
        let token = new_secret();
        let now = self.clock.now();
        self.storage.create_password_reset(&user, &secret_hash(&token), now + RESET_TTL, now).await?;
        let link = format!("{}/reset-password?token={token}", self.config.public_url.trim_end_matches('/'));
        let body = format!(
            "Hello {name},\n\nsomeone (hopefully you) asked to reset your Ferry password. Open this link within an \
             hour to choose a new one:\n\n{link}\n\nThe link works once. If you did not ask for it, ignore this \
             e-mail: your password stays as it is.\n",
            name = user.name
        );
        if let Err(e) = ferry_channels::mail::send(smtp, &user.email, "Reset your Ferry password", &body).await {
            tracing::warn!(user_id = user.id.0, error = %e, "the password reset e-mail was not sent");
        }
        Ok(())
    }

    /// Sets a new password with a reset link's token; ends every session
    /// of the user.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_password_reset(&self, token: &str, new: &str) -> AppResult<User> {
        let hashed_token = secret_hash(token.trim());
        let now = self.clock.now();
        let reset = self.storage.password_reset_by_token(&hashed_token).await?.ok_or_else(invalid_token)?;
        if reset.used_at.is_some() {
            return Err(AppError::rejected(
                codes::TOKEN_USED,
                "token",
                "this link was used already; ask for a new one",
            ));
        }
        if reset.expires_at <= now {
            return Err(AppError::rejected(codes::TOKEN_EXPIRED, "token", "this link has expired; ask for a new one"));
        }
        let user = self.storage.get_user(reset.account_id, reset.user_id).await?.ok_or(AppError::NotFound("user"))?;
        check_new_password("password", new, &user.email, &user.name)?;
        let hashed = hash(new)?;
        let user = self.storage.use_password_reset(&hashed_token, &hashed, now).await.map_err(|e| match e {
            StorageError::Conflict { .. } => {
                AppError::rejected(codes::TOKEN_USED, "token", "this link was used already; ask for a new one")
            }
            StorageError::NotFound => invalid_token(),
            other => other.into(),
        })?;
        self.audit_about_user(&user, &user, "user.password_reset", serde_json::json!({})).await;
        Ok(user)
    }

    /// Appends an audit entry about `target` done by `actor`; a failed
    /// write is logged, not returned (the change is made already).
    pub(crate) async fn audit_about_user(&self, actor: &User, target: &User, action: &str, details: serde_json::Value) {
        let entry = NewAuditEntry {
            actor_id: Some(actor.id),
            actor_name: actor.name.clone(),
            action: action.to_owned(),
            target_kind: "user".to_owned(),
            target_id: target.id.0.to_string(),
            details,
            outcome: AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(target.account_id, entry, self.clock.now()).await {
            tracing::error!(error = %e, action, "could not write the audit entry");
        }
    }
}

/// An unknown link token.
pub(crate) fn invalid_token() -> AppError {
    AppError::rejected(codes::TOKEN_INVALID, "token", "this link is not valid; ask for a new one")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: AppResult<()>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(AppError::Rejected { code, .. }) => code,
            Err(_) => "other",
        }
    }

    #[test]
    fn the_common_list_has_thousands_of_long_entries() {
        let list = common();
        assert!(list.len() > 5000, "{}", list.len());
        assert!(list.iter().all(|p| p.chars().count() >= MIN_LEN));
        for p in
            ["password123", "qwertyuiop", "1234567890", "p@$$w0rd2024", "sunshine1990", "aaaaaaaaaaaa", "woaini1314"]
        {
            assert!(is_common(p), "{p}");
        }
        assert!(!is_common("tulip-harbour-magnet"));
    }

    #[test]
    fn the_policy_names_its_rule() {
        fn ok(p: &str) -> AppResult<()> {
            check_new_password("password", p, "nina.berg@shop.example", "Nina Berg")
        }
        assert_eq!(code(ok("short")), codes::TOO_SHORT);
        assert_eq!(code(ok(&"x".repeat(129))), codes::TOO_LONG);
        assert_eq!(code(ok("Password123")), codes::TOO_COMMON, "any case");
        assert_eq!(code(ok("QWERTYUIOP")), codes::TOO_COMMON);
        assert_eq!(code(ok("nina.berg-rocks")), codes::PERSONAL);
        assert_eq!(code(ok("my-Berg-is-lovely")), codes::PERSONAL, "a part of the name");
        assert_eq!(code(ok("tulip-harbour-magnet")), "ok");
        assert_eq!(code(ok(&"é".repeat(10))), "ok", "characters, not bytes");
    }
}
