//! Issue 6 end to end: on the sandbox, scale a deployment from the
//! Workloads screen through the action dialog (preview, confirm, live
//! progress, result), and find the write in the Actions screen's audit log.

use std::time::Duration;

use fantoccini::Locator;

use crate::driver::Session;

/// Discovery, then the first collection pass (the Workloads table reads
/// the cache), in a debug build on a busy 2-core machine.
const FIRST_PASS: Duration = Duration::from_secs(120);
/// The apply follows the rollout until every replica is ready.
const APPLY: Duration = Duration::from_secs(120);

/// The first row's name and Ready cells, read from the DOM (the virtualised
/// grid's cells are not all "displayed" for WebDriver's text).
async fn first_row(session: &Session) -> (String, String) {
    let v = session
        .client
        .execute(
            "const r = document.querySelector('[data-testid=workload-row][data-index=\"0\"]');
             if (!r) return ['', ''];
             const c = r.querySelectorAll('[role=gridcell]');
             return [c[2]?.textContent ?? '', c[4]?.textContent ?? ''];",
            vec![],
        )
        .await
        .expect("reading the first row");
    let cell = |i: usize| v[i].as_str().unwrap_or_default().trim().to_owned();
    (cell(0), cell(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_is_scaled_through_the_dialog_and_audited() {
    let data_dir = tempfile::tempdir().unwrap();
    let session = Session::launch(data_dir.path(), &[]).await;
    session
        .wait_for(Locator::Css("[data-testid=sandbox-badge]"))
        .await;
    session.click("nav-workloads").await;
    session.type_into("workloads-search", "coredns").await;
    session
        .wait_for_count_within(Locator::Css("[data-testid=workload-row]"), 1, FIRST_PASS)
        .await;
    // Only the filter's answer: the first row is a coredns one.
    let mut first = (String::new(), String::new());
    for _ in 0..100 {
        first = first_row(&session).await;
        if first.0 == "coredns" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(first.0, "coredns", "first row: {first:?}");
    // The Ready cell is "ready/replicas".
    let replicas: u32 = first
        .1
        .split_once('/')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("no ready/replicas in {first:?}"));
    let target = replicas + 1;

    // A click selects the row (the grid's delegated handler).
    session
        .client
        .execute(
            "document.querySelector('[data-testid=workload-row][data-index=\"0\"]').click()",
            vec![],
        )
        .await
        .expect("selecting the first row");
    session.click("workload-action-scale").await;
    session
        .wait_for(Locator::Css("[data-testid=action-dialog]"))
        .await;
    let input = session
        .wait_for(Locator::Css("[data-testid=action-replicas]"))
        .await;
    input.clear().await.expect("clearing the replicas");
    input
        .send_keys(&target.to_string())
        .await
        .expect("typing the replicas");
    session.click("action-preview").await;
    let diff = session
        .wait_for(Locator::Css("[data-testid=action-diff]"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(diff.contains("spec.replicas"), "{diff}");
    assert!(diff.contains(&target.to_string()), "{diff}");
    session
        .wait_for(Locator::Css("[data-testid=action-fit]"))
        .await;
    session.screenshot("action-scale-preview").await;

    session.click("action-confirm").await;
    let result = session
        .wait_for_count_within(Locator::Css("[data-testid=action-result]"), 1, APPLY)
        .await;
    let text = result[0].text().await.unwrap_or_default();
    assert!(
        text.contains(&format!("Done: {target} of {target} ready")),
        "{text}"
    );
    session.screenshot("action-scale-finished").await;
    session.click("action-close").await;

    // The table follows the cache: the next collection pass brings the
    // new count into the row.
    let want = format!("{target}/{target}");
    let deadline = std::time::Instant::now() + FIRST_PASS;
    loop {
        let now = first_row(&session).await;
        if now.1 == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the row never showed {want}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    session.screenshot("action-scale-table").await;

    session.click("nav-actions").await;
    let audited = session
        .wait_for_count(
            Locator::Css("[data-testid=audit-row][data-outcome=succeeded]"),
            1,
        )
        .await;
    let row = audited[0].text().await.unwrap_or_default();
    assert!(row.contains("scale_deployment"), "{row}");
    assert!(row.contains("coredns"), "{row}");
    session.close().await;
}
