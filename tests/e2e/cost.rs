//! Issue 7 end to end: the app's collection loop fetches the sandbox
//! fleet's cost (the four clouds' billing emulators and our estimates) into
//! the cache, and the Cost screen shows month to date per cloud, labelled
//! actual or estimate, with a non-empty daily chart.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cloudops_core::Store;
use fantoccini::Locator;

use crate::driver::Session;

/// Discovery, the first collection pass and the first cost refresh, in a
/// debug build on a busy 2-core machine.
const FIRST_COST: Duration = Duration::from_secs(240);

/// The providers with a successful cost fetch in the sandbox cache.
fn fetched_providers(dir: &std::path::Path) -> BTreeSet<String> {
    let Ok(store) = Store::open_in(dir) else {
        return BTreeSet::new();
    };
    store
        .cost_fetches()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.error.is_none())
        .map(|f| f.provider.as_str().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cost_screen_shows_the_sandbox_fleets_cost() {
    let data_dir = tempfile::tempdir().unwrap();
    let session = Session::launch(data_dir.path(), &[]).await;
    session
        .wait_for(Locator::Css("[data-testid=sandbox-badge]"))
        .await;
    let cache = data_dir.path().join("sandbox");
    let start = Instant::now();
    let mut seen = BTreeSet::new();
    while start.elapsed() < FIRST_COST {
        seen = fetched_providers(&cache);
        if seen.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(
        seen.iter().map(String::as_str).collect::<Vec<_>>(),
        vec!["aws", "azure", "do", "gcp"],
        "the collection loop fetched the cost of the four clouds"
    );

    session.click("nav-cost").await;
    let rows = session
        .wait_for_count(Locator::Css("[data-testid=cost-cloud-row]"), 4)
        .await;
    let mut providers = BTreeSet::new();
    for r in &rows {
        let p = r
            .attr("data-provider")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let source = r
            .attr("data-source")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let text = r.text().await.unwrap_or_default();
        assert!(
            source == "actual" || source == "estimate",
            "{p}: source {source:?}"
        );
        assert!(
            text.contains("(actual)")
                || text.contains("(estimate)")
                || text.contains("(actual and estimate)"),
            "{p}: the figure says what it is: {text}"
        );
        providers.insert(p);
    }
    assert_eq!(providers.len(), 4, "{providers:?}");
    // The chart has drawn bars (its layout's days) and an SVG.
    session
        .wait_for(Locator::Css("[data-testid=cost-chart-svg] svg"))
        .await;
    let age = session
        .wait_for(Locator::Css("[data-testid=cost-age]"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(age.starts_with("Cost data from"), "{age}");
    let rects = session
        .client
        .find_all(Locator::Css("[data-testid=cost-chart-svg] svg rect"))
        .await
        .unwrap_or_default();
    assert!(
        rects.len() > 2,
        "the chart draws bars, got {} rects",
        rects.len()
    );
    session.screenshot("cost-screen").await;

    // The month picker: the previous month comes from the cache (the
    // refresh keeps five weeks of history, so it is always there).
    let heading = |s: String| s.lines().next().unwrap_or_default().to_owned();
    let this_month = heading(
        session
            .wait_for(Locator::Css("[data-testid=screen-cost] h2"))
            .await
            .text()
            .await
            .unwrap_or_default(),
    );
    session.click("cost-month-prev").await;
    let start = Instant::now();
    let mut shown = this_month.clone();
    while start.elapsed() < Duration::from_secs(30) && shown == this_month {
        tokio::time::sleep(Duration::from_millis(300)).await;
        shown = heading(
            session
                .wait_for(Locator::Css("[data-testid=screen-cost] h2"))
                .await
                .text()
                .await
                .unwrap_or_default(),
        );
    }
    assert_ne!(shown, this_month, "the picker switched the month");
    assert!(shown.starts_with("Cost, "), "{shown}");
    session
        .wait_for(Locator::Css("[data-testid=cost-cloud-row]"))
        .await;

    // The Fleet screen: a cost column per cluster (actual or estimate in
    // words) and the fleet's month to date with its forecast and age.
    session.click("nav-fleet").await;
    let header = session
        .wait_for(Locator::Css("[data-testid=fleet-cost]"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(header.contains("month to date"), "{header}");
    assert!(header.contains("cost data"), "{header}");
    let sources = session
        .wait_for_count(Locator::Css("[data-testid=cluster-cost-source]"), 4)
        .await;
    let mut kinds = BTreeSet::new();
    for s in &sources {
        kinds.insert(s.text().await.unwrap_or_default());
    }
    assert!(
        kinds.iter().all(|k| k == "actual" || k == "estimate"),
        "{kinds:?}"
    );
    session.screenshot("fleet-cost").await;
    session.close().await;
}
