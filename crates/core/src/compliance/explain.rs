//! Explanations of findings for agents, in English and Simplified Chinese.

use super::{Lang, RuleId, Severity};

/// The explanation of a finding that needs no figures.
pub(super) fn plain(rule: RuleId, lang: Lang) -> String {
    let (en, zh) = match rule {
        RuleId::AmazonExternalLink => (
            "Amazon messages may only link to Amazon or to a site needed to complete the order (such as the carrier's tracking page) that your account allows.",
            "亚马逊买家消息只能包含亚马逊链接，或完成订单所必需且已在账户中允许的网站链接（例如承运商的物流跟踪页面）。",
        ),
        RuleId::AmazonEmailAddress => (
            "E-mail addresses are not allowed in Amazon messages; keep the conversation in Amazon's messaging.",
            "亚马逊买家消息中不允许出现电子邮件地址，请在亚马逊消息系统内沟通。",
        ),
        RuleId::AmazonPhoneNumber => (
            "Phone numbers are not allowed in Amazon messages; keep the conversation in Amazon's messaging.",
            "亚马逊买家消息中不允许出现电话号码，请在亚马逊消息系统内沟通。",
        ),
        RuleId::AmazonPromotion => (
            "Marketing or promotional content is not allowed in Amazon messages (offers, codes, new products, calls to buy or follow).",
            "亚马逊买家消息中不允许营销或推广内容（优惠活动、优惠码、新品、引导购买或关注）。",
        ),
        RuleId::AmazonDiscountMention => (
            "A discount or coupon is mentioned. This is fine only as a fact about this order; any offer is promotion, which Amazon does not allow.",
            "消息提到了折扣或优惠券。仅在说明本订单事实时可以使用；任何优惠推广都违反亚马逊规定。",
        ),
        RuleId::AmazonReviewRequest => (
            "This asks for a review or feedback. Amazon allows one neutral request per order; prefer Amazon's Request a Review button and never combine it with other content.",
            "消息在请求评价或反馈。亚马逊每个订单只允许一次中立的评价请求；建议使用亚马逊的\u{201c}请求评论\u{201d}按钮，且不要与其他内容混在一起。",
        ),
        RuleId::AmazonReviewManipulation => (
            "Asking for a positive review or a star rating, offering anything in return for a review, or asking to change or remove a review is forbidden on Amazon.",
            "亚马逊禁止索要好评或指定星级、以任何回报换取评价、或要求买家修改或删除评价。",
        ),
        RuleId::AmazonOptOut => (
            "Opt-out or unsubscribe wording is not allowed: Amazon manages buyers' messaging preferences itself.",
            "不允许出现退订或取消订阅的内容：买家的消息偏好由亚马逊统一管理。",
        ),
        RuleId::AmazonImportantSubject => (
            "\"[Important]\" in the subject is only for messages really needed to complete the order; misusing it can get messages blocked.",
            "主题中的\u{201c}[Important]\u{201d}只能用于完成订单确实必需的消息；滥用可能导致消息被屏蔽。",
        ),
        RuleId::WhatsappWindowClosed => (
            "More than 24 hours have passed since the buyer's last message: WhatsApp only accepts an approved template now.",
            "距买家最后一条消息已超过 24 小时：WhatsApp 现在只接受已审核的消息模板。",
        ),
        RuleId::ContactOptedOut => (
            "The buyer asked this channel to stop (they sent STOP): nothing can be sent to them here until they send START.",
            "买家已要求此渠道停止发送（发送了 STOP）：在买家发送 START 之前，无法通过此渠道向其发送任何消息。",
        ),
        RuleId::EmailAttachmentType => (
            "Executable files and scripts cannot be sent by e-mail: mail servers reject them and buyers must not run them.",
            "不能通过电子邮件发送可执行文件或脚本：邮件服务器会拒收，买家也不应运行它们。",
        ),
        RuleId::AmazonAttachmentType
        | RuleId::AmazonAttachmentSize
        | RuleId::AmazonProactiveWindow
        | RuleId::MessengerWindowClosed
        | RuleId::InstagramWindowClosed
        | RuleId::EmailAttachmentSize
        | RuleId::SmsSegments
        | RuleId::AccountPhrase => ("This message breaks a rule of its channel.", "该消息违反了渠道规则。"),
    };
    pick(lang, en, zh)
}

fn pick(lang: Lang, en: &str, zh: &str) -> String {
    match lang {
        Lang::En => en.to_owned(),
        Lang::Zh => zh.to_owned(),
    }
}

fn megabytes(bytes: u64) -> String {
    // One decimal is enough to tell 10.2 MB from 10 MB.
    let tenths = (bytes.saturating_mul(10) + 524_288) / 1_048_576;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// An attachment of a type Amazon does not accept.
pub(super) fn amazon_attachment_type(lang: Lang, what: &str, allowed: &str) -> String {
    match lang {
        Lang::En => format!("Amazon does not accept {what} attachments; allowed: {allowed}."),
        Lang::Zh => format!("亚马逊不接受 {what} 类型的附件；允许的类型：{allowed}。"),
    }
}

/// Attachments too large in total.
pub(super) fn attachments_too_large(lang: Lang, channel: &str, total: u64, limit: u64) -> String {
    let (total, limit) = (megabytes(total), megabytes(limit));
    match lang {
        Lang::En => format!("Attachments total {total} MB; {channel} accepts at most {limit} MB per message."),
        Lang::Zh => format!("附件总计 {total} MB；{channel} 每条消息最多 {limit} MB。"),
    }
}

/// A proactive Amazon message sent too late.
pub(super) fn amazon_proactive_window(lang: Lang, days: i64, limit: i64) -> String {
    match lang {
        Lang::En => format!(
            "This proactive message comes {days} days after the order; Amazon allows messages the buyer did not ask for only within {limit} days."
        ),
        Lang::Zh => format!("这条主动消息距下单已 {days} 天；亚马逊只允许在下单后 {limit} 天内主动联系买家。"),
    }
}

/// A Messenger or Instagram message outside its window.
pub(super) fn meta_window(lang: Lang, channel: &str, hours: i64, human_agent_would_help: bool) -> String {
    match (lang, human_agent_would_help) {
        (Lang::En, true) => format!(
            "{hours} hours since the buyer's last message: {channel} allows replies within 24 hours, or within 7 days when a person replies with the human agent tag."
        ),
        (Lang::En, false) => format!(
            "{hours} hours since the buyer's last message: {channel} allows replies within 24 hours (7 days with the human agent tag), so this cannot be sent."
        ),
        (Lang::Zh, true) => format!(
            "距买家最后一条消息已 {hours} 小时：{channel} 只允许在 24 小时内回复；由人工客服回复并加上 human agent 标签可延长至 7 天。"
        ),
        (Lang::Zh, false) => format!(
            "距买家最后一条消息已 {hours} 小时：{channel} 只允许在 24 小时内回复（使用 human agent 标签为 7 天），因此无法发送。"
        ),
    }
}

/// A Messenger, Instagram or WhatsApp conversation the buyer never wrote
/// in.
pub(super) fn no_buyer_message(lang: Lang, channel: &str, template_helps: bool) -> String {
    match (lang, template_helps) {
        (Lang::En, true) => {
            format!("The buyer has not written on {channel} yet: only an approved template can start the conversation.")
        }
        (Lang::En, false) => {
            format!("The buyer has not written on {channel} yet: a business cannot start the conversation.")
        }
        (Lang::Zh, true) => format!("买家尚未在 {channel} 上发来消息：只能使用已审核的模板发起对话。"),
        (Lang::Zh, false) => format!("买家尚未在 {channel} 上发来消息：商家不能主动发起对话。"),
    }
}

/// An SMS needing too many segments.
pub(super) fn sms_segments(lang: Lang, segments: usize, max: usize, unicode: bool) -> String {
    match (lang, unicode) {
        (Lang::En, false) => format!(
            "This SMS needs {segments} segments (more than {max}); each is billed, and long messages may arrive split."
        ),
        (Lang::En, true) => format!(
            "This SMS needs {segments} segments (more than {max}) because it has characters outside the GSM alphabet, which allows only 70 per message; each segment is billed."
        ),
        (Lang::Zh, false) => {
            format!("这条短信需要 {segments} 条分段（超过 {max} 条）；每段单独计费，长短信可能被拆分送达。")
        }
        (Lang::Zh, true) => format!(
            "这条短信包含 GSM 字母表以外的字符（如中文），每段最多 70 个字符，共需 {segments} 条分段（超过 {max} 条）；每段单独计费。"
        ),
    }
}

/// A phrase the account never wants sent.
pub(super) fn account_phrase(lang: Lang, severity: Severity) -> String {
    let text = match (lang, severity) {
        (Lang::En, Severity::Block) => "Your account does not allow this phrase in messages.",
        (Lang::En, Severity::Warn) => "Your account asks you to avoid this phrase.",
        (Lang::Zh, Severity::Block) => "您的账户不允许在消息中使用该词语。",
        (Lang::Zh, Severity::Warn) => "您的账户建议避免使用该词语。",
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plain_rule_has_both_languages() {
        for rule in RuleId::ALL {
            assert!(!plain(rule, Lang::En).is_empty());
            assert!(plain(rule, Lang::Zh).chars().any(super::super::text::is_cjk), "{rule}");
        }
    }

    #[test]
    fn megabytes_round_to_a_tenth() {
        assert_eq!(megabytes(10 * 1_048_576), "10.0");
        assert_eq!(megabytes(10 * 1_048_576 + 200_000), "10.2");
        assert_eq!(megabytes(0), "0.0");
    }
}
