//! Issue 8 end to end: on the sandbox, open the logs of `checkout` across
//! clusters from the command palette, see the lines merged by time from
//! several clusters, filter them, click an error pattern, and look at a
//! cluster's events timeline.

use std::time::Duration;

use fantoccini::Locator;

use crate::driver::Session;
use crate::press_ctrl_k;

/// Discovery, then the first collection pass (the palette finds `checkout`
/// in the cached workloads), in a debug build on a busy 2-core machine.
const FIRST_PASS: Duration = Duration::from_secs(120);
/// Connecting to three clusters and the first batches.
const FIRST_LINES: Duration = Duration::from_secs(60);

/// What the rendered log rows say: (level, cluster label, iso time, text).
async fn rendered_rows(session: &Session) -> Vec<(String, String, String, String)> {
    let v = session
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=log-row]')].map((r) => [
               r.dataset.level ?? '',
               r.querySelector('.cluster')?.textContent ?? '',
               r.querySelector('.ts')?.getAttribute('title') ?? '',
               r.querySelector('.text')?.textContent ?? '']);",
            vec![],
        )
        .await
        .expect("reading the log rows");
    v.as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let s = |i: usize| r[i].as_str().unwrap_or_default().to_owned();
                    (s(0), s(1), s(2), s(3))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn text_of(session: &Session, testid: &str) -> String {
    session
        .wait_for(Locator::Css(&format!("[data-testid={testid}]")))
        .await
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_logs_across_clusters_are_merged_filtered_and_grouped_by_pattern() {
    let data_dir = tempfile::tempdir().unwrap();
    let session = Session::launch(data_dir.path(), &[]).await;
    session
        .wait_for(Locator::Css("[data-testid=sandbox-badge]"))
        .await;
    // The palette offers "Logs: checkout across clusters" once the workloads
    // are in the cache.
    session.click("nav-workloads").await;
    session.type_into("workloads-search", "checkout").await;
    session
        .wait_for_count_within(Locator::Css("[data-testid=workload-row]"), 3, FIRST_PASS)
        .await;

    press_ctrl_k(&session).await;
    session.type_into("palette-input", "logs checkout").await;
    let mut title = String::new();
    for _ in 0..100 {
        let items = session
            .client
            .find_all(Locator::Css("[data-testid=palette-item]"))
            .await
            .unwrap_or_default();
        if let Some(first) = items.first() {
            title = first.text().await.unwrap_or_default();
            if title.contains("Logs: checkout across clusters") {
                first.click().await.expect("running the palette entry");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(title.contains("Logs: checkout across clusters"), "{title}");

    session
        .wait_for(Locator::Css("[data-testid=logs-panel]"))
        .await;
    let heading = text_of(&session, "logs-title").await;
    assert!(heading.contains("checkout across 3 clusters"), "{heading}");
    session
        .wait_for_count_within(Locator::Css("[data-testid=log-row]"), 10, FIRST_LINES)
        .await;
    // The newest lines are on screen (following), in time order.
    let rows = rendered_rows(&session).await;
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r.2.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "not in time order: {times:?}"
    );
    let status = text_of(&session, "logs-status").await;
    assert!(status.contains("Live"), "{status}");
    // Every pod of the three clusters is streamed, and the window shows
    // lines of several clusters interleaved by time.
    let streams: u32 = status
        .split_whitespace()
        .zip(status.split_whitespace().skip(1))
        .find(|(_, w)| w.starts_with("stream"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    assert!(streams >= 3, "{status}");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100 {
        seen = rendered_rows(&session)
            .await
            .into_iter()
            .map(|r| r.1)
            .filter(|c| !c.is_empty())
            .collect();
        if seen.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.len() >= 2, "lines of one cluster only: {seen:?}");
    session.screenshot("logs-merged").await;

    // Filter: only matching lines stay.
    session.click("logs-follow").await;
    session.type_into("logs-filter", "rejected").await;
    let mut filtered = Vec::new();
    for _ in 0..100 {
        filtered = rendered_rows(&session).await;
        if !filtered.is_empty() && filtered.iter().all(|r| r.3.contains("rejected")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!filtered.is_empty(), "no line matches 'rejected'");
    assert!(
        filtered.iter().all(|r| r.3.contains("rejected")),
        "{filtered:?}"
    );
    session.screenshot("logs-filtered").await;
    session
        .wait_for(Locator::Css("[data-testid=logs-filter]"))
        .await
        .clear()
        .await
        .expect("clearing the filter");

    // A pattern click shows only that pattern's lines.
    let picks = session
        .wait_for_count_within(
            Locator::Css("[data-testid=log-pattern-pick]"),
            1,
            FIRST_LINES,
        )
        .await;
    picks[0].click().await.expect("clicking a pattern");
    let chip = text_of(&session, "logs-pattern-chip").await;
    assert!(chip.contains("Pattern:"), "{chip}");
    let mut picked = Vec::new();
    for _ in 0..100 {
        picked = rendered_rows(&session).await;
        if !picked.is_empty() && picked.iter().all(|r| r.0 == "error" || r.0 == "warn") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!picked.is_empty(), "the pattern shows no line");
    assert!(
        picked.iter().all(|r| r.0 == "error" || r.0 == "warn"),
        "{picked:?}"
    );
    session.screenshot("logs-pattern").await;
    session.click("logs-close").await;

    // The events timeline of a cluster.
    session.click("nav-clusters").await;
    let first = session
        .wait_for(Locator::Css("[data-testid^=cluster-row-]"))
        .await;
    first.click().await.expect("opening a cluster");
    let events = session
        .wait_for(Locator::Css("[data-testid=cluster-events]"))
        .await;
    session
        .wait_for_count_within(Locator::Css("[data-testid=cluster-event]"), 1, FIRST_PASS)
        .await;
    session
        .client
        .execute(
            "document.querySelector('[data-testid=cluster-events]').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scrolling to the events");
    let text = events.text().await.unwrap_or_default();
    assert!(
        text.contains("Normal") || text.contains("Warning"),
        "{text}"
    );
    session.screenshot("cluster-events").await;
    session.close().await;
}
