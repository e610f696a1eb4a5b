//! Daily cost series as the cost analyses take them (issue 7 §3): one amount
//! per UTC day, with the calendar arithmetic they need and one cleaning step
//! shared by the forecast and the anomaly detector.
//!
//! Days are counted from 1970-01-01 (UTC), so that consecutive days are
//! consecutive integers and the weekday is arithmetic.
//!
//! Cleaning (what bad input becomes):
//! - a day given twice: the last one given wins, with a note (adding them
//!   would double count a re-fetched day);
//! - NaN or ±∞: a missing day;
//! - a negative day (a credit or refund): kept as an actual (month-to-date
//!   totals stay honest), but the models see it as missing, so one credit
//!   does not teach them a weekly dip;
//! - missing days inside the range: filled for the models with the same
//!   weekday a week earlier (or the previous day when there is none), and
//!   reported.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One day's cost in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyCost {
    /// Days since 1970-01-01, UTC.
    pub day: i64,
    pub amount: f64,
}

/// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> u8 {
    (day + 3).rem_euclid(7) as u8
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn day_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day number.
pub fn civil_from_day(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The first and last day of the month holding `day`.
pub fn month_bounds(day: i64) -> (i64, i64) {
    let (y, m, _) = civil_from_day(day);
    let first = day_from_civil(y, m, 1);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (first, day_from_civil(ny, nm, 1) - 1)
}

/// `YYYY-MM-DD`.
pub fn iso_date(day: i64) -> String {
    let (y, m, d) = civil_from_day(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A series over consecutive days, ready for the models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanSeries {
    pub first_day: i64,
    /// What the models fit: every day present, credits and gaps filled.
    pub model: Vec<f64>,
    /// The finite amounts as given (credits included), `None` for a gap.
    pub actual: Vec<Option<f64>>,
    /// What was adjusted, in words.
    pub notes: Vec<String>,
}

impl CleanSeries {
    pub fn last_day(&self) -> i64 {
        self.first_day + self.model.len() as i64 - 1
    }

    pub fn len(&self) -> usize {
        self.model.len()
    }

    pub fn is_empty(&self) -> bool {
        self.model.is_empty()
    }
}

/// The longest span of days a series may cover (about 27 years), so that a
/// stray date cannot make us allocate for millions of days.
pub const MAX_SPAN_DAYS: i64 = 10_000;

/// Orders, deduplicates and fills `history` (module docs). `None` when no
/// day has a usable amount.
pub fn clean(history: &[DailyCost]) -> Option<CleanSeries> {
    let mut notes = Vec::new();
    let mut by_day: BTreeMap<i64, f64> = BTreeMap::new();
    let (mut dupes, mut non_finite, mut credits) = (0, 0, 0);
    for d in history {
        if !d.amount.is_finite() {
            non_finite += 1;
            continue;
        }
        if by_day.insert(d.day, d.amount).is_some() {
            dupes += 1;
        }
    }
    let (&first, &last) = (by_day.keys().next()?, by_day.keys().next_back()?);
    let first = if last - first >= MAX_SPAN_DAYS {
        notes.push(format!(
            "history spans more than {MAX_SPAN_DAYS} days: only the last {MAX_SPAN_DAYS} are used"
        ));
        last - MAX_SPAN_DAYS + 1
    } else {
        first
    };
    let n = (last - first + 1) as usize;
    let mut actual = vec![None; n];
    for (&day, &amount) in by_day.range(first..) {
        actual[(day - first) as usize] = Some(amount);
    }
    let mut model = Vec::with_capacity(n);
    let mut gaps = 0;
    for (i, a) in actual.iter().enumerate() {
        let v = match a {
            Some(v) if *v >= 0.0 => *v,
            other => {
                if other.is_some() {
                    credits += 1;
                } else {
                    gaps += 1;
                }
                let week_ago: Option<f64> = i.checked_sub(7).map(|j| model[j]);
                let prev: Option<f64> = i.checked_sub(1).map(|j| model[j]);
                // A leading gap or credit takes the first usable day after it.
                let next = || actual[i..].iter().flatten().copied().find(|v| *v >= 0.0);
                week_ago.or(prev).or_else(next).unwrap_or(0.0)
            }
        };
        model.push(v);
    }
    if dupes > 0 {
        notes.push(format!(
            "{dupes} day(s) given more than once: the last value given is used"
        ));
    }
    if non_finite > 0 {
        notes.push(format!(
            "{non_finite} amount(s) not a number: treated as missing days"
        ));
    }
    if gaps > 0 {
        notes.push(format!(
            "{gaps} missing day(s): filled from the same weekday a week earlier for the model"
        ));
    }
    if credits > 0 {
        notes.push(format!(
            "{credits} negative day(s) (credits or refunds): counted in the actual totals, \
             left out of the model"
        ));
    }
    Some(CleanSeries {
        first_day: first,
        model,
        actual,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(weekday(0), 3); // Thursday
        assert_eq!(weekday(day_from_civil(2026, 11, 23)), 0); // a Monday
        for day in [-800, -1, 0, 59, 365, 20_415, 20_780] {
            let (y, m, d) = civil_from_day(day);
            assert_eq!(day_from_civil(y, m, d), day);
        }
        assert_eq!(iso_date(day_from_civil(2024, 2, 29)), "2024-02-29");
        let feb = day_from_civil(2024, 2, 10);
        assert_eq!(
            month_bounds(feb),
            (day_from_civil(2024, 2, 1), day_from_civil(2024, 2, 29))
        );
        let dec = day_from_civil(2025, 12, 31);
        assert_eq!(month_bounds(dec).1, dec);
    }

    #[test]
    fn cleaning_handles_duplicates_gaps_nan_and_credits() {
        let d = |day, amount| DailyCost { day, amount };
        assert!(clean(&[]).is_none());
        assert!(clean(&[d(3, f64::NAN)]).is_none());
        let one = clean(&[d(5, 2.0)]).unwrap();
        assert_eq!((one.first_day, one.model.clone()), (5, vec![2.0]));

        let s = clean(&[
            d(12, 7.0),
            d(10, 1.0),
            d(10, 5.0), // re-fetched: replaces, never adds
            d(11, f64::NAN),
            d(13, -4.0),
            d(15, 9.0),
        ])
        .unwrap();
        assert_eq!(s.first_day, 10);
        assert_eq!(
            s.actual,
            vec![Some(5.0), None, Some(7.0), Some(-4.0), None, Some(9.0)]
        );
        // Gaps and the credit take the previous day (no week earlier yet).
        assert_eq!(s.model, vec![5.0, 5.0, 7.0, 7.0, 7.0, 9.0]);
        assert_eq!(s.notes.len(), 4, "{:?}", s.notes);
        // A leading credit takes the first usable day after it.
        let lead = clean(&[d(0, -1.0), d(1, 3.0)]).unwrap();
        assert_eq!(lead.model, vec![3.0, 3.0]);
        // A week later, a gap takes the same weekday.
        let mut week: Vec<DailyCost> = (0..8).map(|i| d(i, i as f64)).collect();
        week.push(d(9, 1.0));
        assert_eq!(clean(&week).unwrap().model[8], 1.0);
        // A far-away stray date does not allocate millions of days.
        let far = clean(&[d(-5_000_000, 1.0), d(100, 2.0)]).unwrap();
        assert_eq!(far.len() as i64, MAX_SPAN_DAYS);
    }
}
