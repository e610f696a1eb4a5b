//! Issue 4 "Faults" (BRIEF §9 R1): with sandbox chaos, 30% 5xx/429 on one
//! provider and one region down, discovery completes, returns every cluster
//! outside the failed region, flags the failed region, keeps its request
//! count under 3× the fault-free run, and the failed endpoint's breaker
//! opens, then recovers once the fault is cleared and the cool-down passed.

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};

use cloudops_cloud::{
    ambient::Shared,
    discovery::{discover_env, Limits, Report},
    resilience::{BreakerState, Breakers, CallPolicy},
};
use cloudops_core::model::Provider as ProviderKind;
use cloudops_sandbox::{chaos::Fault, chaos::Target, Cloud, RunningSandbox, Sandbox, World};

/// Longer than the faulty run (whose 429s carry `Retry-After: 1`), so the
/// breaker is still open when it ends.
const COOL_DOWN: Duration = Duration::from_secs(2);
/// The outage is on AWS because EKS is regional: its breakers and its
/// discovery scopes are per region, so the failed region is its own source.
const DOWN_REGION: &str = "us-east-1";

fn shared() -> Shared {
    let policy = CallPolicy {
        timeout: Duration::from_secs(5),
        retries: 3,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    let mut shared = Shared::new(policy).unwrap();
    shared.breakers = Arc::new(Breakers::new(3, COOL_DOWN));
    shared
}

fn total_requests(sandbox: &RunningSandbox) -> u64 {
    Cloud::ALL.iter().map(|c| sandbox.request_count(*c)).sum()
}

async fn discover(sandbox: &RunningSandbox, shared: &Shared) -> (Report, u64, Duration) {
    let vars = sandbox.env_map();
    let before = total_requests(sandbox);
    let t = Instant::now();
    let report = discover_env(
        &|k: &str| vars.get(k).cloned(),
        shared,
        &Limits::default(),
        |_| {},
    )
    .await
    .expect("the sandbox configures every cloud");
    (report, total_requests(sandbox) - before, t.elapsed())
}

fn names(report: &Report) -> BTreeSet<(ProviderKind, String)> {
    report
        .clusters
        .iter()
        .map(|c| (c.provider, c.locator.name.clone()))
        .collect()
}

fn kind(cloud: Cloud) -> ProviderKind {
    match cloud {
        Cloud::Aws => ProviderKind::Aws,
        Cloud::Gcp => ProviderKind::Gcp,
        Cloud::Azure => ProviderKind::Azure,
        Cloud::DigitalOcean => ProviderKind::DigitalOcean,
    }
}

fn down_breaker(shared: &Shared) -> BreakerState {
    let states = shared.breakers.states();
    states
        .iter()
        .find(|(k, _)| k.starts_with("aws ") && k.contains(&format!("({DOWN_REGION})")))
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("no breaker for {DOWN_REGION} in {states:?}"))
}

#[tokio::test]
async fn discovery_under_chaos_returns_the_rest_flags_the_region_and_the_breaker_recovers() {
    let world = World::default();
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world.clone()).unwrap();
    let all: BTreeSet<(ProviderKind, String)> = world
        .read()
        .clusters
        .iter()
        .map(|c| (kind(c.cloud), c.name.clone()))
        .collect();
    let outside: BTreeSet<(ProviderKind, String)> = world
        .read()
        .clusters
        .iter()
        .filter(|c| !(c.cloud == Cloud::Aws && c.region == DOWN_REGION))
        .map(|c| (kind(c.cloud), c.name.clone()))
        .collect();
    assert!(
        outside.len() < all.len(),
        "the world has clusters in {DOWN_REGION}"
    );

    // Fault-free baseline.
    let (clean, clean_requests, clean_took) = discover(&sandbox, &shared()).await;
    assert!(!clean.is_partial(), "{:?}", clean.errors);
    assert_eq!(names(&clean), all);

    // 30% of AWS calls fail (half 503, half 429 with Retry-After), and one
    // AWS region is down.
    let chaos = sandbox.chaos();
    chaos
        .add(Fault::ErrorRate {
            cloud: Target::Aws,
            rate: 0.15,
            status: 503,
            retry_after_secs: None,
            seed: Some(11),
        })
        .unwrap();
    // 0.15 + 0.85 × 0.1765 ≈ 0.30 in all.
    chaos
        .add(Fault::ErrorRate {
            cloud: Target::Aws,
            rate: 0.1765,
            status: 429,
            retry_after_secs: Some(1),
            seed: Some(12),
        })
        .unwrap();
    let outage = chaos
        .add(Fault::RegionOutage {
            cloud: Target::Aws,
            region: DOWN_REGION.into(),
        })
        .unwrap();
    let shared = shared();
    let (faulty, faulty_requests, faulty_took) = discover(&sandbox, &shared).await;
    println!(
        "faults: fault-free {clean_requests} requests in {clean_took:?}; \
         with chaos {faulty_requests} requests in {faulty_took:?} ({:.2}×); errors {:?}",
        faulty_requests as f64 / clean_requests as f64,
        faulty
            .errors
            .iter()
            .map(|e| format!("{} {} {}", e.provider, e.scope, e.kind))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        names(&faulty),
        outside,
        "every cluster outside {DOWN_REGION}"
    );
    assert_eq!(faulty.errors.len(), 1, "{:?}", faulty.errors);
    let e = &faulty.errors[0];
    assert_eq!(e.provider, ProviderKind::Aws);
    assert!(e.scope.contains(DOWN_REGION), "{e:?}");
    assert!(
        e.message.contains(DOWN_REGION),
        "the message names the region: {e:?}"
    );
    assert!(
        faulty_requests < 3 * clean_requests,
        "{faulty_requests} requests with faults vs {clean_requests} without"
    );
    assert_eq!(down_breaker(&shared), BreakerState::Open);
    // A scope's failure is not a complete listing: nothing is marked gone.
    assert!(!faulty
        .complete
        .iter()
        .any(|s| s.provider == ProviderKind::Aws && s.scope == DOWN_REGION));

    // Clear the faults; after the cool-down the next discovery's trial call
    // goes through and closes the breaker.
    assert!(chaos.clear(outage));
    chaos.clear_all();
    tokio::time::sleep(COOL_DOWN + Duration::from_millis(50)).await;
    assert_eq!(down_breaker(&shared), BreakerState::HalfOpen);
    let (healed, _, _) = discover(&sandbox, &shared).await;
    assert!(!healed.is_partial(), "{:?}", healed.errors);
    assert_eq!(names(&healed), all);
    assert_eq!(down_breaker(&shared), BreakerState::Closed);
    sandbox.shutdown().await.unwrap();
}
