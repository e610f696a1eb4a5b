//! `cloudops failover` end to end against a live sandbox (issue 6, BRIEF
//! §8): `checkout` from an EKS cluster to a GKE cluster, with a sampler in
//! this test reading both deployments at 10 Hz straight from the sandbox's
//! Kubernetes API and asserting the invariant (total ready never below
//! the count before the run) at every sample; a run killed with SIGKILL
//! during wait_ready, resumed, then rolled back.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use std::time::{Duration, Instant};

use cloudops_sandbox::kube::k8s_token;

use super::act::Live;
use super::{cloudops_with_env, json};

/// One reading of both deployments.
#[derive(Debug, Clone, Copy)]
struct Sample {
    source: (i64, i64),
    target: (i64, i64),
}

impl Sample {
    fn total_ready(&self) -> i64 {
        self.source.1 + self.target.1
    }
}

/// `(spec.replicas, status.readyReplicas)` of shop/checkout in the
/// sandbox cluster whose CloudOps id is `id` (its name is the last part).
fn deployment_url(live: &Live, id: &str) -> (String, String) {
    let sandbox = live.sandbox.as_ref().unwrap();
    let name = id.rsplit('/').next().unwrap();
    let world = sandbox.world().read();
    let cluster = world
        .clusters
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no sandbox cluster {name}"));
    (
        format!(
            "{}/k8s/{}/apis/apps/v1/namespaces/shop/deployments/checkout",
            sandbox.base_url(),
            cluster.id
        ),
        k8s_token(&cluster.id),
    )
}

async fn read(http: &reqwest::Client, (url, token): &(String, String)) -> Option<(i64, i64)> {
    let body = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let d: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some((
        d["spec"]["replicas"].as_i64()?,
        d["status"]["readyReplicas"].as_i64().unwrap_or(0),
    ))
}

struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(Vec<Sample>, u64, Duration)>,
}

impl Sampler {
    fn start(live: &Live, source: &str, target: &str) -> Sampler {
        let (s, t) = (deployment_url(live, source), deployment_url(live, target));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = live.runtime.spawn(async move {
            let http = reqwest::Client::new();
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let (mut samples, mut errors) = (Vec::new(), 0u64);
            let started = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                tick.tick().await;
                match tokio::join!(read(&http, &s), read(&http, &t)) {
                    (Some(source), Some(target)) => samples.push(Sample { source, target }),
                    _ => errors += 1,
                }
            }
            (samples, errors, started.elapsed())
        });
        Sampler { stop, task }
    }

    /// Stops it; returns the samples and the rate, after checking the
    /// invariant at every one of them.
    fn finish(self, live: &Live, baseline: i64, what: &str) -> (Vec<Sample>, f64) {
        self.stop.store(true, Ordering::SeqCst);
        let (samples, errors, elapsed) = live.runtime.block_on(self.task).unwrap();
        assert_eq!(errors, 0, "{what}: sampler reads failed");
        let rate = samples.len() as f64 / elapsed.as_secs_f64();
        eprintln!(
            "{what}: {} invariant samples in {:.2} s = {rate:.1} Hz",
            samples.len(),
            elapsed.as_secs_f64()
        );
        assert!(rate >= 5.0, "{what}: sampled at {rate:.1} Hz");
        for (i, s) in samples.iter().enumerate() {
            assert!(
                s.total_ready() >= baseline,
                "{what}: sample {i} has {} ready < {baseline}: {s:?}",
                s.total_ready()
            );
        }
        (samples, rate)
    }
}

/// The `checkout` clusters in the cache, by cloud prefix.
fn checkout_on(dir: &std::path::Path, live: &Live, cloud: &str) -> String {
    let doc = json(&cloudops_with_env(dir, &["workloads", "--json"], &live.env));
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["name"] == "checkout" && w["namespace"] == "shop")
        .map(|w| w["cluster"].as_str().unwrap().to_owned())
        .find(|c| c.starts_with(cloud))
        .unwrap_or_else(|| panic!("checkout runs on no {cloud} cluster: {doc}"))
}

fn refresh(dir: &std::path::Path, live: &Live) {
    let out = cloudops_with_env(dir, &["refresh", "--once", "--json"], &live.env);
    assert!(out.status.success(), "{out:?}");
}

fn now_live(live: &Live, id: &str) -> (i64, i64) {
    let url = deployment_url(live, id);
    live.runtime
        .block_on(async { read(&reqwest::Client::new(), &url).await })
        .unwrap()
}

fn run_args<'a>(source: &'a str, target: &'a str) -> Vec<&'a str> {
    vec![
        "failover",
        "run",
        "--group",
        "shop/checkout",
        "--from",
        source,
        "--to",
        target,
        "--traffic-hook",
        "true",
        "--wait",
        "60",
        "--json",
    ]
}

#[test]
fn checkout_fails_over_from_eks_to_gke_and_the_invariant_holds_at_every_sample() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    refresh(dir.path(), &live);
    let eks = checkout_on(dir.path(), &live, "aws/");
    let gke = checkout_on(dir.path(), &live, "gcp/");
    let (src0, dst0) = (now_live(&live, &eks), now_live(&live, &gke));

    // The plan, ranked (no --to): every other checkout cluster is a
    // candidate, the winner is not the source and says why.
    let out = cloudops_with_env(
        dir.path(),
        &[
            "failover",
            "plan",
            "--group",
            "shop/checkout",
            "--from",
            &eks,
            "--json",
        ],
        &live.env,
    );
    assert!(out.status.success(), "{out:?}");
    let ranked = json(&out);
    assert_eq!(
        ranked["plan"]["candidates"].as_array().unwrap().len(),
        2,
        "{ranked}"
    );
    assert_ne!(ranked["plan"]["target"]["cluster_id"], eks.as_str());
    assert!(
        ranked["plan"]["why"].as_array().unwrap().len() >= 3,
        "{ranked}"
    );

    // The plan to GKE: 3 replicas move, the HPA min follows, typed
    // confirmation (it crosses a cloud and drains to 0), no cost data.
    let out = cloudops_with_env(
        dir.path(),
        &[
            "failover",
            "plan",
            "--group",
            "shop/checkout",
            "--from",
            &eks,
            "--to",
            &gke,
            "--json",
        ],
        &live.env,
    );
    let plan = json(&out)["plan"].clone();
    assert_eq!(plan["source"]["cluster_id"], eks.as_str());
    assert_eq!(plan["target"]["cluster_id"], gke.as_str());
    assert_eq!(plan["source_replicas"].as_i64(), Some(src0.0));
    assert_eq!(plan["replicas_to_move"].as_i64(), Some(src0.0));
    assert_eq!(plan["target_after"].as_i64(), Some(dst0.0 + src0.0));
    assert_eq!(plan["baseline_ready"].as_i64(), Some(src0.1 + dst0.1));
    assert_eq!(plan["crosses_cloud"], true);
    assert_eq!(plan["typed_confirmation"], "checkout");
    assert_eq!(plan["refusal"], serde_json::Value::Null);
    assert_eq!(plan["fit"]["fits"], true);
    assert_eq!(
        plan["target_hpa"]["after"]["min"].as_i64(),
        Some(dst0.0 + src0.0)
    );
    // The refresh cached the sandbox's cost: both clusters have a node
    // price, so the delta is shown (its sign is the clouds' price gap).
    assert!(plan["cost"]["hourly"].is_number(), "{plan}");
    assert!(plan["cost"]["note"].is_null(), "{plan}");
    assert!(
        plan["source_health"].is_number() && plan["target_health"].is_number(),
        "{plan}"
    );

    // Refusals change nothing: no terminal and no --yes; read-only.
    let out = cloudops_with_env(dir.path(), &run_args(&eks, &gke), &live.env);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let mut ro = run_args(&eks, &gke);
    ro.extend(["--yes", "--read-only"]);
    let out = cloudops_with_env(dir.path(), &ro, &live.env);
    assert_eq!(json(&out)["error"]["kind"], "read_only");
    assert_eq!((now_live(&live, &eks), now_live(&live, &gke)), (src0, dst0));

    let baseline = src0.1 + dst0.1;
    let sampler = Sampler::start(&live, &eks, &gke);
    std::thread::sleep(Duration::from_millis(300));
    let mut args = run_args(&eks, &gke);
    args.push("--yes");
    let out = cloudops_with_env(dir.path(), &args, &live.env);
    assert!(out.status.success(), "{out:?}");
    std::thread::sleep(Duration::from_millis(300));
    let (samples, _) = sampler.finish(&live, baseline, "eks -> gke run");
    let doc = json(&out);
    assert_eq!(doc["state"], "completed", "{doc}");
    assert!(doc["report"]["watch"]["samples"].as_u64().unwrap() > 0);
    assert_eq!(doc["report"]["watch"]["violation"], serde_json::Value::Null);

    // The replicas moved: the source drained, the target holds them all.
    let last = samples.last().unwrap();
    assert_eq!(last.source, (0, 0));
    assert_eq!(last.target.0, dst0.0 + src0.0);
    assert!(last.target.1 >= baseline);

    // The audit has every step, started then succeeded, and the writes.
    let audit = json(&cloudops_with_env(
        dir.path(),
        &["audit", "--json"],
        &live.env,
    ));
    let rows: Vec<(String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for step in [
        "preflight",
        "raise_target",
        "wait_ready",
        "traffic",
        "drain_source",
        "verify",
    ] {
        let action = format!("failover_{step}");
        let outcomes: Vec<&str> = rows
            .iter()
            .filter(|(a, _)| *a == action)
            .map(|(_, o)| o.as_str())
            .collect();
        assert_eq!(outcomes, ["started", "succeeded"], "{action}: {audit}");
    }
    let writes = |action: &str| {
        rows.iter()
            .filter(|(a, o)| a == action && o == "succeeded")
            .count()
    };
    assert!(writes("scale_deployment") >= 2, "{audit}");
    assert_eq!(
        writes("set_hpa_bounds"),
        2,
        "target raised, source lowered: {audit}"
    );
    for e in audit["entries"].as_array().unwrap() {
        assert!(e["actor"].as_str().unwrap().contains(" via "), "{e}");
    }

    let status = json(&cloudops_with_env(
        dir.path(),
        &["failover", "status", "--json"],
        &live.env,
    ));
    assert_eq!(status["runs"][0]["state"], "completed");
    assert_eq!(status["runs"][0]["steps"].as_array().unwrap().len(), 6);
}

#[test]
fn a_run_killed_in_wait_ready_resumes_and_rollback_restores_the_source() {
    // A slower readiness so that the kill lands inside wait_ready.
    let live = Live::with_world(
        cloudops_sandbox::World::generate(42).with_readiness_delay(Duration::from_secs(4)),
    );
    let dir = tempfile::tempdir().unwrap();
    refresh(dir.path(), &live);
    let eks = checkout_on(dir.path(), &live, "aws/");
    let gke = checkout_on(dir.path(), &live, "gcp/");
    let (src0, dst0) = (now_live(&live, &eks), now_live(&live, &gke));
    let baseline = src0.1 + dst0.1;
    let sampler = Sampler::start(&live, &eks, &gke);

    kill_at(dir.path(), &live, &eks, &gke, "wait_ready");
    let status = json(&cloudops_with_env(
        dir.path(),
        &["failover", "status", "--json"],
        &live.env,
    ));
    let run = &status["runs"][0];
    assert_eq!(run["state"], "running", "{status}");
    assert_eq!(run["step"], "wait_ready");
    assert_eq!(run["steps"][2]["status"], "running", "{status}");
    let id = run["id"].as_i64().unwrap().to_string();

    let out = cloudops_with_env(
        dir.path(),
        &["failover", "resume", &id, "--yes", "--json"],
        &live.env,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["state"], "completed");
    assert_eq!(now_live(&live, &eks).0, 0);
    assert_eq!(now_live(&live, &gke).0, dst0.0 + src0.0);

    let out = cloudops_with_env(
        dir.path(),
        &["failover", "rollback", &id, "--yes", "--json"],
        &live.env,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["state"], "rolled_back");
    std::thread::sleep(Duration::from_millis(300));
    sampler.finish(&live, baseline, "killed, resumed, rolled back");
    assert_eq!(now_live(&live, &eks), src0);
    assert_eq!(now_live(&live, &gke).0, dst0.0);

    // Finished: neither resumes nor rolls back twice.
    let out = cloudops_with_env(
        dir.path(),
        &["failover", "resume", &id, "--yes", "--json"],
        &live.env,
    );
    assert_eq!(json(&out)["error"]["kind"], "invalid_run_state", "{out:?}");
}

/// Starts `failover run --yes` and SIGKILLs it as soon as it reports that
/// `step` started (its row is written `running` before that line).
fn kill_at(dir: &std::path::Path, live: &Live, source: &str, target: &str, step: &str) {
    let mut args = run_args(source, target);
    args.push("--yes");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .arg("--data-dir")
        .arg(dir)
        .args(&args)
        .env("HOME", dir)
        .envs(live.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let wanted = format!("step {step} started");
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains(&wanted) {
            break;
        }
    }
    // SIGKILL: no chance to write anything more.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen.iter().any(|l| l.contains(&wanted)), "{step}: {seen:?}");
}

fn cli_ok(dir: &std::path::Path, live: &Live, args: &[&str]) -> serde_json::Value {
    let out = cloudops_with_env(dir, args, &live.env);
    assert!(out.status.success(), "{args:?}: {out:?}");
    json(&out)
}

/// BRIEF §8's crash test: killed at each step boundary in turn, a run
/// resumes to completion, and rolled back (straight after the kill, or
/// after the resume) it restores the original replicas; the invariant
/// holds at every sample throughout.
#[test]
fn killed_at_each_step_a_run_resumes_or_rolls_back_and_the_invariant_holds() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    refresh(dir.path(), &live);
    let eks = checkout_on(dir.path(), &live, "aws/");
    let gke = checkout_on(dir.path(), &live, "gcp/");
    let (src0, dst0) = (now_live(&live, &eks), now_live(&live, &gke));
    let sampler = Sampler::start(&live, &eks, &gke);
    let steps = [
        "preflight",
        "raise_target",
        "wait_ready",
        "traffic",
        "drain_source",
        "verify",
    ];
    for (i, step) in steps.iter().enumerate() {
        for resume_first in [true, false] {
            kill_at(dir.path(), &live, &eks, &gke, step);
            let status = cli_ok(dir.path(), &live, &["failover", "status", "--json"]);
            let run = &status["runs"][0];
            assert_eq!(
                (run["state"].as_str(), run["step"].as_str()),
                (Some("running"), Some(*step)),
                "{status}"
            );
            assert_eq!(run["steps"][i]["status"], "running", "{status}");
            let id = run["id"].as_i64().unwrap().to_string();
            if resume_first {
                let done = cli_ok(
                    dir.path(),
                    &live,
                    &["failover", "resume", &id, "--yes", "--json"],
                );
                assert_eq!(done["state"], "completed", "{step}: {done}");
                assert_eq!(now_live(&live, &eks).0, 0, "{step}");
                assert_eq!(now_live(&live, &gke).0, dst0.0 + src0.0, "{step}");
            }
            let back = cli_ok(
                dir.path(),
                &live,
                &["failover", "rollback", &id, "--yes", "--json"],
            );
            assert_eq!(back["state"], "rolled_back", "{step}: {back}");
            assert_eq!(
                now_live(&live, &eks),
                src0,
                "{step} (resumed first: {resume_first})"
            );
            assert_eq!(
                now_live(&live, &gke).0,
                dst0.0,
                "{step} (resumed first: {resume_first})"
            );
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    sampler.finish(&live, src0.1 + dst0.1, "kill at each step");
}

#[test]
fn groups_are_detected_from_the_cache_and_user_members_join_the_ranking() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    refresh(dir.path(), &live);
    let eks = checkout_on(dir.path(), &live, "aws/");
    let groups = cli_ok(dir.path(), &live, &["failover", "group", "list", "--json"]);
    let checkout = |doc: &serde_json::Value| {
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == "shop/checkout")
            .cloned()
            .unwrap_or_else(|| panic!("no shop/checkout group: {doc}"))
    };
    let auto = checkout(&groups);
    assert_eq!(auto["members"].as_array().unwrap().len(), 3, "{auto}");
    assert!(auto["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["origin"] == "auto"));

    // A cluster without checkout joins by hand, with another deployment.
    let azure = json(&cloudops_with_env(
        dir.path(),
        &["clusters", "--json"],
        &live.env,
    ))["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .find(|id| {
            id.starts_with("azure/")
                && !auto["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["workload"]["cluster_id"] == id.as_str())
        })
        .unwrap();
    cli_ok(
        dir.path(),
        &live,
        &[
            "failover",
            "group",
            "add",
            "--group",
            "shop/checkout",
            "--cluster",
            &azure,
            "-n",
            "kube-system",
            "--deployment",
            "coredns",
            "--json",
        ],
    );
    let with_user = checkout(&cli_ok(
        dir.path(),
        &live,
        &["failover", "group", "list", "--json"],
    ));
    let user: Vec<_> = with_user["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["origin"] == "user")
        .collect();
    assert_eq!(user.len(), 1, "{with_user}");
    assert_eq!(user[0]["workload"]["deployment"], "coredns");
    let plan = cli_ok(
        dir.path(),
        &live,
        &[
            "failover",
            "plan",
            "--group",
            "shop/checkout",
            "--from",
            &eks,
            "--json",
        ],
    );
    let ranked: Vec<&str> = plan["plan"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cluster_id"].as_str().unwrap())
        .collect();
    assert_eq!(ranked.len(), 3, "{plan}");
    assert!(ranked.contains(&azure.as_str()), "{plan}");

    cli_ok(
        dir.path(),
        &live,
        &[
            "failover",
            "group",
            "remove",
            "--group",
            "shop/checkout",
            "--cluster",
            &azure,
            "--json",
        ],
    );
    let out = cloudops_with_env(
        dir.path(),
        &[
            "failover",
            "group",
            "remove",
            "--group",
            "shop/checkout",
            "--cluster",
            &azure,
            "--json",
        ],
        &live.env,
    );
    assert_eq!(json(&out)["error"]["kind"], "not_found");
    let back = checkout(&cli_ok(
        dir.path(),
        &live,
        &["failover", "group", "list", "--json"],
    ));
    assert_eq!(back["members"].as_array().unwrap().len(), 3);
}

/// The sandbox's own id of the cluster whose CloudOps id is `id`.
fn sandbox_id(live: &Live, id: &str) -> String {
    let name = id.rsplit('/').next().unwrap();
    let world = live.sandbox.as_ref().unwrap().world().read();
    world
        .clusters
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.id.clone())
        .unwrap_or_else(|| panic!("no sandbox cluster {name}"))
}

fn plan_args<'a>(source: &'a str, target: &'a str) -> Vec<&'a str> {
    vec![
        "failover",
        "plan",
        "--group",
        "shop/checkout",
        "--from",
        source,
        "--to",
        target,
        "--json",
    ]
}

/// The audit holds refusal rows only (one per refused command), each
/// naming the target, and no write of any kind.
fn assert_only_refusals(dir: &std::path::Path, live: &Live, target: &str, count: usize) {
    let audit = json(&cloudops_with_env(dir, &["audit", "--json"], &live.env));
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), count, "{audit}");
    for e in entries {
        assert_eq!(e["action"], "failover_refused", "{e}");
        assert_eq!(e["outcome"], "cancelled", "{e}");
        assert_eq!(e["detail"]["target"], target, "{e}");
        assert!(
            e["detail"]["reason"].as_str().unwrap().contains(target),
            "{e}"
        );
    }
}

/// Runs `args` and checks the refusal: exit 1, a message naming the
/// target and containing `reason`; returns how long it took.
fn refused(
    dir: &std::path::Path,
    live: &Live,
    args: &[&str],
    target: &str,
    reason: &str,
) -> (serde_json::Value, Duration) {
    let started = Instant::now();
    let out = cloudops_with_env(dir, args, &live.env);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
    let doc = json(&out);
    // `plan` prints the plan with its refusal; `run` the refusal error.
    let text = doc["plan"]["refusal"]
        .as_str()
        .or(doc["error"]["message"].as_str())
        .unwrap_or_else(|| panic!("no refusal in {doc}"))
        .to_owned();
    eprintln!("{} refused in {took:?}: {text}", args[1]);
    assert!(text.contains(target), "{text}");
    assert!(text.contains(reason), "{text}");
    (doc, took)
}

#[test]
fn a_target_under_a_region_outage_is_refused_within_seconds_and_nothing_changes() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    refresh(dir.path(), &live);
    let eks = checkout_on(dir.path(), &live, "aws/");
    let gke = checkout_on(dir.path(), &live, "gcp/");
    let (src0, dst0) = (now_live(&live, &eks), now_live(&live, &gke));
    // gcp/PROJECT/REGION/NAME
    let region = gke.split('/').nth(2).unwrap().to_owned();
    live.sandbox
        .as_ref()
        .unwrap()
        .chaos()
        .add(cloudops_sandbox::chaos::Fault::RegionOutage {
            cloud: cloudops_sandbox::chaos::Target::Gcp,
            region: region.clone(),
        })
        .unwrap();

    let (doc, took) = refused(
        dir.path(),
        &live,
        &plan_args(&eks, &gke),
        &gke,
        "unreachable",
    );
    let hint = doc["plan"]["refusal_hint"].as_str().unwrap();
    assert!(
        hint.contains(&format!("the GKE region {region} does not answer")),
        "{hint}"
    );
    // Well before the client's own 60 s timeout: the outage hangs, the
    // planner does not wait for it.
    assert!(took < Duration::from_secs(20), "plan took {took:?}");

    let mut run = run_args(&eks, &gke);
    run.push("--yes");
    let (doc, took) = refused(dir.path(), &live, &run, &gke, "unreachable");
    assert_eq!(doc["error"]["kind"], "failover_refused", "{doc}");
    assert!(took < Duration::from_secs(20), "run took {took:?}");

    // Unranked (no --to), the outage's cluster is not the target and
    // says why.
    let out = cloudops_with_env(
        dir.path(),
        &[
            "failover",
            "plan",
            "--group",
            "shop/checkout",
            "--from",
            &eks,
            "--json",
        ],
        &live.env,
    );
    let ranked = json(&out);
    assert_ne!(
        ranked["plan"]["target"]["cluster_id"],
        gke.as_str(),
        "{ranked}"
    );
    let down = ranked["plan"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_id"] == gke.as_str())
        .unwrap_or_else(|| panic!("{gke} not shown: {ranked}"));
    assert!(
        down["refused"]
            .as_str()
            .unwrap()
            .starts_with("unreachable: "),
        "{down}"
    );

    live.sandbox.as_ref().unwrap().chaos().clear_all();
    assert_eq!((now_live(&live, &eks), now_live(&live, &gke)), (src0, dst0));
    assert_only_refusals(dir.path(), &live, &gke, 2);
}

#[test]
fn a_403_on_the_target_is_refused_and_nothing_changes() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    refresh(dir.path(), &live);
    let eks = checkout_on(dir.path(), &live, "aws/");
    let gke = checkout_on(dir.path(), &live, "gcp/");
    let (src0, dst0) = (now_live(&live, &eks), now_live(&live, &gke));
    live.sandbox
        .as_ref()
        .unwrap()
        .chaos()
        .add(cloudops_sandbox::chaos::Fault::RbacDeny {
            cluster_id: sandbox_id(&live, &gke),
            namespace: Some("shop".into()),
        })
        .unwrap();

    let (doc, _) = refused(
        dir.path(),
        &live,
        &plan_args(&eks, &gke),
        &gke,
        "forbids what the run must do there: patch deployments/scale (apps) in namespace shop",
    );
    let hint = doc["plan"]["refusal_hint"].as_str().unwrap();
    assert!(hint.contains("RBAC Role"), "{hint}");
    let denied = doc["plan"]["candidates"][0]["refused"].as_str().unwrap();
    assert!(
        denied.starts_with("forbidden: patch deployments/scale"),
        "{denied}"
    );

    let mut run = run_args(&eks, &gke);
    run.push("--yes");
    let (doc, _) = refused(dir.path(), &live, &run, &gke, "forbids");
    assert_eq!(doc["error"]["kind"], "failover_refused", "{doc}");
    assert!(
        doc["error"]["hint"].as_str().unwrap().contains("RBAC Role"),
        "{doc}"
    );

    assert_eq!((now_live(&live, &eks), now_live(&live, &gke)), (src0, dst0));
    assert_only_refusals(dir.path(), &live, &gke, 2);
    let runs = cli_ok(dir.path(), &live, &["failover", "status", "--json"]);
    assert_eq!(runs["runs"].as_array().unwrap().len(), 0, "{runs}");
}
