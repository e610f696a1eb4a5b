//! The one place the CLI asks Prometheus for a histogram, through the
//! collectors' client (`cloudops_cloud::collect::prometheus`).

use cloudops_cloud::collect::prometheus::{PromError, PrometheusClient};
use cloudops_core::metrics::HistogramSteps;

use super::latency::HistogramSource;
use crate::output::{Failure, EXIT_ERROR, EXIT_USAGE};

impl From<PromError> for Failure {
    fn from(e: PromError) -> Failure {
        // A URL or query we should not have sent is the user's to fix.
        let exit = match e {
            PromError::Config { .. } | PromError::BadRequest { .. } => EXIT_USAGE,
            _ => EXIT_ERROR,
        };
        Failure {
            exit,
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// `sum by (le) (increase(<metric>_bucket{selector}[step]))` over the
/// range, as one histogram. No bucket series at all is an error: a typo in
/// the metric or the selector should not look like a quiet service.
pub fn histogram(source: &HistogramSource) -> Result<HistogramSteps, Failure> {
    let http = cloudops_cloud::rest::http_client().map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = PrometheusClient::url(&source.prometheus, http)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let metric = source.bucket_metric();
    let groups = runtime.block_on(client.histogram_increases(
        &metric,
        &source.selector,
        &[],
        source.start,
        source.end,
        source.step,
    ))?;
    match groups.into_iter().next() {
        Some((_, steps)) if !steps.times.is_empty() => Ok(steps),
        _ => Err(Failure {
            exit: EXIT_ERROR,
            kind: "no_series".into(),
            message: format!(
                "Prometheus at {} has no {metric}{} series in this range",
                client.endpoint(),
                source.selector
            ),
            hint: "check the metric name (a histogram, e.g. http_request_duration_seconds) \
                   and the selector, and that the range covers scraped data"
                .into(),
        }),
    }
}
