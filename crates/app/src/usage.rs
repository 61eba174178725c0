//! Usage metering: per account and calendar month (UTC), the contacts who
//! wrote (monthly active contacts), conversations opened, buyers' messages
//! and replies per channel, and conversations the bot resolved alone.
//! Counted exactly from the stored messages, conversations and facts over
//! indexed month ranges, so no separate counter can drift.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use ferry_core::AccountId;
use ferry_storage::Usage;

/// Most months one request may cover.
pub const MAX_MONTHS: u32 = 24;

/// One month's usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthUsage {
    /// `YYYY-MM`.
    pub month: String,
    /// The figures.
    pub usage: Usage,
}

/// A month as (year, month).
fn parse_month(field: &'static str, s: &str) -> AppResult<(i32, u32)> {
    let bad = || AppError::invalid(field, format!("`{s}` is not a month; write it as YYYY-MM"));
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m) = (y.parse::<i32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
    if !(2000..=9998).contains(&y) || !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok((y, m))
}

fn next((y, m): (i32, u32)) -> (i32, u32) {
    if m == 12 { (y + 1, 1) } else { (y, m + 1) }
}

fn start((y, m): (i32, u32)) -> AppResult<DateTime<Utc>> {
    let d = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(|| AppError::invalid("month", "no such month"))?;
    let t = d.and_hms_opt(0, 0, 0).ok_or_else(|| AppError::invalid("month", "no such month"))?;
    Ok(Utc.from_utc_datetime(&t))
}

/// The months from `from` to `to` (both `YYYY-MM`, inclusive).
pub fn months(from: &str, to: Option<&str>) -> AppResult<Vec<(i32, u32)>> {
    let first = parse_month("month", from)?;
    let last = match to {
        Some(t) => parse_month("to", t)?,
        None => first,
    };
    if last < first {
        return Err(AppError::invalid("to", "`to` must not be before `month`"));
    }
    let mut out = vec![first];
    let mut m = first;
    while m < last {
        m = next(m);
        out.push(m);
        if out.len() > MAX_MONTHS as usize {
            return Err(AppError::invalid("to", format!("at most {MAX_MONTHS} months at once")));
        }
    }
    Ok(out)
}

impl App {
    /// The account's usage in each month from `from` to `to` (owners and
    /// admins).
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn usage(
        &self,
        actor: &Actor,
        account: AccountId,
        from: &str,
        to: Option<&str>,
    ) -> AppResult<Vec<MonthUsage>> {
        actor.in_account(account)?;
        if !actor.user.role.can_manage_agents() {
            return Err(AppError::Forbidden("only owners and admins can see the account's usage"));
        }
        let months = months(from, to)?;
        // Bot resolutions come from the conversations' facts.
        self.refresh_pending_facts().await?;
        let mut out = Vec::with_capacity(months.len());
        for m in months {
            let usage = self.storage.usage(account, start(m)?, start(next(m))?).await?;
            let first = start(m)?;
            out.push(MonthUsage { month: format!("{:04}-{:02}", first.year(), first.month()), usage });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ranges_are_parsed_and_bounded() {
        assert_eq!(
            months("2026-11", Some("2027-02")).unwrap_or_default(),
            vec![(2026, 11), (2026, 12), (2027, 1), (2027, 2)]
        );
        assert_eq!(months("2026-03", None).unwrap_or_default(), vec![(2026, 3)]);
        assert!(months("2026-3", None).is_err());
        assert!(months("2026-13", None).is_err());
        assert!(months("2026-05", Some("2026-04")).is_err());
        assert!(months("2020-01", Some("2026-01")).is_err(), "too many months");
        assert_eq!(start((2026, 12)).ok(), Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single());
    }
}
