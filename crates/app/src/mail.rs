//! Outgoing e-mail over SMTP (lettre). Ferry sends little mail itself —
//! one-time codes for now — and never logs what it sends.

use crate::{AppError, AppResult, SmtpConfig};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends a plain-text e-mail.
pub async fn send(config: &SmtpConfig, to: &str, subject: &str, body: &str) -> AppResult<()> {
    let from: Mailbox =
        config.from.parse().map_err(|e| AppError::Internal(format!("the configured sender is not an address: {e}")))?;
    let to: Mailbox = to.parse().map_err(|e| AppError::Internal(format!("the recipient is not an address: {e}")))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| AppError::Internal(format!("building the e-mail failed: {e}")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose())
        .map_err(|e| AppError::Internal(format!("the SMTP URL is invalid: {e}")))?
        .timeout(Some(std::time::Duration::from_secs(15)))
        .build();
    transport.send(message).await.map_err(|e| AppError::Internal(format!("sending the e-mail failed: {e}")))?;
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
