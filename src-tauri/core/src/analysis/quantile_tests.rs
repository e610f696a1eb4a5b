//! The cases of Prometheus v2.42.0 `promql/testdata/histograms.test`, with
//! the bucket values each `eval` sees (rates are proportional to the raw
//! counts there, and the quantile is scale-free), plus edge cases.

use super::*;

const INF: f64 = f64::INFINITY;

fn close(got: f64, want: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    // histograms.test prints some expectations to 10 digits.
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

fn check(q: f64, buckets: &[(f64, f64)], want: f64) {
    let got = histogram_quantile(q, buckets);
    assert!(
        close(got, want),
        "q={q} {buckets:?}: got {got}, want {want}"
    );
}

/// `testhistogram_bucket` at 50m (`0+5x10` etc. is 10 steps in).
const POSITIVE: &[(f64, f64)] = &[(0.1, 50.0), (0.2, 70.0), (1.0, 110.0), (INF, 120.0)];
const NEGATIVE: &[(f64, f64)] = &[(-0.2, 10.0), (-0.1, 20.0), (0.3, 20.0), (INF, 30.0)];

#[test]
fn out_of_range_and_nan_quantiles() {
    for b in [POSITIVE, NEGATIVE] {
        check(-0.1, b, f64::NEG_INFINITY);
        check(1.01, b, INF);
        check(f64::NAN, b, f64::NAN);
    }
}

#[test]
fn lowest_and_highest_buckets() {
    check(0.0, POSITIVE, 0.0);
    check(0.0, NEGATIVE, -0.2);
    check(1.0, POSITIVE, 1.0);
    check(1.0, NEGATIVE, 0.3);
}

#[test]
fn useful_quantiles_of_testhistogram() {
    for (q, pos, neg) in [(0.2, 0.048, -0.2), (0.5, 0.15, -0.15), (0.8, 0.72, 0.3)] {
        check(q, POSITIVE, pos);
        check(q, NEGATIVE, neg);
        // Order of the input does not matter: Prometheus sorts.
        let mut reversed = POSITIVE.to_vec();
        reversed.reverse();
        check(q, &reversed, pos);
    }
}

#[test]
fn results_in_the_middle_of_a_bucket() {
    // testhistogram2 at 7m.
    let b = &[(0.0, 0.0), (2.0, 1.0), (4.0, 2.0), (6.0, 3.0), (INF, 3.0)];
    check(1.0 / 6.0, b, 1.0);
    check(0.5, b, 3.0);
    check(5.0 / 6.0, b, 5.0);
}

#[test]
fn aggregated_request_durations() {
    // sum by (le): everything in one.
    let all = &[(0.1, 10.0), (0.2, 19.0), (INF, 25.0)];
    check(0.3, all, 0.075);
    check(0.5, all, 0.1277777777777778);
    // by job.
    let job1 = &[(0.1, 3.0), (0.2, 8.0), (INF, 10.0)];
    let job2 = &[(0.1, 7.0), (0.2, 11.0), (INF, 15.0)];
    check(0.3, job1, 0.1);
    check(0.3, job2, 0.0642857142857143);
    check(0.5, job1, 0.14);
    check(0.5, job2, 0.1125);
    // by instance (ins1 = job1/ins1 + job2/ins1).
    let ins1 = &[(0.1, 4.0), (0.2, 7.0), (INF, 10.0)];
    let ins2 = &[(0.1, 6.0), (0.2, 12.0), (INF, 15.0)];
    check(0.3, ins1, 0.075);
    check(0.3, ins2, 0.075);
    check(0.5, ins1, 0.1333333333);
    check(0.5, ins2, 0.125);
    // by job and instance.
    for (b, q3, q5) in [
        ([(0.1, 1.0), (0.2, 3.0), (INF, 4.0)], 0.11, 0.15),
        (
            [(0.1, 2.0), (0.2, 5.0), (INF, 6.0)],
            0.09,
            0.1333333333333333,
        ),
        ([(0.1, 3.0), (0.2, 4.0), (INF, 6.0)], 0.06, 0.1),
        (
            [(0.1, 4.0), (0.2, 7.0), (INF, 9.0)],
            0.0675,
            0.1166666666666667,
        ),
    ] {
        check(0.3, &b, q3);
        check(0.5, &b, q5);
    }
}

#[test]
fn nonmonotonic_buckets_are_enveloped() {
    let b = &[
        (0.1, 20.0),
        (1.0, 10.0),
        (10.0, 50.0),
        (100.0, 40.0),
        (1000.0, 90.0),
        (INF, 80.0),
    ];
    check(0.01, b, 0.0045);
    check(0.5, b, 8.5);
    check(0.99, b, 979.75);
}

#[test]
fn equal_bounds_are_coalesced() {
    // mixed_bucket ins1: le="0.2", "2e-1" and "2.0e-1" are one bound.
    let b = &[(0.1, 1.0), (0.2, 1.0), (0.2, 1.0), (0.2, 1.0), (INF, 4.0)];
    check(0.5, b, 0.15);
    check(0.75, b, 0.2);
    check(1.0, b, 0.2);
    // ins2: "+inf" and "+Inf" coalesce into one bucket: fewer than 2.
    check(0.5, &[(INF, 0.0), (INF, 0.0)], f64::NAN);
}

#[test]
fn degenerate_histograms_are_nan() {
    // empty_bucket: no observations.
    check(0.2, &[(0.1, 0.0), (0.2, 0.0), (INF, 0.0)], f64::NAN);
    // No +Inf bucket.
    check(0.5, &[(0.1, 1.0), (0.2, 2.0)], f64::NAN);
    // Only the +Inf bucket.
    check(0.5, &[(INF, 5.0)], f64::NAN);
    check(0.5, &[], f64::NAN);
}

#[test]
fn rank_in_the_inf_bucket_gives_the_second_highest_bound() {
    check(0.99, &[(0.1, 1.0), (0.5, 2.0), (INF, 100.0)], 0.5);
}

fn steps() -> HistogramSteps {
    HistogramSteps {
        times: vec![100, 160, 220, 280],
        le: vec![0.1, 0.5, INF],
        counts: vec![
            vec![10.0, 15.0, 20.0],
            vec![0.0, 0.0, 0.0],
            // Non-monotonic: 0.5 below 0.1.
            vec![8.0, 6.0, 10.0],
            // A missing bucket series.
            vec![4.0, f64::NAN, 10.0],
        ],
    }
}

#[test]
fn quantile_series_skips_steps_without_observations() {
    let s = quantile_series(&steps(), &[0.5, 0.99]);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].q, 0.5);
    let times: Vec<i64> = s[0].points.iter().map(|p| p.0).collect();
    assert_eq!(times, vec![100, 220, 280], "the empty step has no point");
    // Step 100: rank 10 reaches the first bucket exactly → its bound.
    assert!(close(s[0].points[0].1, 0.1));
    // Step 220 after the envelope: 8, 8, 10 → rank 5 in the first bucket.
    assert!(close(s[0].points[1].1, 0.0625));
    // Step 280 without the 0.5 bucket: (0.1, 4), (+Inf, 10) → rank 5 in
    // +Inf → 0.1.
    assert!(close(s[0].points[2].1, 0.1));
    // p99 at 100: rank 19.8 in +Inf → 0.5.
    assert!(close(s[1].points[0].1, 0.5));
}

#[test]
fn heatmap_counts_are_per_bucket_after_the_envelope() {
    let m = latency_heatmap_matrix(&steps());
    assert_eq!(m.times, vec![100, 160, 220, 280]);
    assert_eq!(m.counts[0], vec![Some(10.0), Some(5.0), Some(5.0)]);
    assert_eq!(m.counts[1], vec![Some(0.0), Some(0.0), Some(0.0)]);
    assert_eq!(m.counts[2], vec![Some(8.0), Some(0.0), Some(2.0)]);
    assert_eq!(m.counts[3], vec![Some(4.0), None, Some(6.0)]);
    // Each column adds up to the +Inf increase.
    for (t, row) in m.counts.iter().enumerate() {
        let sum: f64 = row.iter().flatten().sum();
        assert_eq!(sum, [20.0, 0.0, 10.0, 10.0][t]);
    }
}

#[test]
fn heatmap_sorts_an_unsorted_le() {
    let h = HistogramSteps {
        times: vec![1],
        le: vec![INF, 0.1],
        counts: vec![vec![5.0, 2.0]],
    };
    let m = latency_heatmap_matrix(&h);
    assert_eq!(m.le, vec![0.1, INF]);
    assert_eq!(m.counts[0], vec![Some(2.0), Some(3.0)]);
}
