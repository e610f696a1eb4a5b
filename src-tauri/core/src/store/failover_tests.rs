use serde_json::json;

use super::failover::{FailoverStep, RunState, StepStatus};
use super::Store;
use crate::plan::scale::WorkloadRef;

#[test]
fn run_state_survives_reopen_and_resume_starts_at_the_interrupted_step() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open_in(dir.path()).unwrap();
        let id = store
            .create_failover_run("shop/checkout", "aws/a", "gcp/b", &json!({ "plan": 1 }))
            .unwrap();
        let run = store.failover_run(id).unwrap().unwrap();
        assert_eq!(run.state, RunState::Running);
        assert_eq!(run.next_step(), Some(FailoverStep::Preflight));
        for step in [FailoverStep::Preflight, FailoverStep::RaiseTarget] {
            store.failover_step_started(id, step).unwrap();
            store
                .failover_step_finished(id, step, StepStatus::Done, &json!({ "ok": step.as_str() }))
                .unwrap();
        }
        // A crash in wait_ready: started, never finished.
        store
            .failover_step_started(id, FailoverStep::WaitReady)
            .unwrap();
        id
    };
    let store = Store::open_in(dir.path()).unwrap();
    let run = store.failover_run(id).unwrap().unwrap();
    assert_eq!(run.group, "shop/checkout");
    assert_eq!(
        (run.source_cluster.as_str(), run.target_cluster.as_str()),
        ("aws/a", "gcp/b")
    );
    assert_eq!(run.plan, json!({ "plan": 1 }));
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.step, Some(FailoverStep::WaitReady));
    assert_eq!(run.next_step(), Some(FailoverStep::WaitReady));
    let wait = run.step_row(FailoverStep::WaitReady).unwrap();
    assert_eq!((wait.status, wait.ended_ms), (StepStatus::Running, None));
    assert_eq!(
        run.step_row(FailoverStep::Preflight).unwrap().detail,
        json!({ "ok": "preflight" })
    );
    assert_eq!(
        run.started_steps(),
        [
            FailoverStep::Preflight,
            FailoverStep::RaiseTarget,
            FailoverStep::WaitReady
        ]
    );

    // Re-running the step, then the rest: complete.
    store
        .failover_step_started(id, FailoverStep::WaitReady)
        .unwrap();
    for step in [FailoverStep::WaitReady, FailoverStep::Traffic] {
        if step != FailoverStep::WaitReady {
            store.failover_step_started(id, step).unwrap();
        }
        let status = if step == FailoverStep::Traffic {
            StepStatus::Skipped
        } else {
            StepStatus::Done
        };
        store
            .failover_step_finished(id, step, status, &json!({}))
            .unwrap();
    }
    assert_eq!(
        store.failover_run(id).unwrap().unwrap().next_step(),
        Some(FailoverStep::DrainSource)
    );
    store
        .set_failover_state(id, RunState::Failed, Some("boom"))
        .unwrap();
    let run = store.failover_run(id).unwrap().unwrap();
    assert_eq!(
        (run.state, run.error.as_deref()),
        (RunState::Failed, Some("boom"))
    );
    // Starting a step again clears the error.
    store
        .failover_step_started(id, FailoverStep::DrainSource)
        .unwrap();
    let run = store.failover_run(id).unwrap().unwrap();
    assert_eq!((run.state, run.error), (RunState::Running, None));

    let second = store
        .create_failover_run("shop/cart", "aws/a", "gcp/b", &json!({}))
        .unwrap();
    let ids: Vec<i64> = store
        .failover_runs(10)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, [second, id]);
}

#[test]
fn unknown_runs_and_unstarted_steps_are_errors_not_silent() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.failover_run(99).unwrap(), None);
    assert!(store
        .failover_step_started(99, FailoverStep::Preflight)
        .is_err());
    assert!(store
        .set_failover_state(99, RunState::Completed, None)
        .is_err());
    let id = store
        .create_failover_run("shop/checkout", "a", "b", &json!({}))
        .unwrap();
    let e = store
        .failover_step_finished(id, FailoverStep::Verify, StepStatus::Done, &json!({}))
        .unwrap_err();
    assert!(e.to_string().contains("never started verify"), "{e}");
}

#[test]
fn user_group_members_are_stored_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let w = WorkloadRef {
        cluster_id: "do/t/nyc1/x".into(),
        namespace: "shop-eu".into(),
        deployment: "checkout-v2".into(),
    };
    store
        .add_failover_group_member("shop/checkout", &w)
        .unwrap();
    assert!(store.add_failover_group_member("checkout", &w).is_err());
    assert_eq!(
        store.failover_group_members().unwrap(),
        [("shop/checkout".to_owned(), w.clone())]
    );
    assert!(store
        .remove_failover_group_member("shop/checkout", "do/t/nyc1/x")
        .unwrap());
    assert!(!store
        .remove_failover_group_member("shop/checkout", "do/t/nyc1/x")
        .unwrap());
    assert!(store.failover_group_members().unwrap().is_empty());
}
