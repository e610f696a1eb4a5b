//! Anomaly detection on one metric series (BRIEF §5, issue 9).
//!
//! Two detectors share one output shape ([`PointScore`]):
//!
//! - [`SeedZScore`], the seed's floor: a 7-day rolling mean/stddev z-score,
//!   flagged above 3. It is kept so that the evaluation can show what ours
//!   beats, "run the same way".
//! - [`Detector`], ours: a robust (median/MAD) score against a seasonal
//!   baseline (the same hour of the week, or of the day, when there is enough
//!   history; the recent past otherwise), with hysteresis and a minimum
//!   duration so that one noisy point is not an incident.
//!
//! Both are causal: the score of a point uses only the points before it, so
//! the batch functions are exactly what the streaming [`DetectorStream`]
//! would have said at the time. Timestamps are unix seconds and need not be
//! regular: every window is defined in seconds, never in points, so gaps and
//! jittered sampling are handled as "less history".

use std::collections::VecDeque;

use serde::Serialize;

/// MAD × 1.4826 estimates σ for normally distributed data.
pub const MAD_TO_SIGMA: f64 = 1.4826;
/// Mean absolute deviation × 1.2533 estimates σ for normal data; used when the
/// MAD is 0 (more than half the baseline is one value) but the rest is not.
pub const MEAN_AD_TO_SIGMA: f64 = 1.2533;
/// Scores are capped so that a deviation from a zero-variance baseline stays
/// a finite, JSON-encodable number.
pub const SCORE_CAP: f64 = 1000.0;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Severity of a score, by its magnitude (BRIEF §5): medium > 3, high > 4,
/// critical > 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The severity of a score (either sign), or `None` at or below 3.
    pub fn from_score(score: f64) -> Option<Severity> {
        let s = score.abs();
        if s > 5.0 {
            Some(Severity::Critical)
        } else if s > 4.0 {
            Some(Severity::High)
        } else if s > 3.0 {
            Some(Severity::Medium)
        } else {
            None
        }
    }
}

/// What a detector says about one point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PointScore {
    /// Signed deviation from the baseline in (robust) standard deviations; 0
    /// while there is not enough history. Capped at ±[`SCORE_CAP`].
    pub score: f64,
    /// The severity of `score` alone (a single point can be "critical" and
    /// still not be an anomaly until it lasts).
    pub severity: Option<Severity>,
    /// Whether the point belongs to an anomaly (an incident), after the
    /// detector's duration and hysteresis rules.
    pub anomaly: bool,
}

/// Why a series cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnomalyError {
    #[error("point {index}: timestamp {timestamp} is not after the previous one ({previous}); sort and de-duplicate the series first")]
    NotIncreasing {
        index: usize,
        timestamp: i64,
        previous: i64,
    },
    #[error("point {index} (timestamp {timestamp}): the value is not a finite number")]
    NotFinite { index: usize, timestamp: i64 },
}

/// Checks the input contract of both detectors: finite values, strictly
/// increasing timestamps.
fn validate(series: &[(i64, f64)]) -> Result<(), AnomalyError> {
    let mut previous: Option<i64> = None;
    for (index, &(timestamp, value)) in series.iter().enumerate() {
        if !value.is_finite() {
            return Err(AnomalyError::NotFinite { index, timestamp });
        }
        if let Some(previous) = previous {
            if timestamp <= previous {
                return Err(AnomalyError::NotIncreasing {
                    index,
                    timestamp,
                    previous,
                });
            }
        }
        previous = Some(timestamp);
    }
    Ok(())
}

fn cap(score: f64) -> f64 {
    score.clamp(-SCORE_CAP, SCORE_CAP)
}

// ---------------------------------------------------------------------------
// The seed
// ---------------------------------------------------------------------------

/// The seed's detector: `z = (x − mean) / stddev` over the previous 7 days,
/// flagged when `|z| > 3`. Every point above the threshold is an anomaly on
/// its own (no duration rule): that is what makes it noisy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedZScore {
    /// Length of the rolling baseline. Default: 7 days.
    pub window_secs: i64,
    /// `|z|` above this is an anomaly. Default: 3.
    pub threshold: f64,
    /// Points of history needed before a point is scored (a stddev of one or
    /// two points means nothing). Default: 12 (one hour of 5-minute data).
    pub min_history: usize,
}

impl Default for SeedZScore {
    fn default() -> Self {
        SeedZScore {
            window_secs: WEEK,
            threshold: 3.0,
            min_history: 12,
        }
    }
}

impl SeedZScore {
    /// Scores every point against the window before it.
    ///
    /// A zero stddev (a flat baseline) gives 0 for a value equal to the mean
    /// and ±[`SCORE_CAP`] for any other: never a division by zero.
    pub fn score(&self, series: &[(i64, f64)]) -> Result<Vec<PointScore>, AnomalyError> {
        validate(series)?;
        let mut out = Vec::with_capacity(series.len());
        // Running sums, shifted by the first value so that large, nearly
        // constant series (bytes counters) don't lose their variance to
        // cancellation.
        let shift = series.first().map_or(0.0, |p| p.1);
        let (mut sum, mut sum_sq) = (0.0_f64, 0.0_f64);
        let mut start = 0usize;
        for (i, &(ts, value)) in series.iter().enumerate() {
            while start < i && series[start].0 <= ts - self.window_secs {
                let d = series[start].1 - shift;
                sum -= d;
                sum_sq -= d * d;
                start += 1;
            }
            let n = i - start;
            let score = if n >= self.min_history.max(1) {
                let nf = n as f64;
                let mean = sum / nf;
                let var = (sum_sq / nf - mean * mean).max(0.0);
                let std = var.sqrt();
                let dev = value - shift - mean;
                let tiny = 1e-9 * (mean + shift).abs().max(1e-12);
                if std > tiny {
                    cap(dev / std)
                } else if dev.abs() <= tiny {
                    0.0
                } else {
                    SCORE_CAP.copysign(dev)
                }
            } else {
                0.0
            };
            out.push(PointScore {
                score,
                severity: Severity::from_score(score),
                anomaly: score.abs() > self.threshold,
            });
            let d = value - shift;
            sum += d;
            sum_sq += d * d;
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Ours
// ---------------------------------------------------------------------------

/// Our detector's configuration. [`Detector::default`] is what the product
/// and the CLI use; the defaults were tuned on the NAB fixtures as a whole
/// (never per file) and are documented in `docs/anomalies.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detector {
    /// The non-seasonal baseline: the previous `recent_window_secs`.
    /// Default: 3 days.
    pub recent_window_secs: i64,
    /// Warm-up: nothing is scored until the series has run this long without
    /// a gap longer than the recent window (after such a gap the history is
    /// stale and the warm-up starts again). In seconds, so that it means the
    /// same at any sampling rate. Default: 1 day.
    pub warmup_secs: i64,
    /// ...and until the recent window holds this many points. Default: 12.
    pub min_history: usize,
    /// Width of a seasonal slot (the "hour" of hour-of-week). Default: 1 hour.
    pub season_slot_secs: i64,
    /// The weekly baseline (same slot of the week) is used once the series
    /// spans this many weeks. Default: 2.
    pub weekly_min_weeks: i64,
    /// How many past weeks the weekly baseline keeps. Default: 4.
    pub weekly_horizon_weeks: i64,
    /// Otherwise the daily baseline (same slot of the day) is used once the
    /// series spans this many days. Default: 3.
    pub daily_min_days: i64,
    /// How many past days the daily baseline keeps. Default: 7.
    pub daily_horizon_days: i64,
    /// A seasonal slot needs this many points to be a baseline. Default: 6.
    pub min_slot_points: usize,
    /// The floor of the robust scale, relative to the largest magnitude in
    /// the baseline: a baseline of identical values (MAD 0) still has a
    /// finite scale, and a change of a hair is not "infinitely" anomalous.
    /// Default: 0.01 (1 %).
    pub scale_floor_rel: f64,
    /// `|score|` that opens an incident once it has lasted
    /// `min_duration_secs`. Default: 4.0 (high).
    pub enter_score: f64,
    /// How long consecutive points must stay above `enter_score` (from the
    /// first to the current one) to open an incident; 0 opens on one point.
    /// Default: 10 minutes (three 5-minute points).
    pub min_duration_secs: i64,
    /// An incident stays open while points keep crossing this `|score|`...
    /// Default: 3.0 (medium).
    pub exit_score: f64,
    /// ...and closes at the first point that is below it and this long after
    /// the last point above it: a flapping signal is one incident, not one
    /// per flap. Default: 6 hours.
    pub exit_quiet_secs: i64,
}

impl Default for Detector {
    fn default() -> Self {
        Detector {
            recent_window_secs: 3 * DAY,
            warmup_secs: DAY,
            min_history: 12,
            season_slot_secs: HOUR,
            weekly_min_weeks: 2,
            weekly_horizon_weeks: 4,
            daily_min_days: 3,
            daily_horizon_days: 7,
            min_slot_points: 6,
            scale_floor_rel: 0.01,
            enter_score: 4.0,
            min_duration_secs: 10 * 60,
            exit_score: 3.0,
            exit_quiet_secs: 6 * HOUR,
        }
    }
}

impl Detector {
    /// Scores a whole series (strictly increasing timestamps, finite values).
    pub fn score(&self, series: &[(i64, f64)]) -> Result<Vec<PointScore>, AnomalyError> {
        validate(series)?;
        let mut stream = self.stream();
        series
            .iter()
            .map(|&(ts, v)| stream.push(ts, v))
            .collect::<Result<Vec<_>, _>>()
    }

    /// A streaming detector with this configuration.
    pub fn stream(&self) -> DetectorStream {
        DetectorStream::new(self.clone())
    }
}

/// Which baseline scored a point; exposed for explanations ("compared with
/// the same hour last week").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    Warmup,
    Recent,
    Daily,
    Weekly,
}

/// Our detector, one point at a time. Memory is bounded by the windows (at
/// most `weekly_horizon_weeks` of points).
#[derive(Debug, Clone)]
pub struct DetectorStream {
    cfg: Detector,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// Points accepted so far (the index reported in errors).
    pushed: usize,
    /// Start of the current stretch without a gap longer than the recent
    /// window.
    stretch_start: i64,
    recent: RollingWindow,
    daily: Vec<RollingWindow>,
    weekly: Vec<RollingWindow>,
    /// First point of the current run above `enter_score`.
    above_since: Option<i64>,
    /// Last point above `exit_score` in the open incident.
    last_loud: i64,
    in_incident: bool,
    last_baseline: Baseline,
}

impl DetectorStream {
    fn new(cfg: Detector) -> Self {
        let slot = cfg.season_slot_secs.max(1);
        let daily_slots = (DAY / slot).max(1) as usize;
        let weekly_slots = (WEEK / slot).max(1) as usize;
        let daily_h = cfg.daily_horizon_days.max(1) * DAY;
        let weekly_h = cfg.weekly_horizon_weeks.max(1) * WEEK;
        DetectorStream {
            recent: RollingWindow::new(cfg.recent_window_secs.max(1)),
            daily: (0..daily_slots)
                .map(|_| RollingWindow::new(daily_h))
                .collect(),
            weekly: (0..weekly_slots)
                .map(|_| RollingWindow::new(weekly_h))
                .collect(),
            cfg,
            first_ts: None,
            last_ts: None,
            pushed: 0,
            stretch_start: 0,
            above_since: None,
            last_loud: 0,
            in_incident: false,
            last_baseline: Baseline::Warmup,
        }
    }

    /// The baseline that scored the last point.
    pub fn last_baseline(&self) -> Baseline {
        self.last_baseline
    }

    /// Adds `value` at `ts` to the baselines without scoring it. Scoring a
    /// point costs a median/MAD over the recent window; history that only
    /// has to be *known* (the weeks before the points a caller needs scores
    /// for) is learned in O(log n) per point instead. The hysteresis state
    /// is left alone: an incident is only ever opened by scored points.
    pub fn learn(&mut self, ts: i64, value: f64) -> Result<(), AnomalyError> {
        self.accept(ts, value)?;
        let (di, wi) = self.slots(ts);
        self.evict_all(ts, di, wi);
        self.recent.push(ts, value);
        self.daily[di].push(ts, value);
        self.weekly[wi].push(ts, value);
        Ok(())
    }

    /// Checks a point against the input contract and records it as seen.
    fn accept(&mut self, ts: i64, value: f64) -> Result<(), AnomalyError> {
        if !value.is_finite() {
            return Err(AnomalyError::NotFinite {
                index: self.pushed,
                timestamp: ts,
            });
        }
        if let Some(previous) = self.last_ts {
            if ts <= previous {
                return Err(AnomalyError::NotIncreasing {
                    index: self.pushed,
                    timestamp: ts,
                    previous,
                });
            }
        }
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
        self.pushed += 1;
        Ok(())
    }

    /// The daily and weekly slot indices of `ts`.
    fn slots(&self, ts: i64) -> (usize, usize) {
        let slot_no = ts.div_euclid(self.cfg.season_slot_secs.max(1));
        (
            slot_no.rem_euclid(self.daily.len() as i64) as usize,
            slot_no.rem_euclid(self.weekly.len() as i64) as usize,
        )
    }

    /// Drops what fell out of the windows; an empty recent window starts a
    /// new stretch (the history before a long gap is stale).
    fn evict_all(&mut self, ts: i64, di: usize, wi: usize) {
        self.recent.evict(ts);
        self.daily[di].evict(ts);
        self.weekly[wi].evict(ts);
        if self.recent.len() == 0 {
            self.stretch_start = ts;
        }
    }

    /// Scores `value` at `ts` against the past, then adds it to the past.
    pub fn push(&mut self, ts: i64, value: f64) -> Result<PointScore, AnomalyError> {
        self.accept(ts, value)?;
        let span = ts - self.first_ts.unwrap_or(ts);
        let (di, wi) = self.slots(ts);
        self.evict_all(ts, di, wi);

        let (score, baseline) = if ts - self.stretch_start < self.cfg.warmup_secs
            || self.recent.len() < self.cfg.min_history.max(1)
        {
            (0.0, Baseline::Warmup)
        } else {
            let recent = self.recent.robust_z(value, self.cfg.scale_floor_rel);
            // The seasonal baseline says what is normal at this time of the
            // week/day. A point must also be abnormal against the recent past:
            // this lets a legitimate level change settle in within the recent
            // window instead of alarming for a whole season.
            let seasonal = if span >= self.cfg.weekly_min_weeks * WEEK
                && self.weekly[wi].len() >= self.cfg.min_slot_points
            {
                Some((
                    self.weekly[wi].robust_z(value, self.cfg.scale_floor_rel),
                    Baseline::Weekly,
                ))
            } else if span >= self.cfg.daily_min_days * DAY
                && self.daily[di].len() >= self.cfg.min_slot_points
            {
                Some((
                    self.daily[di].robust_z(value, self.cfg.scale_floor_rel),
                    Baseline::Daily,
                ))
            } else {
                None
            };
            match seasonal {
                Some((s, b)) if s.abs() < recent.abs() => (s, b),
                _ => (recent, Baseline::Recent),
            }
        };
        self.last_baseline = baseline;
        let score = cap(score);

        // Hysteresis: open once the score has stayed above `enter_score` for
        // `min_duration_secs`; close once it has stayed below `exit_score`
        // for `exit_quiet_secs`. Durations are in seconds so that the rule
        // means the same at any sampling rate. Flags are causal: the points
        // that led up to the opening are not re-flagged afterwards.
        let mag = score.abs();
        if self.in_incident {
            if mag >= self.cfg.exit_score {
                self.last_loud = ts;
            } else if ts - self.last_loud >= self.cfg.exit_quiet_secs {
                self.in_incident = false;
                self.above_since = None;
            }
        } else if mag > self.cfg.enter_score {
            let since = *self.above_since.get_or_insert(ts);
            if ts - since >= self.cfg.min_duration_secs {
                self.in_incident = true;
                self.last_loud = ts;
            }
        } else {
            self.above_since = None;
        }

        self.recent.push(ts, value);
        self.daily[di].push(ts, value);
        self.weekly[wi].push(ts, value);
        Ok(PointScore {
            score,
            severity: Severity::from_score(score),
            anomaly: self.in_incident,
        })
    }
}

// ---------------------------------------------------------------------------
// Robust statistics over a time window
// ---------------------------------------------------------------------------

/// The values of the last `horizon` seconds, kept both in arrival order (to
/// evict) and sorted (median in O(1), MAD in O(n) without allocating).
#[derive(Debug, Clone)]
struct RollingWindow {
    horizon: i64,
    arrivals: VecDeque<(i64, f64)>,
    sorted: Vec<f64>,
}

impl RollingWindow {
    fn new(horizon: i64) -> Self {
        RollingWindow {
            horizon,
            arrivals: VecDeque::new(),
            sorted: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Drops the values at or before `now − horizon`.
    fn evict(&mut self, now: i64) {
        while let Some(&(ts, v)) = self.arrivals.front() {
            if ts > now - self.horizon {
                break;
            }
            self.arrivals.pop_front();
            // Values are finite (checked on push), so `total_cmp` finds the
            // exact stored value.
            let i = self.sorted.partition_point(|x| x.total_cmp(&v).is_lt());
            if i < self.sorted.len() {
                self.sorted.remove(i);
            }
        }
    }

    fn push(&mut self, ts: i64, v: f64) {
        self.arrivals.push_back((ts, v));
        let i = self.sorted.partition_point(|x| x.total_cmp(&v).is_le());
        self.sorted.insert(i, v);
    }

    /// `(x − median) / scale` with the robust scale of [`robust_scale`].
    fn robust_z(&self, x: f64, floor_rel: f64) -> f64 {
        let Some(m) = median_sorted(&self.sorted) else {
            return 0.0;
        };
        let scale = robust_scale(&self.sorted, m, floor_rel);
        let dev = x - m;
        if scale > 0.0 {
            dev / scale
        } else if dev == 0.0 {
            0.0
        } else {
            SCORE_CAP.copysign(dev)
        }
    }
}

/// The median of sorted values, `None` when empty.
pub fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// The median absolute deviation of sorted values around `m` (their median),
/// in O(n) without allocating: the distances below and above the median are
/// two sorted runs, merged until the middle.
pub fn mad_sorted(sorted: &[f64], m: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    // Left run: indices split-1, split-2, ... (distance m − x ascending);
    // right run: split, split+1, ... (x − m ascending).
    let split = sorted.partition_point(|x| *x < m);
    let (mut l, mut r) = (split, split);
    let want_hi = n / 2;
    let want_lo = if n % 2 == 1 { want_hi } else { want_hi - 1 };
    let mut lo = 0.0;
    for k in 0..=want_hi {
        let dl = if l > 0 { Some(m - sorted[l - 1]) } else { None };
        let dr = if r < n { Some(sorted[r] - m) } else { None };
        let d = match (dl, dr) {
            (Some(a), Some(b)) if a <= b => {
                l -= 1;
                a
            }
            (Some(a), None) => {
                l -= 1;
                a
            }
            (_, Some(b)) => {
                r += 1;
                b
            }
            (None, None) => break,
        };
        if k == want_lo {
            lo = d;
        }
        if k == want_hi {
            return (lo + d) / 2.0;
        }
    }
    lo
}

/// The robust scale (σ estimate) of a baseline: 1.4826 × MAD; when the MAD
/// is 0 (most of the baseline is one value), 1.2533 × the mean absolute
/// deviation; never below `floor_rel` × the largest magnitude in the
/// baseline. 0 only when the baseline is all zeros.
pub fn robust_scale(sorted: &[f64], m: f64, floor_rel: f64) -> f64 {
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return 0.0;
    };
    let mut scale = MAD_TO_SIGMA * mad_sorted(sorted, m);
    if scale == 0.0 {
        let mean_ad = sorted.iter().map(|x| (x - m).abs()).sum::<f64>() / sorted.len() as f64;
        scale = MEAN_AD_TO_SIGMA * mean_ad;
    }
    let magnitude = first.abs().max(last.abs());
    scale.max(floor_rel * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: i64 = 300;

    fn series(values: &[f64]) -> Vec<(i64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| (1_400_000_000 + i as i64 * STEP, v))
            .collect()
    }

    /// A deterministic, noisy-looking signal without an RNG dependency.
    fn noise(i: usize) -> f64 {
        let x = (i as f64 * 12.9898).sin() * 43_758.547;
        x - x.floor() - 0.5
    }

    #[test]
    fn median_and_mad_of_small_sets() {
        assert_eq!(median_sorted(&[]), None);
        assert_eq!(median_sorted(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(median_sorted(&[1.0, 2.0, 4.0, 9.0]), Some(3.0));
        // |x − 2| = 1, 0, 7 → median 1.
        assert_eq!(mad_sorted(&[1.0, 2.0, 9.0], 2.0), 1.0);
        // |x − 3| = 2, 1, 1, 6 → (1 + 2) / 2.
        assert_eq!(mad_sorted(&[1.0, 2.0, 4.0, 9.0], 3.0), 1.5);
        assert_eq!(mad_sorted(&[5.0; 7], 5.0), 0.0);
        // Brute force agrees on an uneven set.
        let mut v: Vec<f64> = (0..101).map(|i| noise(i) * 10.0 + i as f64 % 7.0).collect();
        v.sort_by(f64::total_cmp);
        let m = median_sorted(&v).unwrap();
        let mut d: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
        d.sort_by(f64::total_cmp);
        assert_eq!(mad_sorted(&v, m), d[50]);
    }

    #[test]
    fn zero_mad_falls_back_to_mean_deviation_then_to_the_floor() {
        // More than half identical: MAD 0, mean AD is not.
        let v = [1.0, 1.0, 1.0, 1.0, 5.0];
        let s = robust_scale(&v, 1.0, 0.0);
        assert!((s - MEAN_AD_TO_SIGMA * 0.8).abs() < 1e-12, "{s}");
        // All identical: the relative floor.
        assert_eq!(robust_scale(&[50.0; 9], 50.0, 0.01), 0.5);
        // All zeros: no scale at all, which robust_z handles without dividing.
        assert_eq!(robust_scale(&[0.0; 9], 0.0, 0.01), 0.0);
    }

    #[test]
    fn constant_series_never_divides_by_zero() {
        for value in [0.0, 45.0, -3.0] {
            let s = series(&vec![value; 2000]);
            for out in [
                Detector::default().score(&s).unwrap(),
                SeedZScore::default().score(&s).unwrap(),
            ] {
                assert!(out.iter().all(|p| p.score == 0.0 && !p.anomaly));
            }
        }
    }

    #[test]
    fn zero_variance_then_a_step_is_finite_and_flagged() {
        let mut v = vec![0.0; 400];
        v.extend([7.0; 5]);
        let out = Detector::default().score(&series(&v)).unwrap();
        assert!(out.iter().all(|p| p.score.is_finite()));
        assert_eq!(out[400].score, SCORE_CAP);
        // Ten minutes above the threshold (three 5-minute points) open it.
        assert!(
            !out[400].anomaly && !out[401].anomaly,
            "not an incident yet"
        );
        assert!(out[402].anomaly);
        assert_eq!(out[402].severity, Some(Severity::Critical));
        let seed = SeedZScore::default().score(&series(&v)).unwrap();
        assert!(seed[400].anomaly && seed[400].score == SCORE_CAP);
    }

    #[test]
    fn a_single_spike_is_scored_but_is_not_an_incident() {
        let mut v: Vec<f64> = (0..600).map(|i| 10.0 + noise(i)).collect();
        v[500] = 40.0;
        let out = Detector::default().score(&series(&v)).unwrap();
        assert_eq!(out[500].severity, Some(Severity::Critical));
        assert!(out.iter().all(|p| !p.anomaly));
        // The seed flags it (and nothing else on clean noise).
        let seed = SeedZScore::default().score(&series(&v)).unwrap();
        assert!(seed[500].anomaly);
    }

    #[test]
    fn a_sustained_shift_opens_one_incident_that_closes() {
        let mut v: Vec<f64> = (0..1000).map(|i| 10.0 + noise(i)).collect();
        for x in &mut v[500..520] {
            *x += 20.0;
        }
        // Two short flaps inside the quiet period keep the same incident.
        v[540] += 20.0;
        v[560] += 20.0;
        let out = Detector::default().score(&series(&v)).unwrap();
        let flagged: Vec<usize> = (0..v.len()).filter(|&i| out[i].anomaly).collect();
        assert_eq!(flagged.first(), Some(&502), "opens after min_duration");
        // One contiguous run, closed 6 h (72 points) after the last flap.
        let last = *flagged.last().unwrap();
        assert_eq!(flagged.len(), last - 502 + 1);
        assert_eq!(last, 560 + 71);
    }

    #[test]
    fn warmup_points_are_not_scored() {
        let v: Vec<f64> = (0..400).map(|i| i as f64 * 100.0).collect();
        let out = Detector::default().score(&series(&v)).unwrap();
        assert!(out[..288].iter().all(|p| p.score == 0.0 && !p.anomaly));
        assert!(out[288].score > 0.0);
    }

    #[test]
    fn seasonality_is_learned_from_the_same_hour() {
        // 5-minute data, a daily pattern with a sharp 2-hour peak each day at
        // 12:00. A trailing-window baseline sees the peak as an outlier every
        // day; the daily baseline knows it.
        let day = 288;
        let v: Vec<f64> = (0..day * 6)
            .map(|i| {
                let h = (i % day) / 12;
                let base = if (12..14).contains(&h) { 100.0 } else { 10.0 };
                base + noise(i)
            })
            .collect();
        let start = 1_400_000_000 - 1_400_000_000 % DAY;
        let s: Vec<(i64, f64)> = v
            .iter()
            .enumerate()
            .map(|(i, &x)| (start + i as i64 * STEP, x))
            .collect();
        let out = Detector::default().score(&s).unwrap();
        // From day 4 on the daily baseline applies: no incident at the peak.
        assert!(out[day * 4..].iter().all(|p| !p.anomaly));
        let mut stream = Detector::default().stream();
        // At day 5's peak, the daily baseline is the one that explains it.
        for &(ts, x) in &s[..day * 5 + 12 * 12 + 1] {
            stream.push(ts, x).unwrap();
        }
        assert_eq!(stream.last_baseline(), Baseline::Daily);

        // The same peak at an unusual hour is an incident.
        let mut odd = s.clone();
        for p in &mut odd[day * 5 + 3 * 12..day * 5 + 5 * 12] {
            p.1 += 90.0;
        }
        let out = Detector::default().score(&odd).unwrap();
        assert!(out[day * 5 + 3 * 12..day * 5 + 5 * 12]
            .iter()
            .any(|p| p.anomaly));
    }

    #[test]
    fn irregular_timestamps_and_gaps_use_time_windows() {
        // Jittered sampling with a 4-day gap: after the gap the recent window
        // is empty again, so the detector warms up instead of comparing with
        // stale data.
        let mut s = Vec::new();
        let mut ts = 1_400_000_000;
        for i in 0..400 {
            ts += 240 + (i % 5) * 30;
            s.push((ts, 10.0 + noise(i as usize)));
        }
        ts += 4 * DAY;
        for i in 0..50 {
            ts += 300;
            s.push((ts, 500.0 + noise(i)));
        }
        let out = Detector::default().score(&s).unwrap();
        assert!(out[400..].iter().all(|p| p.score == 0.0 && !p.anomaly));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert_eq!(
            Detector::default().score(&[(10, 1.0), (10, 2.0)]),
            Err(AnomalyError::NotIncreasing {
                index: 1,
                timestamp: 10,
                previous: 10
            })
        );
        assert_eq!(
            SeedZScore::default().score(&[(10, 1.0), (11, f64::NAN)]),
            Err(AnomalyError::NotFinite {
                index: 1,
                timestamp: 11
            })
        );
        assert_eq!(Detector::default().score(&[]), Ok(vec![]));
        // The stream rejects a late point and keeps going.
        let mut stream = Detector::default().stream();
        assert!(stream.push(100, 1.0).is_ok());
        assert_eq!(
            stream.push(50, 1.0),
            Err(AnomalyError::NotIncreasing {
                index: 1,
                timestamp: 50,
                previous: 100
            })
        );
        assert!(stream.push(400, 1.0).is_ok());
    }

    #[test]
    fn learned_history_scores_like_pushed_history() {
        // Learning the first points instead of scoring them gives the same
        // scores afterwards: the baselines are the same.
        let mut v: Vec<f64> = (0..900).map(|i| 10.0 + noise(i)).collect();
        for x in &mut v[850..870] {
            *x += 20.0;
        }
        let s = series(&v);
        let full = Detector::default().score(&s).unwrap();
        let mut stream = Detector::default().stream();
        for &(ts, x) in &s[..800] {
            stream.learn(ts, x).unwrap();
        }
        let tail: Vec<PointScore> = s[800..]
            .iter()
            .map(|&(ts, x)| stream.push(ts, x).unwrap())
            .collect();
        assert_eq!(tail, full[800..].to_vec());
        assert!(tail.iter().any(|p| p.anomaly));
        assert!(
            stream.learn(s[0].0, 1.0).is_err(),
            "time still only moves on"
        );
    }

    #[test]
    fn severities_follow_the_brief() {
        assert_eq!(Severity::from_score(3.0), None);
        assert_eq!(Severity::from_score(-3.1), Some(Severity::Medium));
        assert_eq!(Severity::from_score(4.5), Some(Severity::High));
        assert_eq!(Severity::from_score(5.01), Some(Severity::Critical));
    }
}
