//! Entity extraction from customer messages: order numbers (per-shop
//! patterns plus defaults such as `#1001`, `order 1001`, Amazon
//! `123-1234567-1234567`), parcel tracking numbers of the major carriers,
//! e-mail addresses, phone numbers normalised to E.164, amounts with their
//! currency, and calendar dates. Every entity carries its byte span in the
//! original text; overlapping candidates are resolved by a fixed priority
//! (e-mail, tracking, order, date, amount, phone).

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::NluError;

/// Parcel carriers recognised from the tracking number's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Ups,
    Usps,
    Fedex,
    Dhl,
    ChinaPost,
    ChinaEms,
    YunExpress,
    FourPx,
    Cainiao,
    SfExpress,
    /// Another postal operator (UPU S10 number), by ISO country code.
    Postal {
        country: String,
    },
}

/// The value of an entity, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntityValue {
    OrderNumber {
        number: String,
    },
    TrackingNumber {
        number: String,
        carrier: Carrier,
    },
    Email {
        address: String,
    },
    /// E.164, e.g. `+14155550123`.
    Phone {
        e164: String,
    },
    /// `amount` is a plain decimal (`1299.50`), `currency` an ISO 4217 code.
    Amount {
        amount: String,
        currency: String,
    },
    Date {
        year: i32,
        month: u32,
        day: u32,
    },
}

/// An entity found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub value: EntityValue,
    /// Byte offsets into the original text.
    pub start: usize,
    pub end: usize,
    /// The text as written.
    pub text: String,
}

/// Extraction settings (per shop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntityConfig {
    /// ISO 3166 region for phone numbers written without a country code.
    pub default_region: String,
    /// Extra order-number patterns; the first capture group (or the whole
    /// match) is the number. Case-insensitive.
    pub order_patterns: Vec<String>,
    /// Also use the built-in order patterns.
    pub default_order_patterns: bool,
    /// Read `03/04/2025` as 3 April (true) or March 4 (false).
    pub day_first: bool,
    /// Currency of a bare `$`.
    pub dollar_currency: String,
    /// Currency of a bare `¥`.
    pub yen_currency: String,
}

impl Default for EntityConfig {
    fn default() -> Self {
        Self {
            default_region: "US".into(),
            order_patterns: Vec::new(),
            default_order_patterns: true,
            day_first: true,
            dollar_currency: "USD".into(),
            yen_currency: "JPY".into(),
        }
    }
}

const DEFAULT_ORDER_PATTERNS: &[&str] = &[
    // Amazon order id.
    r"\b(\d{3}-\d{7}-\d{7})\b",
    // A keyword, then the number.
    r"(?:\border|\bpurchase|\bpedido|\bcommande|\bbestellung|\bordine|\bbestelling|\bencomenda|\bzam[oó]wienie|\bsipari[sş]|заказ|订单|訂單|注文|주문)(?:\s*(?:number|num[eé]ro|n[uú]mero|nummer|numero|no\.?|nr\.?|n[°º]\.?|id|号|號|番号|번호))?(?:\s*(?:是|为|為|は|が|는|은|\bis\b|\bes\b|\best\b|\bist\b|\bé\b|\bè\b))?\s*[:：#]?\s*#?\s*([A-Z0-9][A-Z0-9-]{2,24})",
    // `#1001`, `#SO-1001`.
    r"#\s?([A-Z]{0,4}-?\d{3,12})\b",
];

#[derive(Debug)]
struct Tracking {
    re: Regex,
    carrier: Carrier,
    /// Only with this word in the message (numbers that look like others).
    needs_word: Option<&'static str>,
}

/// Compiled extractor; build once per shop and reuse.
#[derive(Debug)]
pub struct EntityExtractor {
    config: EntityConfig,
    region: phonenumber::country::Id,
    order: Vec<Regex>,
    tracking: Vec<Tracking>,
    s10: Regex,
    email: Regex,
    phone: Regex,
    amount_before: Regex,
    amount_after: Regex,
    date_ymd: Regex,
    date_dmy: Regex,
    date_cjk: Regex,
}

fn ci(pattern: &str) -> Result<Regex, NluError> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .map_err(|e| NluError::Config(format!("bad pattern {pattern:?}: {e}")))
}

const CURRENCY: &str = r"US\$|C\$|CA\$|A\$|AU\$|HK\$|NZ\$|S\$|R\$|MX\$|\$|€|£|¥|￥|₹|₩|₽|₺|₫|฿|zł|CHF|USD|EUR|GBP|JPY|CNY|RMB|CAD|AUD|HKD|SGD|INR|KRW|BRL|MXN|SEK|NOK|DKK|PLN|TRY|RUB|AED|SAR|NZD|THB|TWD|元|円|euros?|dollars?|yuan|yen";
const NUMBER: &str = r"\d{1,3}(?:[.,\x20\u{a0}']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";

impl EntityExtractor {
    pub fn new(config: &EntityConfig) -> Result<Self, NluError> {
        let region: phonenumber::country::Id = config
            .default_region
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| NluError::Config(format!("unknown region {:?}", config.default_region)))?;
        let mut order = Vec::new();
        for p in &config.order_patterns {
            order.push(ci(p)?);
        }
        if config.default_order_patterns {
            for p in DEFAULT_ORDER_PATTERNS {
                order.push(ci(p)?);
            }
        }
        let t = |re: &str, carrier: Carrier, needs_word: Option<&'static str>| -> Result<Tracking, NluError> {
            Ok(Tracking { re: ci(re)?, carrier, needs_word })
        };
        let tracking = vec![
            t(r"\b1Z[0-9A-Z]{16}\b", Carrier::Ups, None)?,
            t(r"\bYT\d{16}\b", Carrier::YunExpress, None)?,
            t(r"\b4PX\d{10,16}(?:CN)?\b", Carrier::FourPx, None)?,
            t(r"\bLP\d{14,16}\b", Carrier::Cainiao, None)?,
            t(r"\bCNG\d{8,12}\b", Carrier::Cainiao, None)?,
            t(r"\bSF\d{12,13}\b", Carrier::SfExpress, None)?,
            t(r"\bGM\d{16,18}\b", Carrier::Dhl, None)?,
            t(r"\bJJD\d{16,20}\b", Carrier::Dhl, None)?,
            t(r"\b9[1-5]\d{18,20}\b", Carrier::Usps, None)?,
            t(r"\b9[1-5]\d{2}(?: \d{4}){4} \d{2}\b", Carrier::Usps, None)?,
            t(r"\b(?:\d{12}|\d{15})\b", Carrier::Fedex, Some("fedex"))?,
            t(r"\b\d{10}\b", Carrier::Dhl, Some("dhl"))?,
        ];
        Ok(Self {
            config: config.clone(),
            region,
            order,
            tracking,
            s10: ci(r"\b([A-Z]{2})(\d{8})(\d)([A-Z]{2})\b")?,
            email: ci(r"\b[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}\b")?,
            phone: ci(r"(?:\+|\(|\b)\d[\d\x20().-]{5,18}\d\b")?,
            amount_before: ci(&format!(r"(?P<cur>{CURRENCY})\s?(?P<num>{NUMBER})"))?,
            amount_after: ci(&format!(r"(?P<num>{NUMBER})\s?(?P<cur>{CURRENCY})(?:\b|$|[^A-Za-z])"))?,
            date_ymd: ci(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")?,
            date_dmy: ci(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")?,
            date_cjk: ci(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")?,
        })
    }

    /// All entities in `text`, sorted by position, without overlaps.
    pub fn extract(&self, text: &str) -> Vec<Entity> {
        let mut candidates: Vec<(u8, Entity)> = Vec::new();
        let ent = |value, start, end| Entity { value, start, end, text: text[start..end].to_owned() };
        for m in self.email.find_iter(text) {
            candidates.push((0, ent(EntityValue::Email { address: m.as_str().to_lowercase() }, m.start(), m.end())));
        }
        let lower = text.to_lowercase();
        for t in &self.tracking {
            if t.needs_word.is_some_and(|w| !lower.contains(w)) {
                continue;
            }
            for m in t.re.find_iter(text) {
                let number: String = m.as_str().chars().filter(|c| !c.is_whitespace()).collect();
                candidates.push((
                    1,
                    ent(
                        EntityValue::TrackingNumber { number: number.to_uppercase(), carrier: t.carrier.clone() },
                        m.start(),
                        m.end(),
                    ),
                ));
            }
        }
        for c in self.s10.captures_iter(text) {
            let (Some(all), Some(prefix), Some(serial), Some(check), Some(country)) =
                (c.get(0), c.get(1), c.get(2), c.get(3), c.get(4))
            else {
                continue;
            };
            if !s10_check_digit_ok(serial.as_str(), check.as_str()) {
                continue;
            }
            let country = country.as_str().to_uppercase();
            let prefix = prefix.as_str().to_uppercase();
            let carrier = match country.as_str() {
                "CN" if prefix.starts_with('E') => Carrier::ChinaEms,
                "CN" => Carrier::ChinaPost,
                "US" => Carrier::Usps,
                _ => Carrier::Postal { country },
            };
            candidates.push((
                1,
                ent(
                    EntityValue::TrackingNumber { number: all.as_str().to_uppercase(), carrier },
                    all.start(),
                    all.end(),
                ),
            ));
        }
        for re in &self.order {
            for c in re.captures_iter(text) {
                let Some(m) = c.get(1).or_else(|| c.get(0)) else {
                    continue;
                };
                let number = m.as_str().trim_end_matches('-');
                if !number.chars().any(|c| c.is_ascii_digit()) {
                    continue;
                }
                candidates.push((
                    2,
                    ent(
                        EntityValue::OrderNumber { number: number.to_uppercase() },
                        m.start(),
                        m.start() + number.len(),
                    ),
                ));
            }
        }
        self.dates(text, &mut candidates);
        self.amounts(text, &mut candidates);
        self.phones(text, &mut candidates);

        candidates.sort_by_key(|(p, e)| (*p, e.start, std::cmp::Reverse(e.end)));
        let mut accepted: Vec<Entity> = Vec::new();
        for (_, e) in candidates {
            if accepted.iter().all(|a| e.end <= a.start || e.start >= a.end) {
                accepted.push(e);
            }
        }
        accepted.sort_by_key(|e| e.start);
        accepted
    }

    fn dates(&self, text: &str, out: &mut Vec<(u8, Entity)>) {
        let num = |c: &regex::Captures<'_>, i: usize| c.get(i).and_then(|m| m.as_str().parse::<i64>().ok());
        let mut push = |y: i64, m: i64, d: i64, start: usize, end: usize| {
            if let (Ok(year), Ok(month), Ok(day)) = (i32::try_from(y), u32::try_from(m), u32::try_from(d))
                && valid_date(year, month, day)
            {
                out.push((
                    3,
                    Entity {
                        value: EntityValue::Date { year, month, day },
                        start,
                        end,
                        text: text[start..end].to_owned(),
                    },
                ));
            }
        };
        for re in [&self.date_ymd, &self.date_cjk] {
            for c in re.captures_iter(text) {
                if let (Some(all), Some(y), Some(m), Some(d)) = (c.get(0), num(&c, 1), num(&c, 2), num(&c, 3)) {
                    push(y, m, d, all.start(), all.end());
                }
            }
        }
        for c in self.date_dmy.captures_iter(text) {
            let (Some(all), Some(a), Some(b), Some(y)) = (c.get(0), num(&c, 1), num(&c, 2), num(&c, 3)) else {
                continue;
            };
            let year = if y < 100 { 2000 + y } else { y };
            let (day, month) = if a > 12 {
                (a, b)
            } else if b > 12 || !self.config.day_first {
                (b, a)
            } else {
                (a, b)
            };
            push(year, month, day, all.start(), all.end());
        }
    }

    fn amounts(&self, text: &str, out: &mut Vec<(u8, Entity)>) {
        for re in [&self.amount_before, &self.amount_after] {
            for c in re.captures_iter(text) {
                let (Some(all), Some(cur), Some(num)) = (c.get(0), c.name("cur"), c.name("num")) else {
                    continue;
                };
                let Some(currency) = self.currency_code(cur.as_str()) else {
                    continue;
                };
                let Some(amount) = parse_amount(num.as_str()) else {
                    continue;
                };
                let start = all.start().min(cur.start()).min(num.start());
                let end = cur.end().max(num.end());
                out.push((
                    4,
                    Entity {
                        value: EntityValue::Amount { amount, currency },
                        start,
                        end,
                        text: text[start..end].to_owned(),
                    },
                ));
            }
        }
    }

    fn currency_code(&self, symbol: &str) -> Option<String> {
        let s = symbol.to_lowercase();
        let code = match s.as_str() {
            "$" => self.config.dollar_currency.as_str(),
            "us$" | "dollar" | "dollars" => "USD",
            "c$" | "ca$" => "CAD",
            "a$" | "au$" => "AUD",
            "hk$" => "HKD",
            "nz$" => "NZD",
            "s$" => "SGD",
            "r$" => "BRL",
            "mx$" => "MXN",
            "€" | "euro" | "euros" => "EUR",
            "£" => "GBP",
            "¥" | "￥" => self.config.yen_currency.as_str(),
            "元" | "yuan" | "rmb" => "CNY",
            "円" | "yen" => "JPY",
            "₹" => "INR",
            "₩" => "KRW",
            "₽" => "RUB",
            "₺" => "TRY",
            "₫" => "VND",
            "฿" => "THB",
            "zł" => "PLN",
            other if other.len() == 3 && other.is_ascii() => return Some(other.to_ascii_uppercase()),
            _ => return None,
        };
        Some(code.to_owned())
    }

    fn phones(&self, text: &str, out: &mut Vec<(u8, Entity)>) {
        for m in self.phone.find_iter(text) {
            let raw = m.as_str().trim_end_matches(['-', '.', ' ']);
            let digits = raw.chars().filter(char::is_ascii_digit).count();
            if !(7..=15).contains(&digits) {
                continue;
            }
            let candidate = raw.strip_prefix("00").map(|r| format!("+{r}")).unwrap_or_else(|| raw.to_owned());
            let Ok(number) = phonenumber::parse(Some(self.region), &candidate) else {
                continue;
            };
            if !phonenumber::is_valid(&number) {
                continue;
            }
            let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
            out.push((
                5,
                Entity {
                    value: EntityValue::Phone { e164 },
                    start: m.start(),
                    end: m.start() + raw.len(),
                    text: raw.to_owned(),
                },
            ));
        }
    }
}

/// UPU S10 check digit: weights 8 6 4 2 3 5 9 7, `11 - sum mod 11`, 10 → 0, 11 → 5.
fn s10_check_digit_ok(serial: &str, check: &str) -> bool {
    let weights = [8u32, 6, 4, 2, 3, 5, 9, 7];
    let digits: Vec<u32> = serial.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 8 {
        return false;
    }
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    let expected = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        n => n,
    };
    check.parse::<u32>().is_ok_and(|c| c == expected)
}

fn valid_date(year: i32, month: u32, day: u32) -> bool {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2200).contains(&year) && (1..=days).contains(&day)
}

/// `1.299,50` / `1,299.50` / `1 299` / `12,5` → `1299.50` / `1299.50` / `1299` / `12.5`.
fn parse_amount(raw: &str) -> Option<String> {
    let s: String = raw.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\'')).collect();
    let last_sep = s.rfind(['.', ',']);
    let (int_part, frac) = match last_sep {
        Some(i) if s.len() - i - 1 <= 2 => (&s[..i], Some(&s[i + 1..])),
        _ => (s.as_str(), None),
    };
    let int_digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    if int_digits.is_empty() {
        return None;
    }
    let int_digits = int_digits.trim_start_matches('0');
    let int_digits = if int_digits.is_empty() { "0" } else { int_digits };
    Some(match frac {
        Some(f) if !f.is_empty() => format!("{int_digits}.{f}"),
        _ => int_digits.to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn extract(text: &str) -> Vec<EntityValue> {
        EntityExtractor::new(&EntityConfig::default()).unwrap().extract(text).into_iter().map(|e| e.value).collect()
    }

    fn order(n: &str) -> EntityValue {
        EntityValue::OrderNumber { number: n.into() }
    }

    fn track(n: &str, carrier: Carrier) -> EntityValue {
        EntityValue::TrackingNumber { number: n.into(), carrier }
    }

    #[test]
    fn order_numbers() {
        let cases: &[(&str, Vec<EntityValue>)] = &[
            ("where is order #1001?", vec![order("1001")]),
            ("Where is my order 1001", vec![order("1001")]),
            ("order number: A-55821 please", vec![order("A-55821")]),
            ("Amazon order 123-1234567-1234567 has not arrived", vec![order("123-1234567-1234567")]),
            ("mi pedido nº 4455 no llegó", vec![order("4455")]),
            ("ma commande 78990 est en retard", vec![order("78990")]),
            ("Bestellung Nr. 123456 storniert", vec![order("123456")]),
            ("我的订单号：20240501 还没发货", vec![order("20240501")]),
            ("注文番号 #5678 をキャンセル", vec![order("5678")]),
            ("订单号是1005", vec![order("1005")]),
            ("我的订单号为 1005，还没到", vec![order("1005")]),
            ("注文番号は1005です", vec![order("1005")]),
            ("mi pedido es 1003", vec![order("1003")]),
            ("my order number is 1003", vec![order("1003")]),
            ("ma commande est 78990", vec![order("78990")]),
            ("my order is late", vec![]),
            ("my order is 1003", vec![order("1003")]),
            ("my order is late", vec![]),
            ("cancel purchase 732201349959", vec![order("732201349959")]),
        ];
        for (text, want) in cases {
            assert_eq!(&extract(text), want, "{text}");
        }
    }

    #[test]
    fn custom_order_pattern_and_bad_pattern() {
        let cfg = EntityConfig {
            order_patterns: vec![r"\b(SH-\d{5})\b".into()],
            default_order_patterns: false,
            ..EntityConfig::default()
        };
        let x = EntityExtractor::new(&cfg).unwrap();
        let got: Vec<_> = x.extract("ref SH-12345 and #999").into_iter().map(|e| e.value).collect();
        assert_eq!(got, vec![order("SH-12345")]);
        let bad = EntityConfig { order_patterns: vec!["(".into()], ..EntityConfig::default() };
        assert!(matches!(EntityExtractor::new(&bad), Err(NluError::Config(_))));
    }

    #[test]
    fn tracking_numbers() {
        let cases: &[(&str, EntityValue)] = &[
            ("UPS 1Z999AA10123456784 stuck", track("1Z999AA10123456784", Carrier::Ups)),
            ("tracking lx123456785cn?", track("LX123456785CN", Carrier::ChinaPost)),
            ("EMS EE123456785CN", track("EE123456785CN", Carrier::ChinaEms)),
            ("RR123456785US", track("RR123456785US", Carrier::Usps)),
            ("RR123456785DE", track("RR123456785DE", Carrier::Postal { country: "DE".into() })),
            ("YT2012345678901234 where", track("YT2012345678901234", Carrier::YunExpress)),
            ("4PX3001234567890CN", track("4PX3001234567890CN", Carrier::FourPx)),
            ("cainiao LP00123456789012", track("LP00123456789012", Carrier::Cainiao)),
            ("USPS 9400100000000000000000", track("9400100000000000000000", Carrier::Usps)),
            ("usps 9400 1000 0000 0000 0000 00", track("9400100000000000000000", Carrier::Usps)),
            ("FedEx tracking 123456789012", track("123456789012", Carrier::Fedex)),
            ("DHL 1234567890 delayed", track("1234567890", Carrier::Dhl)),
        ];
        for (text, want) in cases {
            assert_eq!(extract(text), vec![want.clone()], "{text}");
        }
        // Wrong S10 check digit: not a tracking number.
        assert!(extract("LX123456789CN").is_empty());
    }

    #[test]
    fn emails_phones_amounts_dates() {
        assert_eq!(
            extract("mail me at John.Doe+shop@Example.COM thanks"),
            vec![EntityValue::Email { address: "john.doe+shop@example.com".into() }]
        );
        assert_eq!(extract("call +44 20 7946 0958"), vec![EntityValue::Phone { e164: "+442079460958".into() }]);
        assert_eq!(extract("my number is (415) 555-2671"), vec![EntityValue::Phone { e164: "+14155552671".into() }]);
        let amount = |a: &str, c: &str| EntityValue::Amount { amount: a.into(), currency: c.into() };
        assert_eq!(extract("I paid $49.99"), vec![amount("49.99", "USD")]);
        assert_eq!(extract("refund 1.299,50 € please"), vec![amount("1299.50", "EUR")]);
        assert_eq!(extract("it cost 25 EUR"), vec![amount("25", "EUR")]);
        assert_eq!(extract("退款 200元"), vec![amount("200", "CNY")]);
        assert_eq!(extract("£1,250"), vec![amount("1250", "GBP")]);
        let date = |year, month, day| EntityValue::Date { year, month, day };
        assert_eq!(extract("ordered on 2024-05-01"), vec![date(2024, 5, 1)]);
        assert_eq!(extract("arrived 03/04/2025"), vec![date(2025, 4, 3)]);
        assert_eq!(extract("arrived 12/31/2025"), vec![date(2025, 12, 31)]);
        assert_eq!(extract("2024年5月1日に注文"), vec![date(2024, 5, 1)]);
        assert!(extract("on 2023-02-29").is_empty());
    }

    #[test]
    fn spans_point_into_the_original_text() {
        let x = EntityExtractor::new(&EntityConfig::default()).unwrap();
        let text = "Hi, order #1001 — tracking 1Z999AA10123456784, mail a@b.co";
        let ents = x.extract(text);
        assert_eq!(ents.len(), 3);
        for e in &ents {
            assert_eq!(&text[e.start..e.end], e.text);
        }
        assert_eq!(ents[0].text, "1001");
    }

    #[test]
    fn month_first_config() {
        let cfg = EntityConfig { day_first: false, ..EntityConfig::default() };
        let x = EntityExtractor::new(&cfg).unwrap();
        let v: Vec<_> = x.extract("03/04/2025").into_iter().map(|e| e.value).collect();
        assert_eq!(v, vec![EntityValue::Date { year: 2025, month: 3, day: 4 }]);
    }
}
