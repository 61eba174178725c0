//! `ferry insights questions`: the frequent questions of a period, as a
//! table or JSON, from the store the configuration names.

use crate::config::Config;
use anyhow::Context;
use chrono::{Duration, Utc};
use ferry_app::questions::QuestionCluster;
use ferry_core::AccountId;
use ferry_nlu::cluster::Coverage;
use std::sync::Arc;

/// Options of `ferry insights questions`.
#[derive(Debug, clap::Args)]
pub struct QuestionsArgs {
    /// The account.
    #[arg(long)]
    pub account: i64,
    /// How far back: `30d`, `12h`, `2w`.
    #[arg(long, default_value = "30d", value_parser = parse_period)]
    pub since: Duration,
    /// Clusters to print, largest first.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Prints JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `30d`, `12h`, `2w`, `90m` as a duration.
pub fn parse_period(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().map_err(|_| format!("`{s}` is not a period like 30d, 12h or 2w"))?;
    let d = match unit {
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" | "" => Duration::days(n),
        "w" => Duration::weeks(n),
        _ => return Err(format!("`{s}`: the unit must be m, h, d or w")),
    };
    if n <= 0 || d > Duration::days(3660) {
        return Err(format!("`{s}` must be more than nothing and at most ten years"));
    }
    Ok(d)
}

/// Runs the command.
pub async fn run(cfg: &Config, storage: Arc<dyn ferry_storage::Storage>, a: QuestionsArgs) -> anyhow::Result<()> {
    let node = crate::node(cfg, storage).await?;
    let until = Utc::now();
    let started = std::time::Instant::now();
    let clusters = node
        .app
        .discover_questions(AccountId(a.account), until - a.since, until)
        .await
        .context("finding the frequent questions")?;
    let elapsed = started.elapsed();
    let messages: usize = clusters.iter().map(|c| c.summary.size).sum();
    if a.json {
        let list: Vec<_> = clusters.iter().take(a.top).map(as_json).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!("{messages} answered buyer messages in {} clusters ({:.1} s)", clusters.len(), elapsed.as_secs_f64());
    for c in clusters.iter().take(a.top) {
        let s = &c.summary;
        let langs: Vec<String> = s.languages.iter().map(|l| format!("{} {}", l.value, l.count)).collect();
        println!(
            "\n{:>6}  {}  (this week {}, last week {}; {})",
            s.size,
            s.label,
            s.this_week,
            s.last_week,
            if langs.is_empty() { "language unknown".to_owned() } else { langs.join(", ") }
        );
        match &c.coverage {
            Coverage::Intent { label, .. } => println!("        answered by the bot's intent `{label}`"),
            Coverage::Faq { id, .. } => println!("        answered by the FAQ entry `{id}`"),
            Coverage::NotCovered => println!("        not answered by the bot"),
        }
        if let Some(r) = s.replies.first() {
            println!("        agents replied ({}×): {}", r.count, r.value);
        }
    }
    Ok(())
}

fn as_json(c: &QuestionCluster) -> serde_json::Value {
    serde_json::json!({ "cluster": c.summary, "coverage": c.coverage })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_people_write_them() {
        assert_eq!(parse_period("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_period("2w"), Ok(Duration::weeks(2)));
        assert_eq!(parse_period("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_period("7"), Ok(Duration::days(7)));
        assert!(parse_period("0d").is_err());
        assert!(parse_period("3y").is_err());
        assert!(parse_period("d").is_err());
    }
}
