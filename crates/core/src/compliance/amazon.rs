//! Amazon buyer–seller messaging rules.
//!
//! Amazon lets sellers write to buyers only to complete an order or answer
//! a service question, polices the messages, and closes shops for repeated
//! offences. The phrase lists cover English, German, French, Spanish,
//! Italian, Japanese and Chinese (simplified and traditional forms) and
//! are written in the pattern language of [`super::text`]. Each family has
//! exceptions: phrases that look like a match but are ordinary support
//! language (`after-sales service`, the French carrier's `avis de passage`,
//! `si vous changez d'avis` — if you change your mind).

use super::detect::{find_emails, find_links, find_phones, host_matches};
use super::text::{Folded, Pattern};
use super::{AccountRules, AttachmentMeta, Draft, Finding, Lang, Location, RuleId, Span, explain, finding};
use chrono::{DateTime, Duration, Utc};
use std::sync::LazyLock;

/// The attachment types Amazon's buyer–seller messaging accepts, as
/// (extension, MIME type): images, PDF, plain text and Word documents.
pub const AMAZON_ATTACHMENT_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("doc", "application/msword"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
];

/// The most a message's attachments may weigh together (10 MB).
pub const AMAZON_MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

/// How long after the order a seller may send a message the buyer did not
/// ask for.
pub const AMAZON_PROACTIVE_WINDOW: Duration = Duration::days(30);

/// Amazon's marketplace domains: `amazon.<suffix>` and its sub-domains.
const AMAZON_SUFFIXES: &[&str] = &[
    "com", "ca", "com.mx", "com.br", "co.uk", "de", "fr", "es", "it", "nl", "se", "pl", "com.be", "ie", "com.tr", "ae",
    "sa", "eg", "in", "co.jp", "jp", "cn", "sg", "com.au", "co.za",
];

/// Amazon's own short-link and service domains.
const AMAZON_OTHER_HOSTS: &[&str] = &["amzn.to", "amzn.eu", "amzn.asia", "a.co", "amazon.jobs"];

/// Whether links to `host` are Amazon's own.
pub fn is_amazon_host(host: &str) -> bool {
    AMAZON_SUFFIXES.iter().any(|s| host_matches(host, &format!("amazon.{s}")))
        || AMAZON_OTHER_HOSTS.iter().any(|h| host_matches(host, h))
}

/// Offers, codes, calls to buy or follow, new products: blocked.
const PROMOTION: &[&str] = &[
    // en
    "buy now",
    "shop now",
    "order now",
    "buy one get one",
    "bogo",
    "check out our",
    "take a look at our",
    "visit our store",
    "visit our shop",
    "visit our website",
    "on our website",
    "our online shop",
    "our new",
    "new arrival*",
    "new collection",
    "latest product*",
    "our other product*",
    "you might also like",
    "you may also like",
    "follow us",
    "like us on",
    "find us on",
    "join our",
    "subscribe to our",
    "sign up for",
    "newsletter*",
    "coupon code*",
    "promo code*",
    "discount code*",
    "voucher code*",
    "use code",
    "#% off",
    "# percent off",
    "off your next",
    "on your next order",
    "for your next order",
    "next purchase",
    "future purchase*",
    "special offer*",
    "exclusive offer*",
    "exclusive deal*",
    "limited time",
    "limited offer*",
    "don't miss",
    "flash sale",
    "big sale",
    "on sale now",
    "sale ends",
    "summer sale",
    "clearance sale",
    "black friday",
    "half price",
    "half off",
    "bestsell*",
    "best selling",
    "weekend only",
    "today only",
    "cyber monday",
    "best deal*",
    "great deal*",
    "free gift*",
    "our instagram",
    "our facebook",
    "our tiktok",
    // de
    "jetzt kaufen",
    "jetzt bestellen",
    "jetzt zugreifen",
    "gutscheincode*",
    "rabattcode*",
    "aktionscode*",
    "#% rabatt",
    "sonderangebot*",
    "exklusive* angebot*",
    "zeitlich begrenzt*",
    "nur fur kurze zeit",
    "folgen sie uns",
    "folge uns",
    "unsere* neue*",
    "neuheit*",
    "neue kollektion",
    "nachste* bestellung",
    "nachste* einkauf",
    "nachsten kauf",
    "besuchen sie unser*",
    "schauen sie sich unser*",
    "ausverkauf",
    "schnappchen",
    "unsere* shop*",
    "weitere* angebot*",
    "gratis geschenk*",
    "kostenlose* geschenk*",
    // fr
    "achetez maintenant",
    "commandez maintenant",
    "code promo*",
    "code de reduction",
    "code remise",
    "#% de reduction",
    "#% de remise",
    "offre speciale",
    "offres speciales",
    "offre* exclusive*",
    "offre limitee",
    "duree limitee",
    "temps limite",
    "suivez nous",
    "abonnez vous",
    "nos nouveaut*",
    "nos nouveaux",
    "nos nouvelles",
    "notre nouvelle",
    "notre nouveau",
    "decouvrez nos",
    "decouvrez notre",
    "prochaine commande",
    "prochain achat",
    "soldes",
    "notre boutique",
    "notre site",
    "cadeau gratuit",
    // es
    "compra ahora",
    "compre ahora",
    "comprar ahora",
    "codigo promocional",
    "codigo de descuento",
    "#% de descuento",
    "oferta especial",
    "ofertas especiales",
    "oferta* exclusiva*",
    "tiempo limitado",
    "siguenos",
    "siganos",
    "suscribete",
    "suscribase",
    "nuestros nuevos",
    "nuestras nuevas",
    "nuestra nueva",
    "nuestro nuevo",
    "descubre nuestr*",
    "descubra nuestr*",
    "proxima compra",
    "proximo pedido",
    "rebajas",
    "nuestra tienda",
    "nuestra web",
    "nuestro sitio",
    "regalo gratis",
    // it
    "acquista ora",
    "acquistate ora",
    "compra ora",
    "codice sconto",
    "codice promo*",
    "#% di sconto",
    "offerta speciale",
    "offerte speciali",
    "offert* esclusiv*",
    "tempo limitato",
    "seguici",
    "iscriviti",
    "nostri nuovi",
    "nostre nuove",
    "nostra nuova",
    "nostro nuovo",
    "scopri i nostri",
    "scopri le nostre",
    "scopri la nostra",
    "scopri il nostro",
    "prossimo acquisto",
    "prossimo ordine",
    "saldi",
    "nostro negozio",
    "nostro sito",
    "regalo gratuito",
    "omaggio gratuito",
    // ja
    "今すぐ購入",
    "今すぐ買",
    "今すぐご購入",
    "クーポンコード",
    "割引コード",
    "プロモーションコード",
    "#%オフ",
    "#%off",
    "セール中",
    "セール開催",
    "期間限定",
    "限定セール",
    "新商品",
    "新製品",
    "フォローして",
    "フォローお願い",
    "フォローください",
    "次回のご購入",
    "次回購入",
    "次回ご購入",
    "次回ご注文",
    "次回のご注文",
    "他の商品もぜひ",
    "新作",
    "新着商品",
    "ストア ~ チェック",
    "ショップ ~ チェック",
    "無料プレゼント",
    // zh
    "立即购买",
    "马上购买",
    "立即下单",
    "马上下单",
    "赶快购买",
    "立即購買",
    "馬上購買",
    "优惠码",
    "折扣码",
    "促销码",
    "優惠碼",
    "折扣碼",
    "#折",
    "限时",
    "限時",
    "特价",
    "特價",
    "新品上市",
    "新品上架",
    "新款上市",
    "我们的新品",
    "关注我们",
    "關注我們",
    "关注店铺",
    "关注本店",
    "下次购买",
    "下次购物",
    "下次下单",
    "下次購買",
    "满#减",
    "滿#減",
    "九折",
    "八折",
    "七折",
    "六折",
    "五折",
    "半价",
    "半價",
    "全场",
    "全場",
    "免费赠品",
    "买一送一",
    "買一送一",
    "周年庆",
    "週年慶",
    "店庆",
    "店慶",
    "免費贈品",
    "其他产品",
    "其他商品",
];

/// A discount or coupon named: a warning, since it is often a fact about
/// the buyer's own order.
const DISCOUNT_MENTION: &[&str] = &[
    "discount*",
    "coupon*",
    "voucher*",
    "promo",
    "promotion*",
    "sale",
    "rebate*",
    "special price", // en
    "rabatt*",
    "*rabatt",
    "gutschein*",
    "preisnachlass*", // de
    "reduction*",
    "promotion*",
    "coupon*",
    "rabais",
    "bon d'achat",
    "bon de reduction", // fr
    "descuento*",
    "cupon*",
    "cupones",
    "promocion*", // es
    "sconto",
    "sconti",
    "buono sconto",
    "buoni sconto",
    "buono acquisto",
    "buoni acquisto",
    "promozion*", // it
    "クーポン",
    "割引",
    "セール",
    "値引", // ja
    "优惠券",
    "優惠券",
    "折扣",
    "优惠",
    "優惠",
    "打折",
    "促销",
    "促銷",
    "代金券", // zh
];

const PROMOTION_EXCEPTIONS: &[&str] =
    &["after sale*", "after sales", "point of sale", "bill of sale", "for sale", "sale of goods"];

/// Asking for a positive review or rating, paying for one, or asking to
/// change or remove one: blocked.
const REVIEW_MANIPULATION: &[&str] = &[
    // en
    "positive review*",
    "positive feedback",
    "positive rating*",
    "good review*",
    "great review*",
    "favorable review*",
    "favourable review*",
    "glowing review*",
    "glowing ~ review*",
    "5★",
    "5 ★",
    "5 star*",
    "five star*",
    "★★★★★",
    "full marks",
    "top rating",
    "remov* ~ review*",
    "remov* ~ feedback",
    "delet* ~ review*",
    "delet* ~ feedback",
    "chang* ~ review*",
    "chang* ~ feedback",
    "updat* ~ review*",
    "revis* ~ review*",
    "edit* ~ review*",
    "modif* ~ review*",
    "withdraw* ~ review*",
    "take down ~ review*",
    "review* ~ removed",
    "review* ~ taken down",
    "in exchange for ~ review*",
    "in exchange for ~ feedback",
    "gift ~ review*",
    "review* ~ gift*",
    "reward* ~ review*",
    "review* ~ reward*",
    "cashback",
    "cash back",
    "free ~ for ~ review*",
    "refund* ~ for ~ review*",
    "review* ~ for a refund",
    "compensat* ~ review*",
    "review* ~ compensat*",
    // de
    "positive* bewertung*",
    "gute* bewertung*",
    "positive* rezension*",
    "gute* rezension*",
    "positive* feedback",
    "5 sterne*",
    "funf sterne*",
    "*bewertung* ~ entfern*",
    "*bewertung* ~ losch*",
    "*bewertung* ~ andern",
    "*bewertung* ~ zu andern",
    "*bewertung* ~ geandert",
    "*bewertung* ~ anpass*",
    "*bewertung* ~ zuruckzieh*",
    "*rezension* ~ entfern*",
    "*rezension* ~ losch*",
    "*rezension* ~ andern",
    "geschenk* ~ *bewertung*",
    "*bewertung* ~ geschenk*",
    "gutschein* ~ *bewertung*",
    "*bewertung* ~ gutschein*",
    "*bewertung* ~ erstatt*",
    "erstatt* ~ *bewertung*",
    "andern ~ *bewertung*",
    "andern ~ *rezension*",
    "entfernen ~ *bewertung*",
    "entfernen ~ *rezension*",
    "loschen ~ *bewertung*",
    "loschen ~ *rezension*",
    "geschenk* ~ *rezension*",
    "*rezension* ~ geschenk*",
    // fr
    "avis positif*",
    "bon avis",
    "bons avis",
    "avis favorable*",
    "commentaire* positif*",
    "evaluation* positive*",
    "note maximale",
    "5 etoiles",
    "cinq etoiles",
    "modifi* ~ avis",
    "supprim* ~ avis",
    "retir* ~ avis",
    "chang* ~ avis",
    "avis ~ modifi*",
    "avis ~ supprim*",
    "avis ~ retir*",
    "cadeau ~ avis",
    "avis ~ cadeau",
    "rembours* ~ avis",
    "en echange ~ avis",
    "contre ~ avis",
    // es
    "resena* positiva*",
    "opinion* positiva*",
    "valoracion* positiva*",
    "comentario* positivo*",
    "buena* resena*",
    "5 estrellas",
    "cinco estrellas",
    "elimin* ~ resena*",
    "borr* ~ resena*",
    "modific* ~ resena*",
    "cambi* ~ resena*",
    "retir* ~ resena*",
    "elimin* ~ opinion*",
    "modific* ~ opinion*",
    "cambi* ~ opinion*",
    "elimin* ~ valoracion*",
    "modific* ~ valoracion*",
    "regalo ~ resena*",
    "resena* ~ regalo",
    "reembolso ~ resena*",
    "a cambio de ~ resena*",
    "a cambio de ~ opinion*",
    "a cambio de ~ valoracion*",
    // it
    "recension* positiv*",
    "buona recensione",
    "buone recensioni",
    "valutazion* positiv*",
    "feedback positiv*",
    "5 stelle",
    "cinque stelle",
    "rimuov* ~ recension*",
    "elimin* ~ recension*",
    "modific* ~ recension*",
    "cambi* ~ recension*",
    "recension* ~ rimuov*",
    "recension* ~ elimin*",
    "recension* ~ modific*",
    "omaggio ~ recension*",
    "regalo ~ recension*",
    "recension* ~ omaggio",
    "recension* ~ regalo",
    "rimborso ~ recension*",
    "in cambio di ~ recension*",
    // ja
    "星5",
    "星五",
    "星5つ",
    "星五つ",
    "5つ星",
    "五つ星",
    "★5",
    "高評価",
    "良い評価",
    "いい評価",
    "良いレビュー",
    "高い評価",
    "満点",
    "レビュー ~ 削除",
    "レビュー ~ 変更",
    "レビュー ~ 修正",
    "レビュー ~ 取り下げ",
    "評価 ~ 削除",
    "評価 ~ 変更",
    "評価 ~ 修正",
    "評価 ~ 取り下げ",
    "プレゼント ~ レビュー",
    "レビュー ~ プレゼント",
    "特典 ~ レビュー",
    "レビュー ~ 特典",
    "レビュー ~ 返金",
    "返金 ~ レビュー",
    "レビュー ~ ギフト",
    "ギフト ~ レビュー",
    "レビュー ~ クーポン",
    "クーポン ~ レビュー",
    "評価 ~ ギフト",
    "ギフト ~ 評価",
    // zh
    "好评",
    "好評",
    "五星",
    "5星",
    "五颗星",
    "五顆星",
    "满分评价",
    "追评",
    "返现",
    "返現",
    "晒图",
    "曬圖",
    "删除 ~ 评价",
    "删除 ~ 评论",
    "删 ~ 差评",
    "差评 ~ 删",
    "修改 ~ 评价",
    "修改 ~ 评论",
    "评价 ~ 删除",
    "评价 ~ 修改",
    "评论 ~ 删除",
    "评论 ~ 修改",
    "差评 ~ 改",
    "刪除 ~ 評價",
    "修改 ~ 評價",
    "評價 ~ 刪除",
    "评价 ~ 返",
    "评价 ~ 送",
    "赠品 ~ 评价",
    "評價 ~ 送",
];

const REVIEW_MANIPULATION_EXCEPTIONS: &[&str] = &[
    "changez d'avis",
    "changer d'avis",
    "change d'avis",
    "changiez d'avis",
    "cambia de opinion",
    "cambiar de opinion",
    "cambias de opinion",
    "cambie de opinion",
    "cambiato idea",
];

/// A neutral request for a review or seller feedback: a warning.
const REVIEW_REQUEST: &[&str] = &[
    // en
    "leave ~ review*",
    "leave ~ feedback",
    "leave ~ rating*",
    "write ~ review*",
    "post ~ review*",
    "would appreciate ~ review*",
    "would appreciate ~ feedback",
    "appreciate it if ~ review*",
    "rate us",
    "rate your purchase",
    "rate the product",
    "rate your experience",
    "please rate",
    "take a moment to review",
    "review your purchase",
    "review the product",
    "review your order",
    "share your experience",
    "tell others about",
    "how did we do",
    "in a review",
    "review* ~ on amazon",
    "feedback ~ on amazon",
    // de
    "*bewertung* ~ hinterlass*",
    "hinterlassen sie ~ *bewertung*",
    "*bewertung* ~ abgeben",
    "*bewertung* ~ schreiben",
    "*bewertung* ~ auf amazon",
    "*bewertung* ~ freuen",
    "freuen ~ *bewertung*",
    "bewerten sie",
    "bitte bewerten",
    "*rezension* ~ hinterlass*",
    "*rezension* ~ schreiben",
    "*rezension* ~ freuen",
    "freuen ~ *rezension*",
    "feedback ~ hinterlass*",
    "feedback ~ freuen",
    "freuen ~ feedback",
    // fr
    "laiss* ~ avis",
    "laiss* ~ commentaire*",
    "laiss* ~ evaluation*",
    "donn* votre avis",
    "donn* ton avis",
    "donn* nous votre avis",
    "partag* ~ avis",
    "ecrire ~ avis",
    "rediger ~ avis",
    "evalu* ~ produit",
    "evalu* ~ achat",
    "evalu* ~ commande",
    "notez ~ produit",
    "notez nous",
    "n'hesitez pas ~ avis",
    // es
    "dej* ~ resena*",
    "dej* ~ opinion*",
    "dej* ~ valoracion*",
    "dej* ~ comentario*",
    "escrib* ~ resena*",
    "escrib* ~ opinion*",
    "valor* ~ producto",
    "califi* ~ producto",
    "compart* ~ opinion*",
    "compart* ~ experiencia",
    "su opinion en amazon",
    "resena* ~ en amazon",
    // it
    "lasci* ~ recension*",
    "lasci* ~ feedback",
    "lasci* ~ valutazion*",
    "lasci* ~ commento",
    "scriv* ~ recension*",
    "valut* ~ prodotto",
    "farebbe piacere ~ recension*",
    "ricevere ~ recension*",
    "recension* ~ su amazon",
    "condivid* ~ opinion*",
    "condivid* ~ esperienza",
    // ja
    "レビュー ~ お願い",
    "レビュー ~ ください",
    "レビュー ~ 下さい",
    "レビュー ~ いただけ",
    "レビュー ~ 頂け",
    "評価 ~ お願い",
    "評価 ~ ください",
    "評価 ~ いただけ",
    "評価 ~ 頂け",
    "フィードバック ~ お願い",
    "フィードバック ~ ください",
    "フィードバック ~ いただけ",
    // zh
    "留 ~ 评价",
    "留 ~ 评论",
    "写 ~ 评价",
    "写 ~ 评论",
    "给 ~ 评价",
    "给 ~ 评论",
    "评价一下",
    "点评",
    "麻烦 ~ 评价",
    "请 ~ 评价",
    "期待 ~ 评价",
    "留下 ~ 反馈",
    "留 ~ 評價",
    "寫 ~ 評價",
    "給 ~ 評價",
    "請 ~ 評價",
];

const REVIEW_REQUEST_EXCEPTIONS: &[&str] = &[
    "thank* you for your review*",
    "thank* for your review*",
    "thank* you for the review*",
    "thank* for the review*",
    "thank* you for your feedback",
    "thank* for your feedback",
    "vielen dank fur ihre *bewertung*",
    "danke fur ihre *bewertung*",
    "merci pour votre avis",
    "gracias por su resena*",
    "grazie per la recensione",
    "grazie per la sua recensione",
    "hinterlassen haben",
    "hinterlassen hast",
    "avis de passage",
    "avis de reception",
    "avis de livraison",
    "que ~ dejo",
    "ha lasciato",
    "hai lasciato",
    "avete lasciato",
    "レビューをいただき",
    "評価をいただき",
    "レビューを頂き",
    "評価を頂き",
    "感谢 ~ 评价",
    "谢谢 ~ 评价",
    "感谢 ~ 评论",
    "感謝 ~ 評價",
];

/// Opt-out and unsubscribe wording: blocked (Amazon manages opt-outs).
const OPT_OUT: &[&str] = &[
    "unsubscrib*",
    "opt out",
    "opt outs",
    "stop receiving",
    "reply stop",
    "text stop", // en
    "abmelden",
    "abbestellen",
    "abmeldung",
    "austragen", // de
    "desabonner",
    "desabonnez",
    "desinscri*",
    "desabonnement", // fr
    "darse de baja",
    "darte de baja",
    "dese de baja",
    "cancelar la suscripcion",
    "anular la suscripcion", // es
    "disiscriv*",
    "annullare l'iscrizione",
    "annulla l'iscrizione",
    "cancellare l'iscrizione", // it
    "配信停止",
    "購読解除",
    "配信解除",
    "メール配信を停止", // ja
    "退订",
    "退訂",
    "取消订阅",
    "取消訂閱",
    "回复td",
    "回覆td", // zh
];

/// Subject markers Amazon reserves for messages needed to complete an
/// order.
const IMPORTANT_MARKERS: &[&str] = &["[important]", "[wichtig]", "[importante]", "[重要]", "【重要】", "(important)"];

/// Words that, opening a subject, claim the same urgency.
const IMPORTANT_FIRST_WORDS: &[&str] = &["important", "wichtig", "importante", "重要", "urgent", "dringend"];

/// A compiled family of phrase patterns with its exceptions.
struct Family {
    rule: RuleId,
    patterns: Vec<Pattern>,
    exceptions: Vec<Pattern>,
}

impl Family {
    fn new(rule: RuleId, patterns: &[&str], exceptions: &[&str]) -> Self {
        Self {
            rule,
            patterns: patterns.iter().map(|p| Pattern::new(p)).collect(),
            exceptions: exceptions.iter().map(|p| Pattern::new(p)).collect(),
        }
    }

    /// Merged folded ranges of this family's matches in `text`.
    fn find(&self, text: &Folded) -> Vec<(usize, usize)> {
        let exceptions: Vec<(usize, usize)> = self.exceptions.iter().flat_map(|p| p.find_all(text)).collect();
        let mut hits: Vec<(usize, usize)> = self
            .patterns
            .iter()
            .flat_map(|p| p.find_all(text))
            .filter(|&(a, b)| !exceptions.iter().any(|&(x, y)| a < y && x < b))
            .collect();
        merge(&mut hits);
        hits
    }
}

/// Sorts ranges and merges the overlapping ones.
fn merge(ranges: &mut Vec<(usize, usize)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for &(a, b) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if a < last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    *ranges = merged;
}

struct Families {
    promotion: Family,
    discount: Family,
    manipulation: Family,
    request: Family,
    opt_out: Family,
    important: Vec<Pattern>,
}

static FAMILIES: LazyLock<Families> = LazyLock::new(|| Families {
    promotion: Family::new(RuleId::AmazonPromotion, PROMOTION, PROMOTION_EXCEPTIONS),
    discount: Family::new(RuleId::AmazonDiscountMention, DISCOUNT_MENTION, PROMOTION_EXCEPTIONS),
    manipulation: Family::new(RuleId::AmazonReviewManipulation, REVIEW_MANIPULATION, REVIEW_MANIPULATION_EXCEPTIONS),
    request: Family::new(RuleId::AmazonReviewRequest, REVIEW_REQUEST, REVIEW_REQUEST_EXCEPTIONS),
    opt_out: Family::new(RuleId::AmazonOptOut, OPT_OUT, &[]),
    important: IMPORTANT_MARKERS.iter().map(|p| Pattern::literal(p)).collect(),
});

/// The rules that read text: links, e-mail addresses, phone numbers and
/// the phrase families. Used for the message text and the subject.
pub fn check_text(raw: &str, folded: &Folded, location: Location, account: &AccountRules, lang: Lang) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut push = |rule: RuleId, start: usize, end: usize| {
        findings.push(finding(rule, location, Span::of(raw, start, end), explain::plain(rule, lang)));
    };

    let emails = find_emails(raw);
    for &(start, end) in &emails {
        push(RuleId::AmazonEmailAddress, start, end);
    }
    let links = find_links(raw);
    for link in &links {
        let inside_email = emails.iter().any(|&(s, e)| link.start < e && s < link.end);
        let allowed =
            is_amazon_host(&link.host) || account.allowed_link_hosts.iter().any(|h| host_matches(&link.host, h));
        if !inside_email && !allowed {
            push(RuleId::AmazonExternalLink, link.start, link.end);
        }
    }
    for (start, end) in find_phones(raw) {
        let inside_email = emails.iter().any(|&(s, e)| start < e && s < end);
        let inside_link = links.iter().any(|l| start < l.end && l.start < end);
        if !inside_email && !inside_link {
            push(RuleId::AmazonPhoneNumber, start, end);
        }
    }

    let families = &*FAMILIES;
    let sentences = folded.sentence_ids();
    let sentence_of = |i: usize| sentences.get(i).copied().unwrap_or(usize::MAX);
    let promotion = families.promotion.find(folded);
    let manipulation = families.manipulation.find(folded);
    // A weaker finding in a sentence a stronger one already covers adds
    // nothing.
    let discount: Vec<_> = families
        .discount
        .find(folded)
        .into_iter()
        .filter(|&(a, _)| !promotion.iter().chain(&manipulation).any(|&(p, _)| sentence_of(p) == sentence_of(a)))
        .collect();
    let request: Vec<_> = families
        .request
        .find(folded)
        .into_iter()
        .filter(|&(a, b)| !manipulation.iter().any(|&(p, q)| sentence_of(p) == sentence_of(a) || (a < q && p < b)))
        .collect();
    let opt_out = families.opt_out.find(folded);
    for (rule, ranges) in [
        (families.promotion.rule, promotion),
        (families.discount.rule, discount),
        (families.manipulation.rule, manipulation),
        (families.request.rule, request),
        (families.opt_out.rule, opt_out),
    ] {
        for (a, b) in ranges {
            let (start, end) = folded.byte_range(a, b);
            push(rule, start, end);
        }
    }
    findings
}

/// `[Important]` in the subject, or a subject opening with "Important".
pub fn check_subject(raw: &str, folded: &Folded, lang: Lang) -> Vec<Finding> {
    let mut ranges: Vec<(usize, usize)> = FAMILIES.important.iter().flat_map(|p| p.find_all(folded)).collect();
    let first_word_start = folded.chars.iter().position(|c| c.c.is_alphanumeric());
    if let Some(start) = first_word_start {
        let opens_subject = start == 0;
        let word: String =
            folded.chars[start..].iter().map(|c| c.c).take_while(|c| c.is_alphanumeric()).collect::<String>();
        let is_important = IMPORTANT_FIRST_WORDS
            .iter()
            .any(|w| if w.chars().any(super::text::is_cjk) { word.starts_with(w) } else { word == *w });
        if is_important && opens_subject {
            let len = IMPORTANT_FIRST_WORDS
                .iter()
                .find(|w| word.starts_with(*w))
                .map_or(word.chars().count(), |w| w.chars().count());
            ranges.push((start, start + len));
        }
    }
    merge(&mut ranges);
    ranges
        .into_iter()
        .map(|(a, b)| {
            let (start, end) = folded.byte_range(a, b);
            finding(
                RuleId::AmazonImportantSubject,
                Location::Subject,
                Span::of(raw, start, end),
                explain::plain(RuleId::AmazonImportantSubject, lang),
            )
        })
        .collect()
}

/// Whether Amazon accepts an attachment's type: its extension (when it has
/// one) and its MIME type (unless generic) must both be on the list.
pub fn amazon_accepts(a: &AttachmentMeta) -> bool {
    let ext_ok = a.extension().is_none_or(|e| AMAZON_ATTACHMENT_TYPES.iter().any(|(x, _)| *x == e));
    let mime = a.mime();
    let generic = mime.is_empty() || mime == "application/octet-stream";
    let mime_ok = (generic && a.extension().is_some()) || AMAZON_ATTACHMENT_TYPES.iter().any(|(_, m)| *m == mime);
    ext_ok && mime_ok
}

/// Attachment types and the total size.
pub fn check_attachments(attachments: &[AttachmentMeta], lang: Lang) -> Vec<Finding> {
    let mut findings = Vec::new();
    let allowed = {
        let mut exts: Vec<&str> = AMAZON_ATTACHMENT_TYPES.iter().map(|(e, _)| *e).collect();
        exts.dedup();
        exts.join(", ")
    };
    for (index, a) in attachments.iter().enumerate() {
        if !amazon_accepts(a) {
            let what = a.extension().unwrap_or_else(|| a.mime());
            findings.push(finding(
                RuleId::AmazonAttachmentType,
                Location::Attachment { index },
                None,
                explain::amazon_attachment_type(lang, &what, &allowed),
            ));
        }
    }
    let total: u64 = attachments.iter().filter_map(|a| a.size).fold(0, u64::saturating_add);
    if total > AMAZON_MAX_ATTACHMENT_BYTES {
        findings.push(finding(
            RuleId::AmazonAttachmentSize,
            Location::Message,
            None,
            explain::attachments_too_large(lang, "Amazon", total, AMAZON_MAX_ATTACHMENT_BYTES),
        ));
    }
    findings
}

/// Proactive messages only within 30 days of the order.
pub fn check_proactive_window(draft: &Draft, now: DateTime<Utc>, lang: Lang) -> Vec<Finding> {
    if !draft.proactive {
        return Vec::new();
    }
    let Some(since) = draft.order_date.or(draft.delivery_date) else {
        return Vec::new();
    };
    let elapsed = now - since;
    if elapsed <= AMAZON_PROACTIVE_WINDOW {
        return Vec::new();
    }
    vec![finding(
        RuleId::AmazonProactiveWindow,
        Location::Message,
        None,
        explain::amazon_proactive_window(lang, elapsed.num_days(), AMAZON_PROACTIVE_WINDOW.num_days()),
    )]
}
