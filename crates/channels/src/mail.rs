//! Outgoing e-mail over SMTP (lettre). Ferry sends little mail itself —
//! one-time codes for now — and never logs what it sends.

use crate::SendError;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where Ferry's e-mails go out.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port`, `smtps://user:pass@host:465`, … (lettre's URL
    /// form; it may carry a password).
    pub url: ferry_core::secret::Secret<String>,
    /// Sender, e.g. `Shop <no-reply@shop.example>`.
    pub from: String,
}

/// Sends a plain-text e-mail. Bad addresses and a refusal by the server
/// are permanent; an unreachable server is worth retrying.
pub async fn send(config: &SmtpConfig, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
    let from: Mailbox = config
        .from
        .parse()
        .map_err(|e| SendError::Permanent(format!("the configured sender is not an address: {e}")))?;
    let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("the recipient is not an address: {e}")))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| SendError::Permanent(format!("building the e-mail failed: {e}")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose())
        .map_err(|e| SendError::Permanent(format!("the SMTP URL is invalid: {e}")))?
        .timeout(Some(std::time::Duration::from_secs(15)))
        .build();
    transport.send(message).await.map_err(|e| {
        let m = format!("sending the e-mail failed: {e}");
        if e.is_permanent() { SendError::Permanent(m) } else { SendError::Retryable(m) }
    })?;
    Ok(())
}

/// `ana@example.com` → `a***@example.com`, for telling a buyer where a code
/// went without revealing the address.
pub fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_addresses() {
        assert_eq!(super::mask_email("ana@example.com"), "a***@example.com");
        assert_eq!(super::mask_email("nope"), "***");
    }
}
