//! Month-end cost forecast with an interval (issue 7 §3; BRIEF §9 A4).
//!
//! Two models with a weekly period:
//! - Holt-Winters with a damped trend (φ = 0.9, so a trend fades over
//!   about two weeks instead of running away over a month), multiplicative
//!   seasonal factors when the history is positive (additive otherwise);
//!   α, β and γ are picked per series from a small grid by the one-step
//!   squared error;
//! - seasonal-naive: each day is the same weekday of the last week.
//!
//! [`Method::Auto`] (the default) runs both over the history and keeps the
//! one whose 1–7-day forecasts of the recent weeks erred less, seasonal-naive
//! unless Holt-Winters is clearly better (by [`HW_MARGIN`]): on the sandbox
//! histories (whole nodes on a schedule, repeating weeks) seasonal-naive is
//! the better model, and the choice is otherwise noise. With fewer than two
//! weeks there is no season to fit: the forecast is the mean of the last
//! (up to) seven days.
//!
//! The interval is empirical, not Gaussian: from every origin of the
//! history the model forecasts the next days, and the relative errors
//! `actual / forecast − 1`, per horizon (and per k-day sum, for the month's
//! remaining days), give the interval's bounds, with the split-conformal
//! finite-sample correction ([`band`]). Relative errors keep the interval
//! meaningful after a scale event (the same percent at twice the spend).
//! Only the last [`ForecastConfig::error_window`] origins count, so an old
//! regime fades. With too few origins for a horizon, the nearest shorter
//! one that has enough is used (widened by √(k/j) for sums); with none, there
//! is no interval, and the result says so.

use serde::{Deserialize, Serialize};

use super::cost_series::{clean, month_bounds, CleanSeries, DailyCost};

const PERIOD: usize = 7;
const PHI: f64 = 0.9;
/// Two seasons to initialise Holt-Winters.
const HW_MIN_DAYS: usize = 2 * PERIOD;
/// How much lower Holt-Winters' recent error must be for `Auto` to pick it
/// over seasonal-naive.
pub const HW_MARGIN: f64 = 0.85;
/// The fewest errors a quantile is taken from.
const MIN_ERRORS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Holt-Winters when there are two weeks, else the recent mean.
    Auto,
    HoltWinters,
    SeasonalNaive,
    /// The mean of the last (up to) seven days.
    RecentMean,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    pub method: Method,
    /// The interval's nominal coverage, e.g. 0.8 for the 10th–90th
    /// percentiles of the errors.
    pub level: f64,
    /// How many recent origins the errors come from.
    pub error_window: usize,
}

impl Default for ForecastConfig {
    fn default() -> ForecastConfig {
        ForecastConfig {
            method: Method::Auto,
            level: 0.8,
            error_window: 56,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("no cost history: not one day with an amount")]
    NoHistory,
    #[error("{0}")]
    BadInput(String),
}

impl ForecastError {
    pub fn kind(&self) -> &'static str {
        match self {
            ForecastError::NoHistory => "no_cost_history",
            ForecastError::BadInput(_) => "bad_forecast_input",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            ForecastError::NoHistory => {
                "Refresh the cost data first: a forecast needs at least one day of cost, and \
                 two weeks for a weekly pattern and an interval."
                    .into()
            }
            ForecastError::BadInput(_) => {
                "Check the forecast's arguments (the level is between 0 and 1, the hold-out \
                 shorter than the history)."
                    .into()
            }
        }
    }
}

/// One forecast day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayForecast {
    pub day: i64,
    pub value: f64,
    /// `None` when the history is too short for an interval.
    pub low: Option<f64>,
    pub high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyForecast {
    /// The method used (never `Auto`).
    pub method: Method,
    pub level: f64,
    pub days: Vec<DayForecast>,
    /// `[low, high]` of the sum of the forecast days.
    pub total: f64,
    pub total_low: Option<f64>,
    pub total_high: Option<f64>,
    pub notes: Vec<String>,
}

/// Additive Holt-Winters with a damped trend.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HwParams {
    alpha: f64,
    beta: f64,
    gamma: f64,
}

#[derive(Debug, Clone)]
struct HwState {
    level: f64,
    trend: f64,
    /// By day index mod 7: a factor (multiplicative) or an offset.
    season: [f64; PERIOD],
    /// Seasonal factors rather than offsets: chosen when the first two
    /// weeks are all positive. Cost seasonality is a ratio (weekends at
    /// 60 % of weekdays), so after a scale event the weekly swing scales
    /// with the level at once instead of being relearned.
    multiplicative: bool,
}

impl HwState {
    fn init(y: &[f64]) -> HwState {
        let w1 = y[..PERIOD].iter().sum::<f64>() / PERIOD as f64;
        let w2 = y[PERIOD..2 * PERIOD].iter().sum::<f64>() / PERIOD as f64;
        let multiplicative = y[..2 * PERIOD].iter().all(|v| *v > 0.0);
        let mut season = [0.0; PERIOD];
        for (i, s) in season.iter_mut().enumerate() {
            *s = if multiplicative {
                (y[i] / w1 + y[i + PERIOD] / w2) / 2.0
            } else {
                ((y[i] - w1) + (y[i + PERIOD] - w2)) / 2.0
            };
        }
        HwState {
            // The level at the end of week 2 (index 13).
            level: w2 + (w2 - w1) / PERIOD as f64 * 3.0,
            trend: (w2 - w1) / PERIOD as f64,
            season,
            multiplicative,
        }
    }

    /// Forecast of day index `t + h` from the state after day `t`.
    fn forecast(&self, t: usize, h: usize) -> f64 {
        let damp: f64 = (1..=h).map(|i| PHI.powi(i as i32)).sum();
        let base = self.level + damp * self.trend;
        let s = self.season[(t + h) % PERIOD];
        if self.multiplicative {
            base * s
        } else {
            base + s
        }
    }

    fn update(&mut self, t: usize, y: f64, p: &HwParams) {
        let s = self.season[t % PERIOD];
        let prev_level = self.level;
        let base = prev_level + PHI * self.trend;
        let (deseasoned, seasonal) = if self.multiplicative && s > 0.0 && base > 0.0 {
            (y / s, y / base)
        } else if self.multiplicative {
            // A zero level or factor: keep the season, follow the level.
            (y, s)
        } else {
            (y - s, y - base)
        };
        self.level = p.alpha * deseasoned + (1.0 - p.alpha) * base;
        self.trend = p.beta * (self.level - prev_level) + (1.0 - p.beta) * PHI * self.trend;
        self.season[t % PERIOD] = p.gamma * seasonal + (1.0 - p.gamma) * s;
    }
}

fn hw_sse(y: &[f64], p: &HwParams) -> f64 {
    let mut st = HwState::init(y);
    let mut sse = 0.0;
    for (t, &v) in y.iter().enumerate().skip(HW_MIN_DAYS) {
        let e = v - st.forecast(t - 1, 1);
        sse += e * e;
        st.update(t, v, p);
    }
    sse
}

fn fit_hw(y: &[f64]) -> HwParams {
    let mut best = (
        f64::INFINITY,
        HwParams {
            alpha: 0.3,
            beta: 0.05,
            gamma: 0.1,
        },
    );
    for alpha in [0.1, 0.2, 0.3, 0.5, 0.7, 0.9] {
        for beta in [0.0, 0.05, 0.15] {
            for gamma in [0.05, 0.1, 0.2, 0.4, 0.7] {
                let p = HwParams { alpha, beta, gamma };
                let sse = hw_sse(y, &p);
                if sse < best.0 {
                    best = (sse, p);
                }
            }
        }
    }
    best.1
}

/// A model: forecasts `h` days ahead from the state after day `t`, for
/// every origin `t` up to the end of the series (Holt-Winters' parameters
/// are fitted on the whole series first).
enum Fitted {
    Hw,
    SeasonalNaive,
    RecentMean,
}

impl Fitted {
    fn choose(method: Method, n: usize) -> (Fitted, Method, Option<String>) {
        let short = |asked: &str| {
            Some(format!(
                "fewer than {HW_MIN_DAYS} days of history: {asked} needs two weeks, the \
                 forecast is the mean of the last days"
            ))
        };
        match method {
            Method::Auto | Method::HoltWinters if n >= HW_MIN_DAYS => {
                (Fitted::Hw, Method::HoltWinters, None)
            }
            Method::SeasonalNaive if n >= PERIOD => (Fitted::SeasonalNaive, method, None),
            Method::SeasonalNaive => (
                Fitted::RecentMean,
                Method::RecentMean,
                short("seasonal-naive"),
            ),
            Method::RecentMean => (Fitted::RecentMean, method, None),
            Method::Auto | Method::HoltWinters => (
                Fitted::RecentMean,
                Method::RecentMean,
                short("Holt-Winters"),
            ),
        }
    }

    /// `out[t][h-1]` = the forecast of day `t + h` made after day `t`, for
    /// every origin the model can forecast from (`None` before that), and
    /// `h` up to `horizon`; the last origin is the end of the series.
    fn origins(&self, y: &[f64], horizon: usize) -> Vec<Option<Vec<f64>>> {
        let n = y.len();
        let mut out = vec![None; n];
        match self {
            Fitted::Hw => {
                let p = fit_hw(y);
                let mut st = HwState::init(y);
                for (t, slot) in out.iter_mut().enumerate().skip(HW_MIN_DAYS - 1) {
                    if t >= HW_MIN_DAYS {
                        st.update(t, y[t], &p);
                    }
                    *slot = Some((1..=horizon).map(|h| st.forecast(t, h)).collect());
                }
            }
            Fitted::SeasonalNaive => {
                for (t, slot) in out.iter_mut().enumerate().skip(PERIOD - 1) {
                    *slot = Some(
                        (1..=horizon)
                            .map(|h| {
                                let back = PERIOD * h.div_ceil(PERIOD);
                                y[t + h - back]
                            })
                            .collect(),
                    );
                }
            }
            Fitted::RecentMean => {
                for (t, slot) in out.iter_mut().enumerate() {
                    let from = (t + 1).saturating_sub(PERIOD);
                    let m = y[from..=t].iter().sum::<f64>() / (t + 1 - from) as f64;
                    *slot = Some(vec![m; horizon]);
                }
            }
        }
        out
    }
}

/// The `q` quantile (linear interpolation) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The `(low, high)` relative errors of a `level` interval from sorted
/// errors, with the split-conformal finite-sample correction: each tail's
/// quantile is taken at `⌈(m+1)(1+level)/2⌉ / m` of the `m` errors rather
/// than at `(1+level)/2`, which is what makes the coverage hold on the next
/// day rather than only on the errors seen (a few more percent of width
/// for the ~50 errors a daily series has).
fn band(sorted: &[f64], level: f64) -> (f64, f64) {
    let m = sorted.len() as f64;
    let upper = (((m + 1.0) * (1.0 + level) / 2.0).ceil() / m).min(1.0);
    (quantile(sorted, 1.0 - upper), quantile(sorted, upper))
}

/// Relative-error quantiles `(low, high)` for sums of `k` days, k =
/// 1..=horizon, from the recent origins; `None` where there are too few.
fn error_bands(
    y: &[f64],
    origins: &[Option<Vec<f64>>],
    horizon: usize,
    cfg: &ForecastConfig,
) -> Vec<Option<(f64, f64)>> {
    let n = y.len();
    (1..=horizon)
        .map(|k| {
            let mut errs: Vec<f64> = origins
                .iter()
                .enumerate()
                .filter(|(t, _)| t + k < n)
                .filter_map(|(t, fc)| {
                    let fc = fc.as_ref()?;
                    let f: f64 = fc[..k].iter().sum();
                    let a: f64 = y[t + 1..=t + k].iter().sum();
                    (f > 0.0).then(|| a / f - 1.0)
                })
                .filter(|e| e.is_finite())
                .collect();
            let keep = errs.len().saturating_sub(cfg.error_window.max(MIN_ERRORS));
            errs.drain(..keep);
            if errs.len() < MIN_ERRORS {
                return None;
            }
            errs.sort_by(f64::total_cmp);
            Some(band(&errs, cfg.level))
        })
        .collect()
}

/// The band for `k`, or the nearest shorter one that has enough errors,
/// widened by sqrt(k/j) (errors of longer sums are larger); `None` if none.
fn band_for(bands: &[Option<(f64, f64)>], k: usize) -> Option<(f64, f64)> {
    (1..=k).rev().find_map(|j| {
        bands[j - 1].map(|(lo, hi)| {
            let w = (k as f64 / j as f64).sqrt();
            (lo * w, hi * w)
        })
    })
}

fn check(cfg: &ForecastConfig) -> Result<(), ForecastError> {
    if !(cfg.level > 0.0 && cfg.level < 1.0) {
        return Err(ForecastError::BadInput(format!(
            "interval level {} is not between 0 and 1",
            cfg.level
        )));
    }
    Ok(())
}

/// The longest forecast (and hold-out) in days: a year is plenty for a
/// month-end forecast, and it bounds the per-origin forecasts kept.
pub const MAX_HORIZON: usize = 366;

/// Forecasts the `horizon` days after the series' last day.
pub fn forecast_series(
    s: &CleanSeries,
    horizon: usize,
    cfg: &ForecastConfig,
) -> Result<DailyForecast, ForecastError> {
    check(cfg)?;
    if horizon > MAX_HORIZON {
        return Err(ForecastError::BadInput(format!(
            "a forecast of {horizon} days is longer than {MAX_HORIZON}"
        )));
    }
    if s.is_empty() {
        return Err(ForecastError::NoHistory);
    }
    let y = &s.model;
    let n = y.len();
    let (fitted, mut method, note) = Fitted::choose(cfg.method, n);
    let mut notes = s.notes.clone();
    notes.extend(note);
    let h = horizon.max(PERIOD);
    let mut origins = fitted.origins(y, h);
    if cfg.method == Method::Auto && method == Method::HoltWinters {
        // Auto keeps whichever of Holt-Winters and seasonal-naive forecast
        // the last weeks better: a series that repeats its week almost
        // exactly (whole nodes on a schedule) is best copied, a noisy one
        // smoothed.
        let naive = Fitted::SeasonalNaive.origins(y, h);
        let (hw_err, naive_err) = (recent_error(y, &origins, cfg), recent_error(y, &naive, cfg));
        if let (Some(hw), Some(sn)) = (hw_err, naive_err) {
            // The simpler model wins unless Holt-Winters is clearly
            // better: on the sandbox histories the choice is otherwise
            // noise (`cloudops bench cost-forecast`).
            if sn < hw / HW_MARGIN {
                origins = naive;
                method = Method::SeasonalNaive;
            }
        }
    }
    let bands = error_bands(y, &origins, h, cfg);
    let last = origins[n - 1].clone().unwrap_or_else(|| vec![y[n - 1]; h]);
    // Costs are not negative: a trend run below zero is clipped.
    let point: Vec<f64> = last.iter().map(|v| v.max(0.0)).collect();
    let days: Vec<DayForecast> = (0..horizon)
        .map(|i| {
            // Each day's band comes from the errors of its own horizon, or
            // the nearest shorter horizon with enough of them.
            let band = (1..=i + 1)
                .rev()
                .find_map(|j| day_band(y, &origins, j, cfg));
            let v = point[i];
            DayForecast {
                day: s.last_day() + 1 + i as i64,
                value: v,
                low: band.map(|(lo, _)| (v * (1.0 + lo)).max(0.0)),
                high: band.map(|(_, hi)| v * (1.0 + hi)),
            }
        })
        .collect();
    let total: f64 = point[..horizon].iter().sum();
    let total_band = (horizon > 0).then(|| band_for(&bands, horizon)).flatten();
    if total_band.is_none() && horizon > 0 {
        notes.push("too little history for an interval".into());
    }
    Ok(DailyForecast {
        method,
        level: cfg.level,
        days,
        total,
        total_low: total_band.map(|(lo, _)| (total * (1.0 + lo)).max(0.0)),
        total_high: total_band.map(|(_, hi)| total * (1.0 + hi)),
        notes,
    })
}

/// The mean absolute relative error of the forecasts 1..=7 days ahead from
/// the recent origins; `None` with too few.
fn recent_error(y: &[f64], origins: &[Option<Vec<f64>>], cfg: &ForecastConfig) -> Option<f64> {
    let n = y.len();
    let mut errs: Vec<f64> = Vec::new();
    for (t, fc) in origins.iter().enumerate() {
        let Some(fc) = fc else { continue };
        if t + PERIOD >= n {
            break;
        }
        let e: f64 = (1..=PERIOD)
            .map(|h| {
                let f = fc[h - 1];
                if f > 0.0 {
                    (y[t + h] / f - 1.0).abs()
                } else {
                    1.0
                }
            })
            .sum::<f64>()
            / PERIOD as f64;
        errs.push(e);
    }
    let keep = errs.len().saturating_sub(cfg.error_window.max(MIN_ERRORS));
    let recent = &errs[keep..];
    (recent.len() >= MIN_ERRORS).then(|| recent.iter().sum::<f64>() / recent.len() as f64)
}

/// The relative-error band of single days `h` ahead.
fn day_band(
    y: &[f64],
    origins: &[Option<Vec<f64>>],
    h: usize,
    cfg: &ForecastConfig,
) -> Option<(f64, f64)> {
    let n = y.len();
    let mut errs: Vec<f64> = origins
        .iter()
        .enumerate()
        .filter(|(t, _)| t + h < n)
        .filter_map(|(t, fc)| {
            let f = *fc.as_ref()?.get(h - 1)?;
            (f > 0.0).then(|| y[t + h] / f - 1.0)
        })
        .filter(|e| e.is_finite())
        .collect();
    let keep = errs.len().saturating_sub(cfg.error_window.max(MIN_ERRORS));
    errs.drain(..keep);
    if errs.len() < MIN_ERRORS {
        return None;
    }
    errs.sort_by(f64::total_cmp);
    Some(band(&errs, cfg.level))
}

/// The month holding `through`: what was spent up to and including that
/// day, and the forecast of the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthForecast {
    pub month_first_day: i64,
    pub month_last_day: i64,
    /// The last day counted as actual.
    pub through: i64,
    /// Σ of the month's given amounts up to `through` (credits included).
    pub actual_to_date: f64,
    /// The model's values for days of the month missing from the history.
    pub filled_to_date: f64,
    pub forecast_remaining: f64,
    pub total: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    pub method: Method,
    pub days: Vec<DayForecast>,
    pub notes: Vec<String>,
}

/// The month-end forecast for the month holding the history's last day.
pub fn month_end_forecast(
    history: &[DailyCost],
    cfg: &ForecastConfig,
) -> Result<MonthForecast, ForecastError> {
    let s = clean(history).ok_or(ForecastError::NoHistory)?;
    let through = s.last_day();
    let (first, last) = month_bounds(through);
    let remaining = (last - through) as usize;
    let f = forecast_series(&s, remaining, cfg)?;
    let (mut actual, mut filled) = (0.0, 0.0);
    for day in first.max(s.first_day)..=through {
        let i = (day - s.first_day) as usize;
        match s.actual[i] {
            Some(a) => actual += a,
            None => filled += s.model[i],
        }
    }
    let known = actual + filled;
    let (low, high) = if remaining == 0 {
        (Some(known), Some(known))
    } else {
        (
            f.total_low.map(|l| known + l),
            f.total_high.map(|h| known + h),
        )
    };
    Ok(MonthForecast {
        month_first_day: first,
        month_last_day: last,
        through,
        actual_to_date: actual,
        filled_to_date: filled,
        forecast_remaining: f.total,
        total: known + f.total,
        low,
        high,
        level: f.level,
        method: f.method,
        days: f.days,
        notes: f.notes,
    })
}

/// One held-out day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BacktestDay {
    pub day: i64,
    pub actual: f64,
    pub forecast: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub covered: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    pub method: Method,
    pub holdout: usize,
    /// Mean absolute percentage error over the held-out days with a
    /// positive actual, in percent; `None` when there is none.
    pub mape: Option<f64>,
    /// Held-out days inside their interval / days with an interval.
    pub covered: usize,
    pub with_interval: usize,
    pub days: Vec<BacktestDay>,
    pub notes: Vec<String>,
}

impl Backtest {
    pub fn coverage(&self) -> Option<f64> {
        (self.with_interval > 0).then(|| self.covered as f64 / self.with_interval as f64)
    }
}

/// Fits on all but the last `holdout` days and scores the forecast of
/// those days against what happened.
pub fn backtest(
    history: &[DailyCost],
    holdout: usize,
    cfg: &ForecastConfig,
) -> Result<Backtest, ForecastError> {
    let s = clean(history).ok_or(ForecastError::NoHistory)?;
    if holdout == 0 || holdout >= s.len() {
        return Err(ForecastError::BadInput(format!(
            "cannot hold out {holdout} of {} days: keep at least one day to fit",
            s.len()
        )));
    }
    let split = s.len() - holdout;
    let train = CleanSeries {
        first_day: s.first_day,
        model: s.model[..split].to_vec(),
        actual: s.actual[..split].to_vec(),
        notes: s.notes.clone(),
    };
    let f = forecast_series(&train, holdout, cfg)?;
    let mut days = Vec::with_capacity(holdout);
    let (mut ape, mut scored) = (0.0, 0);
    for (i, d) in f.days.iter().enumerate() {
        // Scored against what was given; a gap is scored on its filled value.
        let actual = s.actual[split + i].unwrap_or(s.model[split + i]);
        if actual > 0.0 {
            ape += ((actual - d.value) / actual).abs();
            scored += 1;
        }
        // A rounding error's worth of slack: an exact forecast of a
        // repeating week has a zero-width interval.
        let eps = 1e-9 * actual.abs().max(1.0);
        let covered = matches!((d.low, d.high),
            (Some(l), Some(h)) if l - eps <= actual && actual <= h + eps);
        days.push(BacktestDay {
            day: d.day,
            actual,
            forecast: d.value,
            low: d.low,
            high: d.high,
            covered,
        });
    }
    let mut notes = f.notes;
    if scored < holdout {
        notes.push(format!(
            "{} held-out day(s) without a positive actual are left out of the MAPE",
            holdout - scored
        ));
    }
    Ok(Backtest {
        method: f.method,
        holdout,
        mape: (scored > 0).then(|| 100.0 * ape / scored as f64),
        covered: days.iter().filter(|d| d.covered).count(),
        with_interval: days.iter().filter(|d| d.low.is_some()).count(),
        days,
        notes,
    })
}

#[cfg(test)]
#[path = "cost_forecast_tests.rs"]
mod tests;
