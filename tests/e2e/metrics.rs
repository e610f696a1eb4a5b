//! Issue 5 end to end: the Cluster screen draws both heatmaps from what the
//! app collected, and an offline start shows every screen from the cache
//! with its age.

use std::net::SocketAddr;
use std::time::Duration;

use cloudops_cloud::{
    ambient::Shared,
    collect::{
        fleet::{collect_fleet, targets},
        persist::write_pass,
        CollectSettings,
    },
    discovery::Limits,
    resilience::CallPolicy,
    sources,
};
use cloudops_core::store::{now_ms, retention::Retention};
use cloudops_core::Store;
use cloudops_sandbox::{Sandbox, World};
use fantoccini::Locator;

use crate::driver::Session;

/// Discovery, then the first collection pass of a dozen clusters, in a
/// debug build on a busy 2-core machine.
const FIRST_PASS: Duration = Duration::from_secs(120);

async fn text_of(session: &Session, css: &str) -> String {
    session
        .wait_for(Locator::Css(css))
        .await
        .text()
        .await
        .unwrap_or_default()
}

/// A new machine on the sandbox: the app discovers, collects, and the
/// Cluster screen shows the node × time heatmap, the services table and a
/// service's latency heatmap, all read from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_screen_shows_both_heatmaps_from_collected_data() {
    let data_dir = tempfile::tempdir().unwrap();
    let session = Session::launch(data_dir.path(), &[]).await;
    session
        .wait_for(Locator::Css("[data-testid=sandbox-badge]"))
        .await;
    session
        .wait_for_count(Locator::Css("[data-testid=cluster-row]"), 12)
        .await;
    session.click("nav-clusters").await;
    session
        .wait_for(Locator::Css("[data-testid=cluster-detail]"))
        .await;
    // The screen re-reads the cache as collections land.
    session
        .wait_for_count_within(
            Locator::Css("[data-testid=resource-heatmap] svg"),
            1,
            FIRST_PASS,
        )
        .await;
    let nodes = session
        .wait_for_count(Locator::Css("[data-testid=node-row]"), 1)
        .await;
    assert!(!nodes.is_empty());
    let services = session
        .wait_for_count_within(Locator::Css("[data-testid^=service-row-]"), 1, FIRST_PASS)
        .await;
    let service = services[0].text().await.unwrap();
    // The table sits below the heatmap: bring the row into view, then click
    // its name cell (WebKitWebDriver clicks what is under the centre point).
    let cell = services[0]
        .find(Locator::Css("td"))
        .await
        .expect("the service row's first cell");
    session
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&cell).expect("element reference")],
        )
        .await
        .expect("scrolling the services table into view");
    cell.click().await.expect("selecting a service");
    session
        .wait_for_count_within(
            Locator::Css("[data-testid=latency-heatmap] svg"),
            1,
            Duration::from_secs(30),
        )
        .await;
    let latency = session
        .wait_for(Locator::Css("[data-testid=latency-heatmap]"))
        .await;
    session
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&latency).expect("element reference")],
        )
        .await
        .expect("scrolling to the latency heatmap");
    let age = text_of(&session, "[data-testid=data-age]").await;
    assert!(!age.contains("No metrics"), "data age: {age}");
    assert!(
        data_dir
            .path()
            .join("sandbox")
            .join("cache.sqlite3")
            .is_file(),
        "the samples are in the sandbox's cache"
    );
    eprintln!("e2e: latency heatmap of {service}");
    session.screenshot("cluster-heatmaps").await;
    session.click("nav-workloads").await;
    session
        .wait_for_count(Locator::Css("[data-testid=workload-row]"), 5)
        .await;
    session.screenshot("workloads-sandbox").await;
    session.close().await;
}

/// Fills `data_dir`'s cache the way the app does (discovery, one
/// collection pass) from a sandbox that is stopped afterwards.
async fn cache_from_a_sandbox_then_stop_it(data_dir: &std::path::Path) -> usize {
    let sandbox = Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), World::default())
        .expect("starting the sandbox");
    let vars = sandbox.env_map();
    let shared = Shared::new(CallPolicy::default()).expect("HTTP client");
    let lookup = |k: &str| vars.get(k).cloned();
    let found = sources::gather(&lookup, Vec::new(), &shared).await;
    let providers = found.providers.clone();
    let report = sources::discover(found, &Limits::default(), |_| {})
        .await
        .expect("the sandbox is an account");
    let mut store = Store::open_in(data_dir).expect("opening the cache");
    store
        .apply_discovery(&report.to_run())
        .expect("recording discovery");
    let now = now_ms() / 1000;
    let fleet = targets(&providers, &report.clusters);
    let settings = CollectSettings::default();
    let collections = collect_fleet(&fleet, &settings, &shared.breakers, now, |_| {}).await;
    let written =
        write_pass(&mut store, &collections, now, &Retention::default()).expect("writing the pass");
    assert!(written.samples > 0, "the pass collected samples");
    drop(store);
    sandbox.shutdown().await.expect("stopping the sandbox");
    report.clusters.len()
}

/// On a plane: nothing is reachable; the app starts offline and every
/// screen shows the cached data, saying how old it is and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_every_screen_shows_the_cached_data_and_its_age() {
    let data_dir = tempfile::tempdir().unwrap();
    let clusters = cache_from_a_sandbox_then_stop_it(data_dir.path()).await;
    let session = Session::launch(data_dir.path(), &["--offline"]).await;

    let rows = session
        .wait_for_count(Locator::Css("[data-testid=cluster-row]"), clusters)
        .await;
    assert_eq!(rows.len(), clusters);
    session.screenshot("offline-fleet").await;

    session.click("nav-clusters").await;
    session
        .wait_for(Locator::Css("[data-testid=resource-heatmap] svg"))
        .await;
    let age = session
        .wait_for(Locator::Css("[data-testid=data-age]"))
        .await;
    assert_eq!(
        age.attr("data-stale").await.unwrap().as_deref(),
        Some("true"),
        "offline data is shown as not live"
    );
    let age_text = age.text().await.unwrap();
    assert!(age_text.to_lowercase().contains("offline"), "{age_text}");
    session
        .wait_for_count(Locator::Css("[data-testid^=service-row-]"), 1)
        .await;
    session.screenshot("offline-cluster").await;

    session.click("nav-workloads").await;
    session
        .wait_for_count(Locator::Css("[data-testid=workload-row]"), 5)
        .await;
    let total = text_of(&session, "[data-testid=workloads-total]").await;
    assert!(total.contains("workloads"), "{total}");
    session.screenshot("offline-workloads").await;
    session.close().await;
}
