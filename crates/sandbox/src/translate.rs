//! A local machine-translation service speaking two documented APIs:
//! LibreTranslate's (`POST /translate` with JSON `q`, `source` (or
//! `auto`), `target`, `format`, `api_key`; answers `translatedText` and,
//! for `auto`, `detectedLanguage`) and DeepL's (`POST /v2/translate` with
//! JSON `text` (a list), `target_lang`, optional `source_lang`, the key in
//! `Authorization: DeepL-Auth-Key …`; answers `translations` with
//! `detected_source_language` and `text`). Their errors too: 403 for a
//! wrong key, 400 for an unsupported language, 429 when told to refuse.
//!
//! Translations are deterministic: sentences of a small phrase book come
//! out as their counterpart in the target language; anything else comes
//! back as `[xx] text` (`xx` the target), so a test can tell what was
//! translated. The source language, when asked to detect it, is the phrase
//! book's, else guessed from the script (Han → `zh`, Arabic → `ar`,
//! Cyrillic → `ru`, Latin → `en`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};

/// The API key the stand-in accepts.
pub const API_KEY: &str = "translate-key-for-tests";

/// Languages the stand-in translates between.
pub const LANGUAGES: [&str; 8] = ["en", "es", "zh", "de", "fr", "ar", "ja", "pt"];

/// Sentences that mean the same, by language (en, es, zh, de).
const PHRASES: [[&str; 4]; 9] = [
    [
        "When will my order arrive? I bought it ten days ago.",
        "¿Cuándo llegará mi pedido? Lo compré hace diez días.",
        "我的订单什么时候到？我十天前买的。",
        "Wann kommt meine Bestellung an? Ich habe sie vor zehn Tagen gekauft.",
    ],
    ["Where is my order?", "¿Dónde está mi pedido?", "我的订单在哪里？", "Wo ist meine Bestellung?"],
    [
        "Your order has been shipped.",
        "Su pedido ya ha sido enviado.",
        "您的订单已经发货了。",
        "Ihre Bestellung wurde versandt.",
    ],
    ["Thank you!", "¡Gracias!", "谢谢！", "Danke!"],
    ["Can I change the colour?", "¿Puedo cambiar el color?", "我可以换颜色吗？", "Kann ich die Farbe ändern?"],
    [
        "Yes, we can change it before it ships.",
        "Sí, podemos cambiarlo antes del envío.",
        "可以，发货前我们可以更换。",
        "Ja, wir können sie vor dem Versand ändern.",
    ],
    ["It arrives in three days.", "Llega en tres días.", "三天后到货。", "Sie kommt in drei Tagen an."],
    ["Hello", "Hola", "你好", "Hallo"],
    ["The parcel is late.", "El paquete llega tarde.", "包裹延误了。", "Das Paket ist verspätet."],
];
const PHRASE_LANGS: [&str; 4] = ["en", "es", "zh", "de"];

fn guess(text: &str) -> &'static str {
    for c in text.chars() {
        match c as u32 {
            0x4E00..=0x9FFF | 0x3400..=0x4DBF => return "zh",
            0x3040..=0x30FF => return "ja",
            0x0600..=0x06FF => return "ar",
            0x0400..=0x04FF => return "ru",
            _ => {}
        }
    }
    "en"
}

/// The translation of `text` into `target`, and the language it was in.
pub fn translate(text: &str, source: Option<&str>, target: &str) -> (String, String) {
    let trimmed = text.trim();
    for row in PHRASES {
        if let Some(i) = row.iter().position(|p| *p == trimmed) {
            let from = PHRASE_LANGS[i];
            if source.is_some_and(|s| s != from) {
                break;
            }
            let out = match PHRASE_LANGS.iter().position(|l| *l == target) {
                Some(j) => row[j].to_owned(),
                None => format!("[{target}] {trimmed}"),
            };
            return (out, from.to_owned());
        }
    }
    let from = source.map_or_else(|| guess(trimmed).to_owned(), str::to_owned);
    if from == target {
        return (text.to_owned(), from);
    }
    (format!("[{target}] {text}"), from)
}

#[derive(Default)]
struct Shared {
    calls: AtomicUsize,
    /// Answer every request with this status (0: answer normally).
    fail: AtomicU16,
    /// Never answer (a hung provider).
    stall: AtomicBool,
}

/// A running stand-in; stops when dropped.
pub struct TranslateSink {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TranslateSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a request meets before it is translated: a stall, a forced
/// failure, a wrong key, an unknown language.
async fn gate(s: &Shared, key_ok: bool, langs: &[&str]) -> Option<(StatusCode, Json<Value>)> {
    s.calls.fetch_add(1, Ordering::SeqCst);
    if s.stall.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let fail = s.fail.load(Ordering::SeqCst);
    if fail != 0 {
        let status = StatusCode::from_u16(fail).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = if fail == 429 { "Too many requests" } else { "Translation service unavailable" };
        return Some((status, Json(json!({ "error": message, "message": message }))));
    }
    if !key_ok {
        return Some((StatusCode::FORBIDDEN, Json(json!({ "error": "Invalid API key", "message": "Wrong auth key" }))));
    }
    for l in langs {
        if *l != "auto" && !LANGUAGES.contains(&l.to_lowercase().as_str()) {
            let m = format!("{l} is not supported");
            return Some((StatusCode::BAD_REQUEST, Json(json!({ "error": m, "message": m }))));
        }
    }
    None
}

async fn libre(State(s): State<Arc<Shared>>, Json(req): Json<Value>) -> (StatusCode, Json<Value>) {
    let source = req["source"].as_str().unwrap_or("auto");
    let target = req["target"].as_str().unwrap_or("");
    if let Some(refused) = gate(&s, req["api_key"].as_str() == Some(API_KEY), &[source, target]).await {
        return refused;
    }
    let Some(q) = req["q"].as_str() else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "Invalid request: missing q parameter" })));
    };
    let (out, from) = translate(q, (source != "auto").then_some(source), target);
    let mut body = json!({ "translatedText": out });
    if source == "auto" {
        body["detectedLanguage"] = json!({ "confidence": 90.0, "language": from });
    }
    (StatusCode::OK, Json(body))
}

async fn deepl(State(s): State<Arc<Shared>>, headers: HeaderMap, Json(req): Json<Value>) -> (StatusCode, Json<Value>) {
    let key = headers.get("authorization").and_then(|v| v.to_str().ok());
    let source = req["source_lang"].as_str().unwrap_or("auto").to_lowercase();
    let target = req["target_lang"].as_str().unwrap_or("").to_lowercase();
    // DeepL names regional targets (`EN-GB`, `PT-BR`); the language is what counts here.
    let target = target.split('-').next().unwrap_or("").to_owned();
    let key_ok = key == Some(format!("DeepL-Auth-Key {API_KEY}").as_str());
    if let Some(refused) = gate(&s, key_ok, &[&source, &target]).await {
        return refused;
    }
    let Some(texts) = req["text"].as_array() else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": "Parameter 'text' not specified." })));
    };
    let translations: Vec<Value> = texts
        .iter()
        .map(|t| {
            let (out, from) = translate(t.as_str().unwrap_or(""), (source != "auto").then_some(&*source), &target);
            json!({ "detected_source_language": from.to_uppercase(), "text": out })
        })
        .collect();
    (StatusCode::OK, Json(json!({ "translations": translations })))
}

impl TranslateSink {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let shared: Arc<Shared> = Arc::default();
        let app = axum::Router::new()
            .route("/translate", axum::routing::post(libre))
            .route("/v2/translate", axum::routing::post(deepl))
            .with_state(shared.clone())
            .layer(axum::middleware::map_response(crate::tag));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the translation stand-in stopped");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// The base URL to configure as the provider.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Answers every request with `status` from now on (`None`: normally).
    pub fn fail_with(&self, status: Option<u16>) {
        self.shared.fail.store(status.unwrap_or(0), Ordering::SeqCst);
    }

    /// Stops answering (requests hang) or answers again.
    pub fn stall(&self, on: bool) {
        self.shared.stall.store(on, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phrase_book_and_the_marked_fallback() {
        assert_eq!(translate("¿Dónde está mi pedido?", None, "zh"), ("我的订单在哪里？".into(), "es".into()));
        assert_eq!(
            translate("您的订单已经发货了。", Some("zh"), "es"),
            ("Su pedido ya ha sido enviado.".into(), "zh".into())
        );
        assert_eq!(translate("Bonjour", None, "de"), ("[de] Bonjour".into(), "en".into()));
        assert_eq!(translate("你们几点开门", None, "en"), ("[en] 你们几点开门".into(), "zh".into()));
        assert_eq!(translate("same", Some("en"), "en"), ("same".into(), "en".into()));
    }
}
