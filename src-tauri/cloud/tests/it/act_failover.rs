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

/// The executor's preflight asks again what the plan checked: a target
/// that lost write access, or stopped answering, since the plan refuses
/// the run before any write (and fast: under the read deadline, not the
/// client's own timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_refuses_a_target_that_lost_write_access_or_stopped_answering() {
    use cloudops_sandbox::chaos::{Fault, Target};
    let s = setup(World::generate(42)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let before = (replicas(&s.source).await, replicas(&s.target).await);
    let target_id = s.spec.plan.target.cluster_id.clone();
    let region = s
        .sandbox
        .world()
        .read()
        .cluster(&target_id)
        .unwrap()
        .region
        .clone();
    let run = |id| {
        let (src, dst) = (side(&s.source), side(&s.target));
        let store = &store;
        async move {
            failover::run(
                &src,
                &dst,
                store,
                WriteGuard::default(),
                id,
                &mut failover::answer_now(true),
                &mut |_| {},
            )
            .await
        }
    };

    // RBAC: the write itself is the apiserver's 403, and the preflight's
    // access review refuses before it is tried.
    let deny = s
        .sandbox
        .chaos()
        .add(Fault::RbacDeny {
            cluster_id: target_id.clone(),
            namespace: Some("shop".into()),
        })
        .unwrap();
    let api: Api<Deployment> = Api::namespaced(s.target.clone(), "shop");
    match api
        .patch_scale(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 9 } })),
        )
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403);
            assert_eq!(status.reason, "Forbidden");
            assert!(
                status
                    .message
                    .contains("cannot patch resource \"deployments/scale\""),
                "{}",
                status.message
            );
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    let id = failover::create(&store, WriteGuard::default(), &s.spec).unwrap();
    let e = run(id).await.unwrap_err();
    assert_eq!(e.kind(), "forbidden", "{e}");
    assert!(e.to_string().contains(&target_id), "{e}");
    assert!(e.to_string().contains("deployments/scale"), "{e}");
    let r = store.failover_run(id).unwrap().unwrap();
    assert_eq!(r.state, RunState::Failed);
    assert_eq!(
        r.step_row(FailoverStep::Preflight).unwrap().status,
        StepStatus::Failed
    );
    assert!(r.step_row(FailoverStep::RaiseTarget).is_none());
    assert!(s.sandbox.chaos().clear(deny));

    // An outage: the target's API hangs; the preflight gives up at its
    // deadline.
    s.sandbox
        .chaos()
        .add(Fault::RegionOutage {
            cloud: Target::Gcp,
            region,
        })
        .unwrap();
    let id = failover::create(&store, WriteGuard::default(), &s.spec).unwrap();
    let started = std::time::Instant::now();
    let e = run(id).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), "unreachable", "{e}");
    assert!(e.to_string().contains("no answer within"), "{e}");
    assert!(
        took < Duration::from_secs(20),
        "the preflight took {took:?}"
    );
    let r = store.failover_run(id).unwrap().unwrap();
    assert!(r.step_row(FailoverStep::RaiseTarget).is_none());
    s.sandbox.chaos().clear_all();

    // Nothing was written: no scale or HPA row, the replicas as before.
    assert!(store
        .audit_log()
        .unwrap()
        .iter()
        .all(|e| e.action.starts_with("failover_")));
    assert_eq!(
        (replicas(&s.source).await, replicas(&s.target).await),
        before
    );
    s.sandbox.shutdown().await.unwrap();
}

/// The planner with targets discovered before an outage (as the app holds
/// them): connecting to the target now fails (GKE's 503 for the region),
/// and the plan refuses it as unreachable; ranked, it is shown last with
/// the reason. A Kubernetes API that hangs (a latency fault longer than
/// the deadline) is given up on at the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_refuses_an_unreachable_member_and_gives_up_on_a_hung_one_at_its_deadline() {
    use cloudops_cloud::{
        act::failover_plan::{plan_for_group, CachedInputs, PlanOptions, PlanRequest},
        ambient::{self, Shared},
        collect::fleet::targets,
        discovery::{discover_all, Limits},
        resilience::CallPolicy,
    };
    use cloudops_core::plan::failover::GroupMember;
    use cloudops_sandbox::chaos::{Fault, Target};

    let world = World::generate(42);
    let checkout_clusters: Vec<(String, Cloud, String)> = {
        let w = world.read();
        w.service(CHECKOUT_SERVICE)
            .unwrap()
            .cluster_ids
            .iter()
            .map(|id| {
                let c = w.cluster(id).unwrap();
                (c.name.clone(), c.cloud, c.region.clone())
            })
            .collect()
    };
    let sandbox = Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world).unwrap();
    let vars = sandbox.env_map();
    let shared = Shared::new(CallPolicy::default()).unwrap();
    let ambient = ambient::from_env(&|k: &str| vars.get(k).cloned(), &shared).await;
    let report = discover_all(&ambient.providers, &Limits::default(), |_| {}).await;
    let all = targets(&ambient.providers, &report.clusters);
    let id_of = |cloud: Cloud| {
        let (name, _, region) = checkout_clusters
            .iter()
            .find(|(_, c, _)| *c == cloud)
            .unwrap();
        let t = all
            .iter()
            .find(|t| t.cluster.to_summary(0).name == *name)
            .unwrap();
        (t.cluster_id.clone(), region.clone())
    };
    let ((aws, _), (gcp, gcp_region)) = (id_of(Cloud::Aws), id_of(Cloud::Gcp));
    let cached = CachedInputs {
        members: checkout_clusters
            .iter()
            .filter_map(|(name, _, _)| {
                all.iter()
                    .find(|t| t.cluster.to_summary(0).name == *name)
                    .map(|t| GroupMember {
                        workload: checkout(&t.cluster_id),
                        origin: "auto".into(),
                    })
            })
            .collect(),
        ..Default::default()
    };
    assert_eq!(cached.members.len(), checkout_clusters.len());
    sandbox
        .chaos()
        .add(Fault::RegionOutage {
            cloud: Target::Gcp,
            region: gcp_region.clone(),
        })
        .unwrap();
    let opts = PlanOptions {
        read_deadline: Duration::from_secs(2),
    };
    let mut req = PlanRequest {
        group: "shop/checkout".into(),
        from: aws.clone(),
        to: Some(gcp.clone()),
        floor: 0,
    };
    let started = std::time::Instant::now();
    let named = plan_for_group(&all, &cached, &req, &opts).await.unwrap();
    let took = started.elapsed();
    eprintln!("named target planned in {took:?}: {:?}", named.plan.refusal);
    assert!(took < Duration::from_secs(10), "{took:?}");
    let refusal = named.plan.refusal.unwrap();
    assert!(
        refusal.contains(&gcp) && refusal.contains("unreachable"),
        "{refusal}"
    );
    assert!(
        named
            .plan
            .refusal_hint
            .unwrap()
            .contains(&format!("the GKE region {gcp_region} does not answer")),
        "hint"
    );

    req.to = None;
    let started = std::time::Instant::now();
    let ranked = plan_for_group(&all, &cached, &req, &opts).await.unwrap();
    let took = started.elapsed();
    eprintln!(
        "ranked in {took:?}: target {}",
        ranked.plan.target.cluster_id
    );
    // The members are read side by side: one deadline, not one each.
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_ne!(ranked.plan.target.cluster_id, gcp);
    assert_eq!(ranked.plan.refusal, None);
    let down = ranked
        .plan
        .candidates
        .iter()
        .find(|c| c.cluster_id == gcp)
        .unwrap();
    assert!(
        down.refused
            .as_deref()
            .unwrap()
            .starts_with("unreachable: "),
        "{down:?}"
    );
    sandbox.chaos().clear_all();

    // Every Kubernetes API answers only after 8 s: the source too, so
    // there is nothing to plan, and that is said at the 2 s deadline.
    sandbox
        .chaos()
        .add(Fault::Latency {
            cloud: Target::K8s,
            millis: 8_000,
        })
        .unwrap();
    let started = std::time::Instant::now();
    let e = match plan_for_group(&all, &cached, &req, &opts).await {
        Ok(_) => panic!("planned against a hung source"),
        Err(e) => e,
    };
    let took = started.elapsed();
    eprintln!("hung source given up in {took:?}: {e}");
    assert_eq!(e.kind(), "unreachable", "{e}");
    assert!(e.to_string().contains("no answer within 2 s"), "{e}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    sandbox.chaos().clear_all();
    sandbox.shutdown().await.unwrap();
}
