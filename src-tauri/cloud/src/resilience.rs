//! Every outbound provider call goes through [`call`] (BRIEF §2): a timeout
//! per attempt, retries with jittered exponential backoff on transient
//! failures (429, 5xx, timeouts, connection errors) that honour the server's
//! `Retry-After`, and a circuit breaker per provider endpoint whose state the
//! UI shows.
//!
//! Retries come from `backon` (its `adjust` hook lets `Retry-After` replace
//! the computed delay). The breaker is ours: the crates for it are either
//! unmaintained or tied to tower services, and ours is ~80 lines.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, Instant},
};

use backon::{ExponentialBuilder, Retryable};
use cloudops_core::model::Provider as ProviderKind;
use serde::Serialize;

use crate::error::ProviderError;

/// How hard one logical call tries.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// Per attempt, not per call.
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            timeout: Duration::from_secs(20),
            retries: 3,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One trial call is allowed; its outcome closes or reopens the breaker.
    HalfOpen,
}

#[derive(Debug)]
struct BreakerInner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    trial_in_flight: bool,
}

/// A circuit breaker for one endpoint.
#[derive(Debug)]
pub struct Breaker {
    inner: Mutex<BreakerInner>,
    /// Consecutive transient failures that open it.
    threshold: u32,
    cool_down: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Breaker {
            inner: Mutex::new(BreakerInner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at: None,
                trial_in_flight: false,
            }),
            threshold: threshold.max(1),
            cool_down,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BreakerInner> {
        // A panic while holding this lock cannot leave the counters in a
        // state worse than "slightly off", so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.state {
            BreakerState::Open
                if inner
                    .opened_at
                    .is_some_and(|at| at.elapsed() >= self.cool_down) =>
            {
                BreakerState::HalfOpen
            }
            s => s,
        }
    }

    /// May a call go out now? `Err` carries how long until it may.
    pub fn acquire(&self) -> Result<(), Duration> {
        let mut inner = self.lock();
        match inner.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open => {
                let elapsed = inner.opened_at.map(|at| at.elapsed()).unwrap_or_default();
                if elapsed >= self.cool_down {
                    inner.state = BreakerState::HalfOpen;
                    inner.trial_in_flight = true;
                    Ok(())
                } else {
                    Err(self.cool_down - elapsed)
                }
            }
            BreakerState::HalfOpen if inner.trial_in_flight => Err(self.cool_down / 4),
            BreakerState::HalfOpen => {
                inner.trial_in_flight = true;
                Ok(())
            }
        }
    }

    /// The endpoint answered (even with a non-transient error such as 404 or
    /// 401: it is up).
    pub fn on_success(&self) {
        let mut inner = self.lock();
        inner.state = BreakerState::Closed;
        inner.consecutive_failures = 0;
        inner.opened_at = None;
        inner.trial_in_flight = false;
    }

    /// A transient failure.
    pub fn on_failure(&self) {
        let mut inner = self.lock();
        inner.trial_in_flight = false;
        match inner.state {
            BreakerState::HalfOpen => {
                inner.state = BreakerState::Open;
                inner.opened_at = Some(Instant::now());
            }
            BreakerState::Closed => {
                inner.consecutive_failures += 1;
                if inner.consecutive_failures >= self.threshold {
                    inner.state = BreakerState::Open;
                    inner.opened_at = Some(Instant::now());
                }
            }
            BreakerState::Open => {}
        }
    }
}

/// The breakers of every endpoint, plus a count of attempts that reached the
/// network (for the fault benchmarks and the diagnostics view).
#[derive(Debug)]
pub struct Breakers {
    map: Mutex<BTreeMap<String, Arc<Breaker>>>,
    threshold: u32,
    cool_down: Duration,
    attempts: AtomicU64,
}

impl Default for Breakers {
    fn default() -> Self {
        Breakers::new(5, Duration::from_secs(30))
    }
}

impl Breakers {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Breakers {
            map: Mutex::default(),
            threshold,
            cool_down,
            attempts: AtomicU64::new(0),
        }
    }

    /// The breaker for `endpoint` (`provider endpoint-url`), made on first use.
    pub fn get(&self, endpoint: &str) -> Arc<Breaker> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(endpoint.to_owned())
            .or_insert_with(|| Arc::new(Breaker::new(self.threshold, self.cool_down)))
            .clone()
    }

    /// Every endpoint's state, for the UI.
    pub fn states(&self) -> Vec<(String, BreakerState)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, b)| (k.clone(), b.state())).collect()
    }

    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }
}

/// Runs `op` under the policy and the endpoint's breaker. `op` is one
/// attempt; it is called again for each retry.
pub async fn call<T, F, Fut>(
    policy: &CallPolicy,
    breakers: &Breakers,
    provider: ProviderKind,
    endpoint: &str,
    op: F,
) -> Result<T, ProviderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let breaker = breakers.get(&format!("{provider} {endpoint}"));
    let op = &op;
    let breaker = &breaker;
    let attempt = || async move {
        breaker
            .acquire()
            .map_err(|retry_in| ProviderError::CircuitOpen {
                provider,
                endpoint: endpoint.to_owned(),
                retry_in,
            })?;
        breakers.attempts.fetch_add(1, Ordering::Relaxed);
        let result = match tokio::time::timeout(policy.timeout, op()).await {
            Ok(r) => r,
            Err(_) => Err(ProviderError::Timeout {
                provider,
                endpoint: endpoint.to_owned(),
                after: policy.timeout,
            }),
        };
        match &result {
            Err(e) if e.is_transient() => breaker.on_failure(),
            _ => breaker.on_success(),
        }
        result
    };
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.retries)
        .with_jitter();
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(ProviderError::is_transient)
        // The server knows best when to come back; cap it so one bad header
        // cannot park discovery for an hour.
        .adjust(|e, computed| match (e.retry_after(), computed) {
            (Some(server), Some(_)) => Some(server.min(Duration::from_secs(60))),
            (_, computed) => computed,
        })
        .notify(|e, after| {
            tracing::debug!(%provider, endpoint, error = %e, ?after, "retrying");
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    fn fast_policy() -> CallPolicy {
        CallPolicy {
            timeout: Duration::from_millis(200),
            retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        }
    }

    fn server_error() -> ProviderError {
        ProviderError::Server {
            provider: ProviderKind::DigitalOcean,
            status: 503,
            message: "down".into(),
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let breakers = Breakers::default();
        let calls = AtomicU32::new(0);
        let out = call(
            &fast_policy(),
            &breakers,
            ProviderKind::DigitalOcean,
            "e",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(server_error())
                } else {
                    Ok(7)
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(out, 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(breakers.attempts(), 3);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let breakers = Breakers::default();
        let calls = AtomicU32::new(0);
        let err = call(
            &fast_policy(),
            &breakers,
            ProviderKind::Aws,
            "e",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(ProviderError::Unauthorized {
                    provider: ProviderKind::Aws,
                    status: 401,
                    message: "expired".into(),
                })
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "unauthorized");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_slow_attempt_times_out_and_counts_as_transient() {
        let breakers = Breakers::default();
        let policy = CallPolicy {
            timeout: Duration::from_millis(20),
            retries: 1,
            ..fast_policy()
        };
        let err = call(&policy, &breakers, ProviderKind::Gcp, "slow", || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, ProviderError>(())
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "timeout");
        assert_eq!(breakers.attempts(), 2);
    }

    #[tokio::test]
    async fn retry_after_replaces_the_computed_delay() {
        let breakers = Breakers::default();
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        call(
            &fast_policy(),
            &breakers,
            ProviderKind::Azure,
            "e",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(ProviderError::Throttled {
                        provider: ProviderKind::Azure,
                        message: "slow down".into(),
                        retry_after: Some(Duration::from_millis(150)),
                    })
                } else {
                    Ok(())
                }
            },
        )
        .await
        .unwrap();
        // The policy's own delays are ≤ 5 ms; only Retry-After explains this.
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[test]
    fn breaker_opens_after_the_threshold_then_half_opens_and_closes() {
        let b = Breaker::new(3, Duration::from_millis(30));
        for _ in 0..2 {
            b.acquire().unwrap();
            b.on_failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.acquire().unwrap();
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.acquire().is_err());

        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.acquire().unwrap();
        // Only one trial at a time.
        assert!(b.acquire().is_err());
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);

        std::thread::sleep(Duration::from_millis(40));
        b.acquire().unwrap();
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed);
        b.acquire().unwrap();
    }

    #[tokio::test]
    async fn an_open_breaker_refuses_without_calling() {
        let breakers = Breakers::new(1, Duration::from_secs(60));
        let policy = CallPolicy {
            retries: 0,
            ..fast_policy()
        };
        let _ = call(
            &policy,
            &breakers,
            ProviderKind::DigitalOcean,
            "e",
            || async { Err::<(), _>(server_error()) },
        )
        .await;
        let calls = AtomicU32::new(0);
        let err = call(
            &policy,
            &breakers,
            ProviderKind::DigitalOcean,
            "e",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "circuit_open");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(
            breakers.states(),
            vec![("do e".to_string(), BreakerState::Open)]
        );
    }
}
