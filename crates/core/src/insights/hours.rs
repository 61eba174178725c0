//! Business hours: a weekly schedule in a time zone, with holidays, and
//! the seconds of it that fall between two instants. Response and
//! resolution times "in business hours" count only these seconds, so a
//! question asked on Friday evening and answered on Monday at opening
//! time took no business time at all.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Days a span is walked at most (ten years); longer spans count only
/// their first ten years of business time.
const MAX_DAYS: i64 = 3660;

/// One opening interval of a weekday, local times `HH:MM` (`close` after
/// `open`; `24:00` closes at midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpeningInterval {
    /// Day of the week: `mon` … `sun`.
    pub day: String,
    /// Opening time, `HH:MM`.
    pub open: String,
    /// Closing time, `HH:MM` (or `24:00`).
    pub close: String,
}

/// An inbox's business hours as configured (`config.business_hours`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BusinessHoursConfig {
    /// IANA time zone of the schedule, such as `Europe/Berlin`.
    pub timezone: String,
    /// Opening intervals; a day without any is closed.
    #[serde(default)]
    pub weekly: Vec<OpeningInterval>,
    /// Local dates (`YYYY-MM-DD`) closed all day.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// A schedule that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid business hours: {0}")]
pub struct InvalidHours(pub String);

/// Parsed business hours, ready to measure with.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    tz: Tz,
    /// Intervals per weekday (Monday first), as seconds from local midnight.
    days: [Vec<(u32, u32)>; 7],
    holidays: Vec<NaiveDate>,
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn seconds_of(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 3600 + m * 60)
}

/// Parses an IANA time zone name.
pub fn parse_timezone(name: &str) -> Result<Tz, InvalidHours> {
    name.trim().parse::<Tz>().map_err(|_| InvalidHours(format!("unknown time zone `{name}`")))
}

impl TryFrom<&BusinessHoursConfig> for BusinessHours {
    type Error = InvalidHours;
    fn try_from(c: &BusinessHoursConfig) -> Result<Self, InvalidHours> {
        let tz = parse_timezone(&c.timezone)?;
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for i in &c.weekly {
            let day = weekday(&i.day).ok_or_else(|| InvalidHours(format!("unknown day `{}`", i.day)))?;
            let bad = || InvalidHours(format!("bad interval {}–{} on {}", i.open, i.close, i.day));
            let (open, close) = (seconds_of(&i.open).ok_or_else(bad)?, seconds_of(&i.close).ok_or_else(bad)?);
            if close <= open {
                return Err(bad());
            }
            days[day.num_days_from_monday() as usize].push((open, close));
        }
        for d in &mut days {
            d.sort_unstable();
            // Overlapping intervals are merged so no second counts twice.
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(d.len());
            for &(o, c) in d.iter() {
                match merged.last_mut() {
                    Some(last) if o <= last.1 => last.1 = last.1.max(c),
                    _ => merged.push((o, c)),
                }
            }
            *d = merged;
        }
        let mut holidays = c.holidays.clone();
        holidays.sort_unstable();
        holidays.dedup();
        Ok(Self { tz, days, holidays })
    }
}

/// The instant of a local wall-clock time; in a DST gap, the moment the
/// clocks jump (the first valid instant after it); in an overlap, the
/// earlier one.
fn instant(tz: Tz, date: NaiveDate, secs: u32) -> DateTime<Utc> {
    let midnight = NaiveDateTime::new(date, NaiveTime::MIN);
    let local = midnight + Duration::seconds(i64::from(secs));
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps are at most a few hours; walk forward by minutes.
            let mut probe = local;
            for _ in 0..(6 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

impl BusinessHours {
    /// Parses the schedule.
    pub fn new(config: &BusinessHoursConfig) -> Result<Self, InvalidHours> {
        Self::try_from(config)
    }

    /// The schedule's time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The opening intervals of a local date, as instants.
    fn intervals(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let closed = self.holidays.binary_search(&date).is_ok();
        let list: &[(u32, u32)] = if closed { &[] } else { &self.days[date.weekday().num_days_from_monday() as usize] };
        list.iter().map(move |&(o, c)| (instant(self.tz, date, o), instant(self.tz, date, c)))
    }

    /// Seconds of business time in `[from, to)`; zero when `to <= from`.
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let first = from.with_timezone(&self.tz).date_naive();
        let last = to.with_timezone(&self.tz).date_naive();
        let mut total = 0;
        let mut day = first;
        let mut n = 0;
        while day <= last && n < MAX_DAYS {
            for (o, c) in self.intervals(day) {
                let (s, e) = (o.max(from), c.min(to));
                if e > s {
                    total += (e - s).num_seconds();
                }
            }
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
            n += 1;
        }
        total
    }

    /// Whether `at` falls within business hours.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let date = at.with_timezone(&self.tz).date_naive();
        // An interval of the previous day cannot reach past its midnight,
        // so only the day itself matters.
        self.intervals(date).any(|(o, c)| o <= at && at < c)
    }

    /// Whether a buyer's message at `at` gets an out-of-office reply: it
    /// came while closed, and no such reply went out in the same closed
    /// period (`last`: the conversation's latest one).
    pub fn out_of_office_due(&self, at: DateTime<Utc>, last: Option<DateTime<Utc>>) -> bool {
        !self.is_open(at) && last.is_none_or(|l| l > at || self.business_seconds(l, at) > 0)
    }

    /// When business hours next begin at or after `at` (`at` itself when
    /// open); `None` when the schedule has no opening in the next year.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(at) {
            return Some(at);
        }
        let mut day = at.with_timezone(&self.tz).date_naive();
        for _ in 0..370 {
            if let Some((o, _)) = self.intervals(day).find(|(o, _)| *o >= at) {
                return Some(o);
            }
            day = day.succ_opt()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn weekdays(tz: &str, open: &str, close: &str) -> BusinessHours {
        let weekly = ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| OpeningInterval { day: (*d).into(), open: open.into(), close: close.into() })
            .collect();
        BusinessHours::new(&BusinessHoursConfig { timezone: tz.into(), weekly, holidays: vec![] }).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_weekend_counts_nothing() {
        let h = weekdays("Europe/Berlin", "09:00", "17:00");
        // Friday 16:00 Berlin (15:00 UTC) to Monday 10:00 Berlin: 1 h + 1 h.
        assert_eq!(h.business_seconds(at("2026-03-06T15:00:00Z"), at("2026-03-09T09:00:00Z")), 7200);
        // Saturday to Sunday: nothing.
        assert_eq!(h.business_seconds(at("2026-03-07T08:00:00Z"), at("2026-03-08T20:00:00Z")), 0);
        // Reversed or empty spans count nothing.
        assert_eq!(h.business_seconds(at("2026-03-09T09:00:00Z"), at("2026-03-06T15:00:00Z")), 0);
    }

    #[test]
    fn holidays_are_closed() {
        let mut c = BusinessHoursConfig { timezone: "UTC".into(), ..Default::default() };
        c.weekly = vec![OpeningInterval { day: "Wednesday".into(), open: "08:00".into(), close: "12:00".into() }];
        c.holidays = vec![NaiveDate::from_ymd_opt(2026, 12, 23).unwrap()];
        let h = BusinessHours::new(&c).unwrap();
        // Two Wednesdays, the first a holiday.
        assert_eq!(h.business_seconds(at("2026-12-22T00:00:00Z"), at("2026-12-31T00:00:00Z")), 4 * 3600);
        assert!(!h.is_open(at("2026-12-23T09:00:00Z")));
        assert!(h.is_open(at("2026-12-30T09:00:00Z")));
        assert_eq!(h.next_opening(at("2026-12-23T09:00:00Z")), Some(at("2026-12-30T08:00:00Z")));
    }

    #[test]
    fn daylight_saving_days_count_their_real_length() {
        // Opening across the spring-forward night: 00:00–24:00 on Sunday
        // 29 March 2026 in Berlin is 23 hours long.
        let mut c = BusinessHoursConfig { timezone: "Europe/Berlin".into(), ..Default::default() };
        c.weekly = vec![OpeningInterval { day: "sun".into(), open: "00:00".into(), close: "24:00".into() }];
        let h = BusinessHours::new(&c).unwrap();
        assert_eq!(h.business_seconds(at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z")), 23 * 3600);
        // And the autumn one 25.
        assert_eq!(h.business_seconds(at("2026-10-24T00:00:00Z"), at("2026-10-26T00:00:00Z")), 25 * 3600);
        // A 09:00–17:00 day keeps its 8 hours across the change, shifted in UTC.
        let w = weekdays("Europe/Berlin", "09:00", "17:00");
        assert_eq!(w.business_seconds(at("2026-03-27T07:00:00Z"), at("2026-03-27T09:00:00Z")), 3600);
        assert_eq!(w.business_seconds(at("2026-03-30T07:00:00Z"), at("2026-03-30T09:00:00Z")), 7200);
    }

    #[test]
    fn one_out_of_office_reply_per_closed_period() {
        let h = weekdays("Europe/Berlin", "09:00", "17:00");
        let friday_night = at("2026-03-06T19:00:00Z");
        assert!(h.out_of_office_due(friday_night, None));
        // Saturday is the same closed period.
        assert!(!h.out_of_office_due(at("2026-03-07T10:00:00Z"), Some(friday_night)));
        // Open on Monday: no reply.
        assert!(!h.out_of_office_due(at("2026-03-09T10:00:00Z"), Some(friday_night)));
        // Monday evening is a new closed period.
        assert!(h.out_of_office_due(at("2026-03-09T18:00:00Z"), Some(friday_night)));
    }

    #[test]
    fn bad_schedules_are_refused() {
        let bad = |tz: &str, d: &str, o: &str, c: &str| {
            let weekly = vec![OpeningInterval { day: d.into(), open: o.into(), close: c.into() }];
            BusinessHours::new(&BusinessHoursConfig { timezone: tz.into(), weekly, holidays: vec![] }).is_err()
        };
        assert!(bad("Mars/Olympus", "mon", "09:00", "17:00"));
        assert!(bad("UTC", "funday", "09:00", "17:00"));
        assert!(bad("UTC", "mon", "17:00", "09:00"));
        assert!(bad("UTC", "mon", "09:60", "17:00"));
        assert!(!bad("UTC", "mon", "00:00", "24:00"));
    }

    proptest! {
        /// Business time is additive over a split point and never exceeds
        /// the wall time.
        #[test]
        fn additive_and_bounded(a in 0i64..2_000_000, b in 0i64..2_000_000, c in 0i64..2_000_000) {
            let h = weekdays("America/New_York", "08:30", "18:00");
            let base = at("2026-03-01T00:00:00Z");
            let mut v = [a, b, c];
            v.sort_unstable();
            let (x, y, z) = (base + Duration::seconds(v[0]), base + Duration::seconds(v[1]), base + Duration::seconds(v[2]));
            prop_assert_eq!(h.business_seconds(x, z), h.business_seconds(x, y) + h.business_seconds(y, z));
            prop_assert!(h.business_seconds(x, z) <= (z - x).num_seconds());
        }
    }
}
