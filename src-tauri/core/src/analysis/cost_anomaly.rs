//! Cost anomalies (issue 7 §3): a day against the same weekday of the
//! previous weeks.
//!
//! The baseline of a day is the median of the same weekday over the
//! previous [`CostAnomalyConfig::weeks`] weeks (at least `min_weeks` of
//! them present), its spread the MAD (×1.4826, the normal-consistent scale).
//! The robust score is `(actual − median) / scale`. Spend on identical
//! weeks has a MAD of 0, so the scale has a floor of
//! [`CostAnomalyConfig::scale_floor_pct`] of the median: otherwise one cent
//! more would be an infinite score.
//!
//! A day is an anomaly when all three hold:
//! - |score| > `threshold` (3.5 by default, the usual cut for MAD scores);
//! - the change is at least `min_abs_change` in currency units (so cents
//!   on a small cluster never alert);
//! - and at least `min_rel_change` of the baseline.
//!
//! Severity follows the anomaly detector's: > 3 medium, > 4 high, > 5
//! critical (by |score|). Drops are reported too (a cluster that stopped
//! costing may have stopped working), with their direction.
//!
//! Bad input: gaps are not scored and are not part of any baseline; a
//! negative day (a credit) is not scored and not used as a baseline (it is
//! accounting, not usage); NaN is a gap. Fewer than `min_weeks` earlier
//! same weekdays: the day is not scored.

use serde::{Deserialize, Serialize};

use super::anomaly::Severity;
use super::cost_series::{clean, weekday, DailyCost};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostAnomalyConfig {
    pub weeks: usize,
    pub min_weeks: usize,
    pub threshold: f64,
    pub min_abs_change: f64,
    pub min_rel_change: f64,
    pub scale_floor_pct: f64,
}

impl Default for CostAnomalyConfig {
    fn default() -> CostAnomalyConfig {
        CostAnomalyConfig {
            weeks: 6,
            min_weeks: 3,
            threshold: 3.5,
            min_abs_change: 5.0,
            min_rel_change: 0.15,
            scale_floor_pct: 3.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostAnomaly {
    pub day: i64,
    /// 0 = Monday.
    pub weekday: u8,
    pub actual: f64,
    /// The median of the previous same weekdays.
    pub baseline: f64,
    /// The scale the score divides by (MAD × 1.4826, or the floor).
    pub scale: f64,
    pub score: f64,
    pub change: f64,
    /// Of the baseline, in percent; `None` for a zero baseline.
    pub change_pct: Option<f64>,
    pub direction: Direction,
    pub severity: Severity,
    /// How many earlier same weekdays the baseline came from.
    pub weeks: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostAnomalyReport {
    /// Oldest first.
    pub anomalies: Vec<CostAnomaly>,
    /// Days with enough history to be scored.
    pub scored_days: usize,
    pub notes: Vec<String>,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid cost anomaly settings: {0}")]
pub struct CostAnomalyConfigError(String);

impl CostAnomalyConfigError {
    pub fn kind(&self) -> &'static str {
        "invalid_cost_anomaly_settings"
    }

    pub fn hint(&self) -> String {
        "Use at least one week (min_weeks ≤ weeks), a positive threshold, and finite \
         changes ≥ 0."
            .into()
    }
}

impl CostAnomalyConfig {
    pub fn validate(&self) -> Result<(), CostAnomalyConfigError> {
        let finite_nonneg = [
            self.min_abs_change,
            self.min_rel_change,
            self.scale_floor_pct,
        ]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0);
        if self.min_weeks == 0
            || self.min_weeks > self.weeks
            || self.weeks > 520
            || !(self.threshold.is_finite() && self.threshold > 0.0)
            || !finite_nonneg
        {
            return Err(CostAnomalyConfigError(format!("{self:?}")));
        }
        Ok(())
    }
}

/// Scores every day of `history` that has enough earlier same weekdays.
/// Empty history gives an empty report.
pub fn cost_anomalies(
    history: &[DailyCost],
    cfg: &CostAnomalyConfig,
) -> Result<CostAnomalyReport, CostAnomalyConfigError> {
    cfg.validate()?;
    let Some(s) = clean(history) else {
        return Ok(CostAnomalyReport {
            notes: vec!["no cost history".into()],
            ..Default::default()
        });
    };
    // Usable values: given, finite and not a credit.
    let usable: Vec<Option<f64>> = s.actual.iter().map(|a| a.filter(|v| *v >= 0.0)).collect();
    let mut report = CostAnomalyReport {
        notes: s.notes.clone(),
        ..Default::default()
    };
    for (i, value) in usable.iter().enumerate() {
        let Some(actual) = *value else { continue };
        let mut base: Vec<f64> = (1..=cfg.weeks)
            .filter_map(|w| i.checked_sub(7 * w).and_then(|j| usable[j]))
            .collect();
        if base.len() < cfg.min_weeks {
            continue;
        }
        report.scored_days += 1;
        base.sort_by(f64::total_cmp);
        let baseline = median(&base);
        let mut dev: Vec<f64> = base.iter().map(|v| (v - baseline).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let floor = baseline.abs() * cfg.scale_floor_pct / 100.0;
        let scale = (1.4826 * median(&dev)).max(floor);
        let change = actual - baseline;
        let score = if scale > 0.0 {
            change / scale
        } else if change == 0.0 {
            0.0
        } else {
            // From exactly zero on every earlier week: any spend is new.
            f64::INFINITY.copysign(change)
        };
        let rel_ok = baseline <= 0.0 || change.abs() >= cfg.min_rel_change * baseline;
        if score.abs() <= cfg.threshold || change.abs() < cfg.min_abs_change || !rel_ok {
            continue;
        }
        let Some(severity) = Severity::from_score(score) else {
            continue;
        };
        let day = s.first_day + i as i64;
        report.anomalies.push(CostAnomaly {
            day,
            weekday: weekday(day),
            actual,
            baseline,
            scale,
            score,
            change,
            change_pct: (baseline > 0.0).then(|| 100.0 * change / baseline),
            direction: if change > 0.0 {
                Direction::Up
            } else {
                Direction::Down
            },
            severity,
            weeks: base.len(),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weekdays at `weekday`, weekends at 60 %, a little wobble.
    fn weeks(n: usize, weekday_cost: f64) -> Vec<DailyCost> {
        (0..n * 7)
            .map(|i| {
                let day = 20_409 + i as i64; // a Monday
                let base = if weekday(day) >= 5 {
                    weekday_cost * 0.6
                } else {
                    weekday_cost
                };
                let wobble = [1.0, 1.01, 0.99, 1.02, 0.98][i % 5];
                DailyCost {
                    day,
                    amount: base * wobble,
                }
            })
            .collect()
    }

    #[test]
    fn a_spike_against_its_weekday_is_found_and_weekends_are_not() {
        let mut h = weeks(8, 200.0);
        assert_eq!(weekday(h[0].day), 0);
        // Weekends are 40 % cheaper every week: not an anomaly.
        let r = cost_anomalies(&h, &CostAnomalyConfig::default()).unwrap();
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.scored_days, 8 * 7 - 3 * 7);
        // The last Wednesday doubles.
        let i = 7 * 7 + 2;
        h[i].amount *= 2.0;
        let r = cost_anomalies(&h, &CostAnomalyConfig::default()).unwrap();
        assert_eq!(r.anomalies.len(), 1, "{:?}", r.anomalies);
        let a = &r.anomalies[0];
        assert_eq!(
            (a.day, a.weekday, a.direction),
            (h[i].day, 2, Direction::Up)
        );
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.weeks, 6);
        assert!((a.change_pct.unwrap() - 100.0).abs() < 5.0, "{a:?}");
        // A Saturday that costs a weekday's amount is found too: the
        // baseline is the same weekday, not the week.
        let mut h = weeks(8, 200.0);
        h[7 * 7 + 5].amount = 200.0;
        let r = cost_anomalies(&h, &CostAnomalyConfig::default()).unwrap();
        assert_eq!(r.anomalies.len(), 1);
        assert_eq!(r.anomalies[0].weekday, 5);
    }

    #[test]
    fn cents_do_not_alert_and_drops_do() {
        // A $1/day cluster doubling is $1: under the absolute minimum.
        let mut small = weeks(6, 1.0);
        let last = small.len() - 3;
        small[last].amount *= 2.0;
        let r = cost_anomalies(&small, &CostAnomalyConfig::default()).unwrap();
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        // Perfectly flat weeks: one cent more is not an infinite score.
        let flat: Vec<DailyCost> = (0..35)
            .map(|i| DailyCost {
                day: i,
                amount: if i == 34 { 100.01 } else { 100.0 },
            })
            .collect();
        assert!(cost_anomalies(&flat, &CostAnomalyConfig::default())
            .unwrap()
            .anomalies
            .is_empty());
        // A cluster that stops costing is reported as a drop.
        let mut h = weeks(6, 300.0);
        let last = h.len() - 1;
        h[last].amount = 10.0;
        let r = cost_anomalies(&h, &CostAnomalyConfig::default()).unwrap();
        assert_eq!(r.anomalies.len(), 1);
        assert_eq!(r.anomalies[0].direction, Direction::Down);
    }

    #[test]
    fn bad_input_is_skipped_with_notes() {
        let cfg = CostAnomalyConfig::default();
        let empty = cost_anomalies(&[], &cfg).unwrap();
        assert!(empty.anomalies.is_empty() && !empty.notes.is_empty());
        let one = cost_anomalies(
            &[DailyCost {
                day: 1,
                amount: 5.0,
            }],
            &cfg,
        )
        .unwrap();
        assert_eq!((one.scored_days, one.anomalies.len()), (0, 0));
        // A credit is neither scored nor part of a baseline; NaN is a gap.
        let mut h = weeks(6, 200.0);
        let n = h.len();
        h[n - 1].amount = -800.0;
        h[n - 8].amount = f64::NAN;
        let r = cost_anomalies(&h, &cfg).unwrap();
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert!(
            r.notes.iter().any(|n| n.contains("credit")),
            "{:?}",
            r.notes
        );
        for bad in [
            CostAnomalyConfig {
                min_weeks: 0,
                ..cfg
            },
            CostAnomalyConfig {
                min_weeks: 7,
                ..cfg
            },
            CostAnomalyConfig {
                threshold: f64::NAN,
                ..cfg
            },
            CostAnomalyConfig {
                min_abs_change: -1.0,
                ..cfg
            },
        ] {
            let e = cost_anomalies(&h, &bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_cost_anomaly_settings");
        }
        // From zero on every earlier week to real spend: new spend.
        let mut zero: Vec<DailyCost> = (0..28)
            .map(|i| DailyCost {
                day: i,
                amount: 0.0,
            })
            .collect();
        zero.push(DailyCost {
            day: 28,
            amount: 50.0,
        });
        let r = cost_anomalies(&zero, &cfg).unwrap();
        assert_eq!(r.anomalies.len(), 1);
        assert_eq!(r.anomalies[0].change_pct, None);
    }
}
