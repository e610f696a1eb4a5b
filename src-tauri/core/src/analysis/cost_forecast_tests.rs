use super::*;
use crate::analysis::cost_series::day_from_civil;

/// A deterministic noise source in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// `days` of cost from `first`: a base with weekends at 60 %, ±`noise`
/// relative noise, and the base times `scale` from day `scale_at` on.
fn series(
    first: i64,
    days: usize,
    noise: f64,
    scale_at: usize,
    scale: f64,
    seed: u64,
) -> Vec<DailyCost> {
    let mut rng = Lcg(seed);
    (0..days)
        .map(|i| {
            let day = first + i as i64;
            let weekend = super::super::cost_series::weekday(day) >= 5;
            let base = if i >= scale_at { 100.0 * scale } else { 100.0 };
            let v = base * if weekend { 0.6 } else { 1.0 } * (1.0 + noise * rng.next());
            DailyCost { day, amount: v }
        })
        .collect()
}

const NOV_1: i64 = 20_393; // 2025-11-01

#[test]
fn a_clean_weekly_pattern_is_forecast_almost_exactly() {
    let h = series(NOV_1, 70, 0.0, usize::MAX, 1.0, 1);
    for method in [Method::HoltWinters, Method::SeasonalNaive] {
        let cfg = ForecastConfig {
            method,
            ..Default::default()
        };
        let b = backtest(&h, 7, &cfg).unwrap();
        assert_eq!(b.method, method);
        assert!(b.mape.unwrap() < 0.5, "{method:?}: {:?}", b.mape);
        assert_eq!(b.days.len(), 7);
        assert_eq!(b.coverage(), Some(1.0), "{method:?}: {b:#?}");
    }
    // The weekly pattern matters: the plain mean misses weekends by far.
    let mean = backtest(
        &h,
        7,
        &ForecastConfig {
            method: Method::RecentMean,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(mean.mape.unwrap() > 10.0, "{:?}", mean.mape);
}

/// Noisy histories with a scale event: the 80 % interval covers about
/// 80 % of held-out days over many series, and Holt-Winters beats the plain
/// mean.
#[test]
fn the_interval_covers_most_held_out_days_on_noisy_histories() {
    let (mut covered, mut total, mut hw_mape, mut mean_mape) = (0, 0, 0.0, 0.0);
    for seed in 0..40u64 {
        let h = series(NOV_1, 120, 0.08, 60 + seed as usize, 1.5, seed);
        let b = backtest(&h, 7, &ForecastConfig::default()).unwrap();
        assert_eq!(b.method, Method::HoltWinters);
        covered += b.covered;
        total += b.with_interval;
        hw_mape += b.mape.unwrap();
        let m = backtest(
            &h,
            7,
            &ForecastConfig {
                method: Method::RecentMean,
                ..Default::default()
            },
        )
        .unwrap();
        mean_mape += m.mape.unwrap();
    }
    assert_eq!(total, 40 * 7);
    let coverage = covered as f64 / total as f64;
    eprintln!(
        "coverage {coverage:.3}, MAPE HW {:.2} % vs mean {:.2} %",
        hw_mape / 40.0,
        mean_mape / 40.0
    );
    assert!((0.7..=0.97).contains(&coverage), "coverage {coverage}");
    assert!(hw_mape < mean_mape / 2.0, "{hw_mape} vs {mean_mape}");
}

#[test]
fn month_end_adds_actuals_to_the_forecast_of_the_rest() {
    // $10 a day through the 10th of November (30 days).
    let h: Vec<DailyCost> = (0..40)
        .map(|i| DailyCost {
            day: NOV_1 - 30 + i,
            amount: 10.0,
        })
        .collect();
    let f = month_end_forecast(&h, &ForecastConfig::default()).unwrap();
    assert_eq!(f.through, NOV_1 + 9);
    assert_eq!(
        (f.month_first_day, f.month_last_day),
        (NOV_1, day_from_civil(2025, 11, 30))
    );
    assert!((f.actual_to_date - 100.0).abs() < 1e-9);
    assert_eq!(f.days.len(), 20);
    assert!((f.total - 300.0).abs() < 1e-6, "{}", f.total);
    let (lo, hi) = (f.low.unwrap(), f.high.unwrap());
    assert!(lo <= f.total && f.total <= hi && hi - lo < 1.0, "{lo} {hi}");

    // On the month's last day nothing is left to forecast.
    let h: Vec<DailyCost> = (0..30)
        .map(|i| DailyCost {
            day: NOV_1 + i,
            amount: 2.0,
        })
        .collect();
    let f = month_end_forecast(&h, &ForecastConfig::default()).unwrap();
    assert!(f.days.is_empty());
    assert_eq!((f.low, f.high), (Some(60.0), Some(60.0)));
    assert!((f.total - 60.0).abs() < 1e-9);
}

#[test]
fn bad_input_gives_clear_answers() {
    let cfg = ForecastConfig::default();
    assert_eq!(
        month_end_forecast(&[], &cfg).unwrap_err(),
        ForecastError::NoHistory
    );
    let nan = [DailyCost {
        day: NOV_1,
        amount: f64::NAN,
    }];
    let e = month_end_forecast(&nan, &cfg).unwrap_err();
    assert_eq!(e.kind(), "no_cost_history");
    assert!(!e.hint().is_empty());

    // One day: the mean of what there is, no interval, and a note.
    let one = [DailyCost {
        day: NOV_1 + 4,
        amount: 12.0,
    }];
    let f = month_end_forecast(&one, &cfg).unwrap();
    assert_eq!(f.method, Method::RecentMean);
    // The days before the history began are not invented: the 5th as
    // given, then 25 forecast days.
    assert!((f.total - 12.0 * 26.0).abs() < 1e-9, "{}", f.total);
    assert_eq!((f.low, f.high), (None, None));
    assert!(
        f.notes.iter().any(|n| n.contains("interval")),
        "{:?}",
        f.notes
    );

    // A credit counts in the month's actual but not in the model.
    let mut h = series(NOV_1 - 28, 38, 0.0, usize::MAX, 1.0, 3);
    let credit_day = h.len() - 2;
    h[credit_day].amount = -500.0;
    let f = month_end_forecast(&h, &cfg).unwrap();
    let given: f64 = h.iter().filter(|d| d.day >= NOV_1).map(|d| d.amount).sum();
    assert!((f.actual_to_date - given).abs() < 1e-9);
    assert!(f.forecast_remaining > 0.0);
    assert!(
        f.notes.iter().any(|n| n.contains("credit")),
        "{:?}",
        f.notes
    );
    // And the forecast still follows the pattern: no weekly -500 dip.
    assert!(f.days.iter().all(|d| d.value > 30.0), "{:?}", f.days);

    // Bad arguments.
    for level in [0.0, 1.0, f64::NAN] {
        let cfg = ForecastConfig {
            level,
            ..Default::default()
        };
        assert_eq!(
            month_end_forecast(&h, &cfg).unwrap_err().kind(),
            "bad_forecast_input"
        );
    }
    assert_eq!(
        backtest(&one, 7, &cfg).unwrap_err().kind(),
        "bad_forecast_input"
    );
    assert_eq!(
        backtest(&h, 0, &cfg).unwrap_err().kind(),
        "bad_forecast_input"
    );
    // A hold-out beyond a year is refused before anything is computed.
    let long = series(NOV_1 - 2000, 2000, 0.0, usize::MAX, 1.0, 5);
    assert_eq!(
        backtest(&long, MAX_HORIZON + 1, &cfg).unwrap_err().kind(),
        "bad_forecast_input"
    );
}

#[test]
fn a_gap_in_the_month_is_filled_and_kept_apart_from_actuals() {
    let mut h = series(NOV_1 - 21, 31, 0.0, usize::MAX, 1.0, 4);
    let gap = h.iter().position(|d| d.day == NOV_1 + 3).unwrap();
    let removed = h.remove(gap);
    let f = month_end_forecast(&h, &ForecastConfig::default()).unwrap();
    // The gap's value comes from the model (the same weekday a week
    // earlier, which this noiseless series repeats exactly).
    assert!((f.filled_to_date - removed.amount).abs() < 1e-9);
    assert!(f.notes.iter().any(|n| n.contains("missing")));
}
