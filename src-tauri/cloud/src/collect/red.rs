//! RED (rate, errors, duration) per service from the cluster's Prometheus:
//! per-step increases of the request counter, of its failed requests, and
//! of each latency-histogram bucket. Quantiles are computed later from the
//! buckets (`cloudops_core::analysis`), so the stored data is the buckets.
//!
//! Each fetch reaches back `window` (aligned to the step), overlapping the
//! previous fetch: the store replaces the same (series, ts), and a pass
//! that missed a cycle fills its gap.

use std::{collections::BTreeMap, time::Duration};

use cloudops_core::metrics::{names, Sample, SeriesKey};

use super::{
    prometheus::{PrometheusClient, RangeSeries},
    CollectError, PrometheusLocation, RedMetricNames,
};

/// What the RED collector found.
pub struct RedOutcome {
    pub samples: Vec<Sample>,
    /// Where the data came from; `None` when no Prometheus was found.
    pub location: Option<PrometheusLocation>,
    /// Why there is no RED data, when there is none.
    pub note: Option<String>,
}

/// A bucket bound as Prometheus prints it: `0.005`, `1`, `+Inf`.
pub fn le_label(le: f64) -> String {
    if le == f64::INFINITY {
        "+Inf".into()
    } else {
        format!("{le}")
    }
}

/// The `[start, end]` of a fetch: `end` is the last whole step before
/// `now`, `start` one window earlier.
pub fn fetch_range(now: i64, window: Duration, step_secs: u32) -> (i64, i64) {
    let step = i64::from(step_secs.max(1));
    let end = now - now.rem_euclid(step);
    let span = (window.as_secs() as i64 / step).max(1) * step;
    (end - span, end)
}

fn counter_samples(
    cluster_id: &str,
    metric: &str,
    service_label: &str,
    series: Vec<RangeSeries>,
) -> Vec<Sample> {
    let mut out = Vec::new();
    for s in series {
        let service = s.labels.get(service_label).cloned().unwrap_or_default();
        let key = SeriesKey::new(cluster_id, metric, [("service", service.as_str())]);
        out.extend(
            s.points
                .into_iter()
                .filter(|(_, v)| v.is_finite())
                .map(|(ts, value)| Sample {
                    series: key.clone(),
                    ts,
                    value,
                }),
        );
    }
    out
}

/// Fetches RED for every service of the cluster.
pub async fn collect(
    client: &PrometheusClient,
    cluster_id: &str,
    names_cfg: &RedMetricNames,
    window: Duration,
    step_secs: u32,
    now: i64,
) -> Result<Vec<Sample>, CollectError> {
    let (start, end) = fetch_range(now, window, step_secs);
    let step = i64::from(step_secs.max(1));
    let by = [names_cfg.service_label.as_str()];
    let (buckets, requests, errors) = tokio::try_join!(
        client.histogram_increases(&names_cfg.latency_histogram, "", &by, start, end, step),
        client.counter_increases(&names_cfg.requests_total, "", &by, start, end, step),
        client.counter_increases(
            &names_cfg.requests_total,
            &names_cfg.error_matcher,
            &by,
            start,
            end,
            step
        ),
    )?;
    let mut samples = counter_samples(
        cluster_id,
        names::SERVICE_REQUESTS_INCREASE,
        &names_cfg.service_label,
        requests,
    );
    samples.extend(counter_samples(
        cluster_id,
        names::SERVICE_ERRORS_INCREASE,
        &names_cfg.service_label,
        errors,
    ));
    for (labels, steps) in buckets {
        let service = labels
            .get(&names_cfg.service_label)
            .cloned()
            .unwrap_or_default();
        let les: Vec<String> = steps.le.iter().map(|le| le_label(*le)).collect();
        let keys: Vec<SeriesKey> = les
            .iter()
            .map(|le| SeriesKey {
                cluster_id: cluster_id.to_owned(),
                metric: names::SERVICE_LATENCY_BUCKET_INCREASE.to_owned(),
                labels: BTreeMap::from([
                    ("service".to_owned(), service.clone()),
                    ("le".to_owned(), le.clone()),
                ]),
            })
            .collect();
        for (t, row) in steps.times.iter().zip(&steps.counts) {
            for (key, v) in keys.iter().zip(row) {
                // NaN is "no point at this step": a gap, not a zero.
                if v.is_finite() {
                    samples.push(Sample {
                        series: key.clone(),
                        ts: *t,
                        value: *v,
                    });
                }
            }
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_print_like_prometheus_and_ranges_align_to_the_step() {
        assert_eq!(le_label(0.005), "0.005");
        assert_eq!(le_label(1.0), "1");
        assert_eq!(le_label(2.5), "2.5");
        assert_eq!(le_label(f64::INFINITY), "+Inf");
        assert_eq!(
            fetch_range(1_000_030, Duration::from_secs(600), 60),
            (999_420, 1_000_020)
        );
        // A window shorter than a step still fetches one step.
        assert_eq!(fetch_range(120, Duration::from_secs(10), 60), (60, 120));
    }

    #[test]
    fn counters_become_per_service_samples_and_non_finite_points_are_gaps() {
        let series = vec![RangeSeries {
            labels: BTreeMap::from([("app".to_string(), "checkout".to_string())]),
            points: vec![(60, 12.0), (120, f64::NAN), (180, 3.0)],
        }];
        let s = counter_samples("c1", names::SERVICE_REQUESTS_INCREASE, "app", series);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].series.labels["service"], "checkout");
        assert_eq!((s[1].ts, s[1].value), (180, 3.0));
    }
}
