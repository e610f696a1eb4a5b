//! Issue 6 end to end: on the sandbox, scale a cluster's node pool from the
//! Cluster screen's Node pools section through the dialog (preview with
//! the cost, confirm, result) and see the pool's count change.

use std::time::Duration;

use fantoccini::Locator;

use crate::driver::Session;

/// Discovery (the pools list comes from the cloud once it has run).
const FIRST_PASS: Duration = Duration::from_secs(120);
/// The resize is polled every 2 s until the pool reports the new count.
const APPLY: Duration = Duration::from_secs(120);

/// The first pool's name and node count, read from the DOM.
async fn first_pool(session: &Session) -> (String, String) {
    let v = session
        .client
        .execute(
            "const r = document.querySelector('[data-testid=nodepool-row]');
             if (!r) return ['', ''];
             return [r.dataset.pool ?? '',
                     r.querySelector('[data-testid=nodepool-count-cell]')?.textContent ?? ''];",
            vec![],
        )
        .await
        .expect("reading the first pool");
    let cell = |i: usize| v[i].as_str().unwrap_or_default().trim().to_owned();
    (cell(0), cell(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_pool_is_scaled_through_the_dialog() {
    let data_dir = tempfile::tempdir().unwrap();
    let session = Session::launch(data_dir.path(), &[]).await;
    session
        .wait_for(Locator::Css("[data-testid=sandbox-badge]"))
        .await;
    session.click("nav-clusters").await;
    session
        .wait_for_count_within(Locator::Css("[data-testid^=cluster-row-]"), 1, FIRST_PASS)
        .await;
    // The cloud's own list (the discovery has handed over its targets);
    // reopening the cluster asks again.
    let deadline = std::time::Instant::now() + FIRST_PASS;
    loop {
        let live = session
            .client
            .find_all(Locator::Css(
                "[data-testid=nodepools-source][data-source=provider]",
            ))
            .await
            .map(|f| !f.is_empty())
            .unwrap_or(false);
        if live {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the node pools never came from the cloud"
        );
        session.click("nav-workloads").await;
        session.click("nav-clusters").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (pool, before) = first_pool(&session).await;
    let before: u32 = before
        .parse()
        .unwrap_or_else(|_| panic!("no count for pool {pool:?}: {before:?}"));
    let target = before + 1;

    session
        .client
        .execute(
            "document.querySelector('[data-testid=nodepools]').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scrolling to the node pools");
    session.click("nodepool-scale").await;
    let dialog = session
        .wait_for(Locator::Css("[data-testid=nodepool-dialog]"))
        .await;
    let title = dialog.text().await.unwrap_or_default();
    assert!(title.contains(&pool), "{title}");
    let input = session
        .wait_for(Locator::Css("[data-testid=nodepool-count]"))
        .await;
    input.clear().await.expect("clearing the count");
    input
        .send_keys(&target.to_string())
        .await
        .expect("typing the count");
    session.click("nodepool-preview").await;
    let diff = session
        .wait_for(Locator::Css("[data-testid=nodepool-diff]"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(diff.contains("node count"), "{diff}");
    assert!(
        diff.contains(&before.to_string()) && diff.contains(&target.to_string()),
        "{diff}"
    );
    let cost = session
        .wait_for(Locator::Css("[data-testid=nodepool-cost]"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(cost.starts_with("Cost:"), "{cost}");
    session.screenshot("nodepool-preview").await;

    session.click("nodepool-confirm").await;
    let result = session
        .wait_for_count_within(
            Locator::Css("[data-testid=nodepool-result][data-settled=true]"),
            1,
            APPLY,
        )
        .await;
    let text = result[0].text().await.unwrap_or_default();
    assert!(text.contains(&format!("has {target} nodes")), "{text}");
    session.screenshot("nodepool-finished").await;
    session.click("nodepool-close").await;

    // The section reads the pools again after a change.
    let deadline = std::time::Instant::now() + APPLY;
    loop {
        let now = first_pool(&session).await;
        if now == (pool.clone(), target.to_string()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the row never showed {target} nodes: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    session.click("nav-actions").await;
    let audited = session
        .wait_for_count(
            Locator::Css("[data-testid=audit-row][data-outcome=succeeded]"),
            1,
        )
        .await;
    let row = audited[0].text().await.unwrap_or_default();
    assert!(row.contains("scale_node_pool"), "{row}");
    session.close().await;
}
