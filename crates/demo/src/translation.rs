//! The demo's translation provider: the sandbox's LibreTranslate-compatible
//! stand-in, started with each run and set as the account's provider, so
//! agents read the demo buyers' messages in their language and answer in
//! the buyer's without an account anywhere.

use anyhow::Context;
use ferry_app::App;
use ferry_app::auth::Actor;
use ferry_app::translation::TranslationInput;
use ferry_core::AccountId;
use ferry_sandbox::translate::{API_KEY, TranslateSink};

/// Starts the stand-in and points the account at it.
pub async fn use_sandbox(app: &App, owner: &Actor, account: AccountId) -> anyhow::Result<TranslateSink> {
    let sink = TranslateSink::start().await.context("starting the local translation service")?;
    let input = TranslationInput {
        provider: "libretranslate".into(),
        base_url: sink.base_url(),
        api_key: Some(API_KEY.into()),
        timeout_ms: None,
    };
    app.set_translation_settings(owner, account, input).await.context("setting the translation provider")?;
    Ok(sink)
}
