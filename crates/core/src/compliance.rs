//! The compliance gate: the rules an outgoing message must pass on its
//! channel before it is stored and queued (messaging windows, templates,
//! marketplace rules such as no links or e-mail addresses). Every sender —
//! agents, the bot, AI answers, campaigns — goes through [`check_outgoing`].
//!
//! No channel has rules yet, so everything is allowed; rules land here as
//! pure functions of the channel and the content.

use crate::inbox::ChannelKind;
use crate::message::ContentPart;

/// What the gate decides about one outgoing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It may be sent.
    Allow,
    /// It must not be sent.
    Block {
        /// Stable name of the rule that refused it.
        rule: &'static str,
        /// Why, in words a sender can act on.
        reason: String,
    },
}

/// Checks an outgoing message's content against its channel's rules.
pub fn check_outgoing(channel: ChannelKind, parts: &[ContentPart]) -> Verdict {
    let _ = (channel, parts);
    Verdict::Allow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_allows_plain_text_for_now() {
        let parts = [ContentPart::Text { text: "Your parcel left today.".into() }];
        for channel in ChannelKind::ALL {
            assert_eq!(check_outgoing(channel, &parts), Verdict::Allow);
        }
    }
}
