//! The failover executor against the sandbox: read-only refused inside the
//! executor, and the invariant watcher aborting a run (and restoring the
//! source) when ready replicas drop under it.

use std::{net::SocketAddr, time::Duration};

use cloudops_cloud::act::{
    failover::{self, RunSpec, Side, TrafficMode},
    ActError, Actor, WriteGuard,
};
use cloudops_core::{
    plan::{failover::plan_failover, scale::WorkloadRef},
    store::failover::{FailoverStep, RunState, StepStatus},
    Store,
};
use cloudops_sandbox::{world::CHECKOUT_SERVICE, Cloud, Sandbox, World};
use k8s_openapi::api::apps::v1::Deployment;
use kube::{
    api::{Patch, PatchParams},
    Api,
};
use serde_json::json;

use super::collect::sandbox_access;

fn checkout(cluster: &str) -> WorkloadRef {
    WorkloadRef {
        cluster_id: cluster.into(),
        namespace: "shop".into(),
        deployment: "checkout".into(),
    }
}

fn side(client: &kube::Client) -> Side {
    Side {
        client: client.clone(),
        actor: Actor {
            os_user: "sre".into(),
            cloud_identity: "sandbox".into(),
        },
    }
}

/// The sandbox, the checkout clusters on AWS and GCP, and a plan between
/// them.
struct Setup {
    sandbox: cloudops_sandbox::RunningSandbox,
    source: kube::Client,
    target: kube::Client,
    spec: RunSpec,
}

async fn setup(world: World) -> Setup {
    let (aws, gcp) = {
        let w = world.read();
        let on = |cloud: Cloud| {
            w.service(CHECKOUT_SERVICE)
                .unwrap()
                .cluster_ids
                .iter()
                .find(|id| w.cluster(id).unwrap().cloud == cloud)
                .cloned()
        };
        (on(Cloud::Aws).unwrap(), on(Cloud::Gcp).unwrap())
    };
    let sandbox = Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world).unwrap();
    let source = sandbox_access(&sandbox, &aws).client().await.unwrap();
    let target = sandbox_access(&sandbox, &gcp).client().await.unwrap();
    let s = failover::read_facts(&source, &checkout(&aws), "aws", "r1", Some(90.0), None)
        .await
        .unwrap();
    let t = failover::read_facts(&target, &checkout(&gcp), "gcp", "r2", Some(90.0), None)
        .await
        .unwrap();
    let plan = plan_failover("shop/checkout", &s, &[t], None, 0).unwrap();
    assert_eq!(plan.refusal, None);
    Setup {
        sandbox,
        source,
        target,
        spec: RunSpec {
            plan,
            traffic: TrafficMode::Skip,
            wait_secs: 60,
        },
    }
}

async fn replicas(client: &kube::Client) -> (i32, i32) {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "shop");
    let d = api.get("checkout").await.unwrap();
    (
        d.spec.replicas.unwrap(),
        d.status.unwrap().ready_replicas.unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_is_refused_inside_the_failover_executor() {
    let s = setup(World::generate(42)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let before = (replicas(&s.source).await, replicas(&s.target).await);
    let read_only = WriteGuard { read_only: true };

    let e = failover::create(&store, read_only, &s.spec).unwrap_err();
    assert!(matches!(e, ActError::ReadOnly { .. }), "{e}");
    assert!(store.failover_runs(10).unwrap().is_empty());

    // A run recorded while writable, then run, resumed or rolled back
    // read-only: refused before any step starts.
    let id = failover::create(&store, WriteGuard::default(), &s.spec).unwrap();
    let e = failover::run(
        &side(&s.source),
        &side(&s.target),
        &store,
        read_only,
        id,
        &mut failover::answer_now(true),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "read_only");
    let e = failover::rollback(
        &side(&s.source),
        &side(&s.target),
        &store,
        read_only,
        id,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "read_only");
    let run = store.failover_run(id).unwrap().unwrap();
    assert!(run.steps.is_empty(), "{:?}", run.steps);
    assert!(store.audit_log().unwrap().is_empty());
    assert_eq!(
        (replicas(&s.source).await, replicas(&s.target).await),
        before
    );
    s.sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_under_the_baseline_aborts_the_run_and_restores_the_source() {
    // Slow readiness: the run sits in wait_ready while the source is cut.
    let s = setup(World::generate(42).with_readiness_delay(Duration::from_secs(3))).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let source0 = replicas(&s.source).await;
    let id = failover::create(&store, WriteGuard::default(), &s.spec).unwrap();

    // Someone else scales the source to 1 while the target's new pods are
    // not ready yet: total ready drops below the baseline.
    let cut = {
        let client = s.source.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            let api: Api<Deployment> = Api::namespaced(client, "shop");
            api.patch_scale(
                "checkout",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": 1 } })),
            )
            .await
            .unwrap();
        })
    };
    let mut events = Vec::new();
    let e = failover::run(
        &side(&s.source),
        &side(&s.target),
        &store,
        WriteGuard::default(),
        id,
        &mut failover::answer_now(true),
        &mut |e| events.push(e.clone()),
    )
    .await
    .unwrap_err();
    cut.await.unwrap();
    assert_eq!(e.kind(), "invariant_violated", "{e}");
    assert!(e.to_string().contains("before the run"), "{e}");

    let run = store.failover_run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Aborted);
    assert_eq!(
        run.step_row(FailoverStep::WaitReady).unwrap().status,
        StepStatus::Failed
    );
    assert!(run.step_row(FailoverStep::DrainSource).is_none());
    // The source is back to its replicas, ready.
    assert_eq!(replicas(&s.source).await, source0);
    assert!(events
        .iter()
        .any(|e| matches!(e, failover::FailoverEvent::Aborted { .. })));
    s.sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_without_room_is_refused_and_nothing_is_recorded() {
    let s = setup(World::generate(42)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    // The same live facts, but the target's nodes are full: one pod slot
    // each is already taken.
    let src = failover::read_facts(
        &s.source,
        &s.spec.plan.source,
        "aws",
        "r1",
        Some(90.0),
        None,
    )
    .await
    .unwrap();
    let mut dst = failover::read_facts(
        &s.target,
        &s.spec.plan.target,
        "gcp",
        "r2",
        Some(90.0),
        None,
    )
    .await
    .unwrap();
    for n in &mut dst.nodes {
        n.pods = n.allocatable_pods;
    }
    let plan = plan_failover("shop/checkout", &src, &[dst], None, 0).unwrap();
    let reason = plan.refusal.clone().expect("refused");
    assert!(reason.contains("cannot hold the load"), "{reason}");
    let spec = RunSpec {
        plan,
        traffic: TrafficMode::Skip,
        wait_secs: 10,
    };
    let e = failover::create(&store, WriteGuard::default(), &spec).unwrap_err();
    assert_eq!(e.kind(), "failover_refused");
    assert!(e.to_string().contains("cannot hold the load"), "{e}");
    assert!(store.failover_runs(10).unwrap().is_empty());
    assert!(store.audit_log().unwrap().is_empty());
    s.sandbox.shutdown().await.unwrap();
}

/// A manual traffic step is awaited: the run waits for the answer (here it
/// comes half a second later), then drains and completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_traffic_step_waits_for_a_late_answer() {
    let mut s = setup(World::generate(42)).await;
    s.spec.traffic = TrafficMode::Manual;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let id = failover::create(&store, WriteGuard::default(), &s.spec).unwrap();
    let mut prompts = Vec::new();
    let mut events = Vec::new();
    let report = failover::run(
        &side(&s.source),
        &side(&s.target),
        &store,
        WriteGuard::default(),
        id,
        &mut |prompt: String| -> failover::TrafficAnswer {
            prompts.push(prompt);
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                true
            })
        },
        &mut |e| events.push(e.clone()),
    )
    .await
    .unwrap();
    assert_eq!(report.state, RunState::Completed);
    assert_eq!(prompts.len(), 1);
    assert!(
        prompts[0].starts_with("Switch traffic for shop/checkout"),
        "{prompts:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        failover::FailoverEvent::TrafficConfirmation { prompt } if *prompt == prompts[0]
    )));
    let run = store.failover_run(id).unwrap().unwrap();
    let traffic = run.step_row(FailoverStep::Traffic).unwrap();
    assert_eq!(traffic.status, StepStatus::Done);
    assert_eq!(traffic.detail["confirmed"], true, "{:?}", traffic.detail);
    assert_eq!(replicas(&s.source).await.0, 0);
    s.sandbox.shutdown().await.unwrap();
}

/// While the user takes their time at the traffic step, the invariant is
/// still watched: the target losing its replicas ends the wait (the answer
/// never comes) and aborts the run with the source untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_violation_while_waiting_for_traffic_aborts_without_draining() {
    let mut s = setup(World::generate(42)).await;
    s.spec.traffic = TrafficMode::Manual;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let source0 = replicas(&s.source).await;
    let id = failover::create(&store, WriteGuard::default(), &s.spec).unwrap();
    let target = s.target.clone();
    let e = failover::run(
        &side(&s.source),
        &side(&s.target),
        &store,
        WriteGuard::default(),
        id,
        &mut |_prompt: String| -> failover::TrafficAnswer {
            // Asked: someone cuts the target meanwhile; no answer ever.
            let client = target.clone();
            tokio::spawn(async move {
                let api: Api<Deployment> = Api::namespaced(client, "shop");
                api.patch_scale(
                    "checkout",
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "spec": { "replicas": 1 } })),
                )
                .await
                .unwrap();
            });
            Box::pin(std::future::pending())
        },
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "invariant_violated", "{e}");
    let run = store.failover_run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Aborted);
    assert_eq!(
        run.step_row(FailoverStep::Traffic).unwrap().status,
        StepStatus::Failed
    );
    assert!(run.step_row(FailoverStep::DrainSource).is_none());
    assert_eq!(replicas(&s.source).await, source0);
    s.sandbox.shutdown().await.unwrap();
}
