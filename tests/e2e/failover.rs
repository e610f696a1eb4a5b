//! Issue 6 end to end: the failover wizard on the sandbox fails `checkout`
//! over from an EKS cluster to a GKE cluster — the plan, the typed
//! confirmation, manual traffic (the run pauses and the wizard asks), the
//! live steps to verify — and the run is listed with its steps on the
//! Actions screen.

use std::time::Duration;

use fantoccini::Locator;

use crate::driver::Session;

/// Discovery, then the first collection pass, in a debug build.
const FIRST_PASS: Duration = Duration::from_secs(120);
/// The run: raise, wait until ready, drain, verify.
const RUN: Duration = Duration::from_secs(180);

/// Picks the first option of select `testid` whose value starts with
/// `prefix`, as a user would (Svelte's binding follows the change event).
async fn choose(session: &Session, testid: &str, prefix: &str) -> String {
    let v = session
        .client
        .execute(
            "const [id, prefix] = arguments;
             const s = document.querySelector(`[data-testid=${id}]`);
             const o = s && [...s.options].find((o) => o.value.startsWith(prefix));
             if (!o) return '';
             s.value = o.value;
             s.dispatchEvent(new Event('change', { bubbles: true }));
             return o.value;",
            vec![testid.into(), prefix.into()],
        )
        .await
        .expect("choosing an option");
    let chosen = v.as_str().unwrap_or_default().to_owned();
    assert!(!chosen.is_empty(), "no {prefix} option in {testid}");
    chosen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_fails_checkout_over_from_eks_to_gke() {
    let data_dir = tempfile::tempdir().unwrap();
    let session = Session::launch(data_dir.path(), &[]).await;
    session
        .wait_for(Locator::Css("[data-testid=sandbox-badge]"))
        .await;
    session.click("nav-workloads").await;
    session.type_into("workloads-search", "checkout").await;
    session
        .wait_for_count_within(Locator::Css("[data-testid=workload-row]"), 2, FIRST_PASS)
        .await;
    session
        .client
        .execute(
            "document.querySelector('[data-testid=workload-row][data-index=\"0\"]').click()",
            vec![],
        )
        .await
        .expect("selecting the first row");
    session.click("workload-action-failover").await;
    session
        .wait_for(Locator::Css("[data-testid=failover-from]"))
        .await;
    let eks = choose(&session, "failover-from", "aws/").await;
    let gke = choose(&session, "failover-to", "gcp/").await;
    session.click("failover-plan-button").await;
    let plan = session
        .wait_for(Locator::Css("[data-testid=failover-plan]"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(plan.contains("crosses a cloud"), "{plan}");
    assert!(plan.contains("CLI-only"), "{plan}");
    let target = gke.rsplit('/').next().unwrap_or_default();
    assert!(plan.contains(target), "{plan}");
    session.screenshot("failover-plan").await;

    // Manual traffic: the run pauses at the traffic step and asks.
    session.click("failover-traffic-manual").await;
    session.type_into("failover-typed", "checkout").await;
    session.click("failover-run").await;
    let question = session
        .wait_for_count_within(
            Locator::Css("[data-testid=failover-traffic-question]"),
            1,
            RUN,
        )
        .await;
    let asked = question[0].text().await.unwrap_or_default();
    assert!(
        asked.contains("Switch traffic for shop/checkout") && asked.contains(&eks),
        "{asked}"
    );
    session
        .wait_for(Locator::Css(
            "[data-testid=failover-step][data-step=traffic][data-status=running]",
        ))
        .await;
    session.screenshot("failover-traffic").await;
    session.click("failover-traffic-confirm").await;
    let result = session
        .wait_for_count_within(
            Locator::Css("[data-testid=failover-result][data-state=completed]"),
            1,
            RUN,
        )
        .await;
    let text = result[0].text().await.unwrap_or_default();
    assert!(text.contains("invariant samples"), "{text}");
    session
        .wait_for(Locator::Css(
            "[data-testid=failover-step][data-step=verify][data-status=done]",
        ))
        .await;
    session.screenshot("failover-done").await;
    session.click("failover-close").await;

    session.click("nav-actions").await;
    let runs = session
        .wait_for_count(
            Locator::Css("[data-testid=failover-run-row][data-state=completed]"),
            1,
        )
        .await;
    let row = runs[0].text().await.unwrap_or_default();
    assert!(row.contains(&eks) && row.contains(&gke), "{row}");
    assert!(row.contains("Verify: done"), "{row}");
    assert!(row.contains("Traffic: done"), "{row}");
    session.close().await;
}
