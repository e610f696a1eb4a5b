//! Month-end cost forecast with an interval (issue 7 §3; BRIEF §9 A4).
//!
//! The model: additive Holt-Winters with a weekly period and a damped trend
//! (φ = 0.9, so a trend fades over about two weeks instead of running away
//! over a month). α, β and γ are picked per series from a small grid by the
//! one-step-ahead squared error. With fewer than two weeks of history there
//! is no season to fit: the forecast is the mean of the last (up to) seven
//! days. [`Method::SeasonalNaive`] (each day = the same weekday last week)
//! is the baseline the bench compares against.
//!
//! The interval is empirical, not Gaussian: the model is run over the
//! history once, and from every origin it forecasts the next days; the
//! relative errors `actual / forecast − 1` of those forecasts, per horizon
//! (and per k-day sum, for the month's remaining days), give the interval's
//! quantiles. Relative errors keep the interval meaningful after a scale
//! event (the same percent at twice the spend). Only the last
//! [`ForecastConfig::error_window`] origins count, so an old regime fades.
//! With too few origins for a horizon, the nearest horizon that has enough
//! is used; with none, there is no interval (and the result says so).

use serde::{Deserialize, Serialize};

use super::cost_series::{clean, month_bounds, CleanSeries, DailyCost};

const PERIOD: usize = 7;
const PHI: f64 = 0.9;
/// Two seasons to initialise Holt-Winters.
const HW_MIN_DAYS: usize = 2 * PERIOD;
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
    /// By day index mod 7.
    season: [f64; PERIOD],
}

impl HwState {
    fn init(y: &[f64]) -> HwState {
        let w1 = y[..PERIOD].iter().sum::<f64>() / PERIOD as f64;
        let w2 = y[PERIOD..2 * PERIOD].iter().sum::<f64>() / PERIOD as f64;
        let mut season = [0.0; PERIOD];
        for (i, s) in season.iter_mut().enumerate() {
            *s = ((y[i] - w1) + (y[i + PERIOD] - w2)) / 2.0;
        }
        HwState {
            // The level at the end of week 2 (index 13).
            level: w2 + (w2 - w1) / PERIOD as f64 * 3.0,
            trend: (w2 - w1) / PERIOD as f64,
            season,
        }
    }

    /// Forecast of day index `t + h` from the state after day `t`.
    fn forecast(&self, t: usize, h: usize) -> f64 {
        let damp: f64 = (1..=h).map(|i| PHI.powi(i as i32)).sum();
        self.level + damp * self.trend + self.season[(t + h) % PERIOD]
    }

    fn update(&mut self, t: usize, y: f64, p: &HwParams) {
        let s = self.season[t % PERIOD];
        let prev_level = self.level;
        let base = prev_level + PHI * self.trend;
        self.level = p.alpha * (y - s) + (1.0 - p.alpha) * base;
        self.trend = p.beta * (self.level - prev_level) + (1.0 - p.beta) * PHI * self.trend;
        self.season[t % PERIOD] = p.gamma * (y - base) + (1.0 - p.gamma) * s;
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
            for gamma in [0.05, 0.1, 0.2, 0.4] {
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

/// Relative-error quantiles `(low, high)` for sums of `k` days, k =
/// 1..=horizon, from the recent origins; `None` where there are too few.
fn error_bands(
    y: &[f64],
    origins: &[Option<Vec<f64>>],
    horizon: usize,
    cfg: &ForecastConfig,
) -> Vec<Option<(f64, f64)>> {
    let n = y.len();
    let qlo = (1.0 - cfg.level) / 2.0;
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
            Some((quantile(&errs, qlo), quantile(&errs, 1.0 - qlo)))
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

/// Forecasts the `horizon` days after the series' last day.
pub fn forecast_series(
    s: &CleanSeries,
    horizon: usize,
    cfg: &ForecastConfig,
) -> Result<DailyForecast, ForecastError> {
    check(cfg)?;
    if s.is_empty() {
        return Err(ForecastError::NoHistory);
    }
    let y = &s.model;
    let n = y.len();
    let (fitted, method, note) = Fitted::choose(cfg.method, n);
    let mut notes = s.notes.clone();
    notes.extend(note);
    let h = horizon.max(1);
    let origins = fitted.origins(y, h);
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
    let qlo = (1.0 - cfg.level) / 2.0;
    Some((quantile(&errs, qlo), quantile(&errs, 1.0 - qlo)))
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
        let covered = matches!((d.low, d.high), (Some(l), Some(h)) if l <= actual && actual <= h);
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
