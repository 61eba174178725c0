//! Satisfaction surveys over HTTP: the answer page a survey link opens (a
//! plain form, no script), the chat widget's inline answer, and a
//! conversation's survey for the console.

use crate::extract::{AppJson, AppPath, Auth};
use crate::routes::widget::escape;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::csat::SurveyTexts;
use ferry_core::csat::{CsatScale, Survey};
use ferry_core::{AccountId, ConversationId, InboxId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A satisfaction survey and its answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyView {
    /// The conversation it asks about.
    pub conversation_id: i64,
    /// The agent of the conversation when it was resolved.
    pub agent_id: Option<i64>,
    /// The language it was asked in.
    pub language: String,
    /// `stars` (1–5) or `thumbs` (1 or 5).
    pub scale: CsatScale,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// The answer, once given.
    pub rating: Option<u8>,
    /// The buyer's comment.
    pub comment: Option<String>,
    /// When it was answered.
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<Survey> for SurveyView {
    fn from(s: Survey) -> Self {
        Self {
            conversation_id: s.conversation_id.0,
            agent_id: s.agent_id.map(|u| u.0),
            language: s.language,
            scale: s.scale,
            sent_at: s.sent_at,
            rating: s.rating,
            comment: s.comment,
            answered_at: s.answered_at,
        }
    }
}

/// A buyer's answer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SurveyAnswer {
    /// Stars 1–5; thumbs: 1 (down) or 5 (up).
    pub rating: u8,
    /// An optional comment (up to 2,000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// A conversation's satisfaction survey (`null` when none was sent).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/csat", tag = "csat",
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)),
    responses((status = 200, body = Option<SurveyView>), (status = 404, body = ErrorBody)))]
pub async fn conversation_survey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Option<SurveyView>>, ApiError> {
    let survey = s.app.conversation_survey(&a, AccountId(account), ConversationId(id)).await?;
    Ok(Json(survey.map(Into::into)))
}

/// The chat widget's inline answer to a survey of its inbox.
#[utoipa::path(post, path = "/widget/{inbox_id}/csat/{token}", tag = "widget",
    params(("inbox_id" = i64, Path), ("token" = String, Path)),
    request_body = SurveyAnswer,
    responses((status = 200, body = SurveyView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn widget_answer(
    State(s): State<ApiState>,
    AppPath((inbox, token)): AppPath<(i64, String)>,
    AppJson(req): AppJson<SurveyAnswer>,
) -> Result<Json<SurveyView>, ApiError> {
    let answered = s.app.answer_survey(&token, Some(InboxId(inbox)), req.rating, req.comment.as_deref()).await?;
    Ok(Json(answered.into()))
}

/// The answer form behind a survey link (an HTML page).
#[utoipa::path(get, path = "/csat/{token}", tag = "csat", security(()),
    params(("token" = String, Path, description = "The token in the survey link")),
    responses(
        (status = 200, description = "The survey's page", body = String, content_type = "text/html"),
        (status = 404, description = "The link is not valid (any more)", body = String, content_type = "text/html"),
    ))]
async fn answer_page(State(s): State<ApiState>, AppPath(token): AppPath<String>) -> Response {
    match s.app.survey_for_token(&token).await {
        Ok((survey, texts)) => Html(page(&survey, texts, None, survey.rating.is_some())).into_response(),
        Err(e) => missing(e),
    }
}

/// The form's answer, posted without script.
#[derive(Debug, Default, Deserialize, ToSchema)]
struct FormAnswer {
    rating: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// The survey page's form, posted without script; answers with the page.
#[utoipa::path(post, path = "/csat/{token}", tag = "csat", security(()),
    params(("token" = String, Path, description = "The token in the survey link")),
    request_body(content = FormAnswer, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Thanked, with the answer", body = String, content_type = "text/html"),
        (status = 404, description = "The link is not valid (any more)", body = String, content_type = "text/html"),
        (status = 409, description = "The survey can no longer be answered", body = ErrorBody),
        (status = 422, description = "The page again, saying what to fix", body = String, content_type = "text/html"),
    ))]
async fn answer_form(
    State(s): State<ApiState>,
    AppPath(token): AppPath<String>,
    form: Result<Form<FormAnswer>, axum::extract::rejection::FormRejection>,
) -> Response {
    // A body that is not a form is an answer without a rating: the page
    // comes back saying what is missing.
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let (survey, texts) = match s.app.survey_for_token(&token).await {
        Ok(found) => found,
        Err(e) => return missing(e),
    };
    let rating = f.rating.as_deref().and_then(|r| r.trim().parse::<u8>().ok()).unwrap_or(0);
    match s.app.answer_survey(&token, None, rating, f.comment.as_deref()).await {
        Ok(answered) => Html(page(&answered, texts, None, true)).into_response(),
        Err(AppError::Invalid { message, .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Html(page(&survey, texts, Some(&message), false))).into_response()
        }
        Err(e) => ApiError(e).into_response(),
    }
}

fn missing(e: AppError) -> Response {
    match e {
        AppError::NotFound(_) => (
            StatusCode::NOT_FOUND,
            Html(shell("en", "Survey", "<p>This survey link is not valid (any more).</p>".to_owned())),
        )
            .into_response(),
        other => ApiError(other).into_response(),
    }
}

pub(crate) fn shell(lang: &str, title: &str, body: String) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1f2937}}\
         .scale{{display:flex;gap:.25rem;flex-direction:row-reverse;justify-content:flex-end;margin:1rem 0}}\
         .scale input{{position:absolute;opacity:0}}.scale label{{font-size:2rem;cursor:pointer;color:#d1d5db}}\
         .scale input:checked~label,.scale label:hover,.scale label:hover~label{{color:#f59e0b}}\
         .thumbs{{flex-direction:row}}.thumbs label{{filter:grayscale(1)}}.thumbs input:checked+label{{filter:none}}\
         textarea{{width:100%;min-height:5rem;font:inherit}}button{{font:inherit;padding:.4rem 1.2rem}}\
         .error{{color:#b91c1c}}.thanks{{color:#047857}}</style></head><body>{body}</body></html>",
        title = escape(title)
    )
}

fn page(survey: &Survey, texts: SurveyTexts, error: Option<&str>, answered: bool) -> String {
    let mut body = format!("<h1>{}</h1>", escape(texts.question));
    if answered {
        body.push_str(&format!("<p class=\"thanks\">{}</p>", escape(texts.thanks)));
    }
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)));
    }
    body.push_str("<form method=\"post\">");
    let checked = |n: u8| if survey.rating == Some(n) { " checked" } else { "" };
    match survey.scale {
        CsatScale::Stars => {
            // Reversed in the markup so "this star and those before it"
            // light up with a sibling selector.
            body.push_str("<div class=\"scale\">");
            for n in (1..=5u8).rev() {
                body.push_str(&format!(
                    "<input type=\"radio\" name=\"rating\" id=\"r{n}\" value=\"{n}\"{c}>\
                     <label for=\"r{n}\" title=\"{n}/5\" aria-label=\"{n}/5\">★</label>",
                    c = checked(n)
                ));
            }
            body.push_str("</div>");
        }
        CsatScale::Thumbs => {
            body.push_str("<div class=\"scale thumbs\">");
            for (n, face) in [(5u8, "👍"), (1u8, "👎")] {
                body.push_str(&format!(
                    "<input type=\"radio\" name=\"rating\" id=\"r{n}\" value=\"{n}\"{c}>\
                     <label for=\"r{n}\">{face}</label>",
                    c = checked(n)
                ));
            }
            body.push_str("</div>");
        }
    }
    body.push_str(&format!(
        "<p><label>{label}<br><textarea name=\"comment\" maxlength=\"2000\">{comment}</textarea></label></p>\
         <button type=\"submit\">{send}</button></form>",
        label = escape(texts.comment),
        comment = escape(survey.comment.as_deref().unwrap_or("")),
        send = escape(texts.send),
    ));
    shell(texts.language, texts.question, body)
}

/// Documents the survey routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(conversation_survey, widget_answer, answer_page, answer_form),
    components(schemas(SurveyView, SurveyAnswer))
)]
pub struct CsatDoc;

/// The survey routes but the widget's (see [`crate::routes::widget`]).
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{account_id}/conversations/{conversation_id}/csat", get(conversation_survey))
        .route("/csat/{token}", get(answer_page).post(answer_form))
}
