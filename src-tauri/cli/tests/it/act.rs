//! `cloudops scale` and `cloudops audit` against a live sandbox (issue 6):
//! the preview, the write through the scale subresource, the audit rows
//! before and after, and the refusals that change nothing.

use std::net::SocketAddr;

use cloudops_sandbox::{Sandbox, World};

use super::{cloudops_with_env, json};

/// A sandbox served from this test process, and the env lines that point
/// the CLI's ambient providers at it.
pub(super) struct Live {
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) sandbox: Option<cloudops_sandbox::RunningSandbox>,
    pub(super) env: Vec<(String, String)>,
}

impl Live {
    pub(super) fn start() -> Live {
        Live::with_world(World::generate(42))
    }

    pub(super) fn with_world(world: World) -> Live {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(async { Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world) })
            .unwrap();
        let env = sandbox.env_map().into_iter().collect();
        Live {
            runtime,
            sandbox: Some(sandbox),
            env,
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(s) = self.sandbox.take() {
            let _ = self.runtime.block_on(s.shutdown());
        }
    }
}

fn first_aws_cluster(dir: &std::path::Path, env: &[(String, String)]) -> String {
    let doc = json(&cloudops_with_env(dir, &["clusters", "--json"], env));
    doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .find(|id| id.starts_with("aws/"))
        .unwrap()
}

fn scale_args<'a>(cluster: &'a str, replicas: &'a str) -> Vec<&'a str> {
    vec![
        "scale",
        "--cluster",
        cluster,
        "-n",
        "kube-system",
        "--deployment",
        "coredns",
        "--replicas",
        replicas,
        "--wait",
        "30",
        "--json",
    ]
}

#[test]
fn scale_previews_writes_audits_and_follows_the_rollout() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    let cluster = first_aws_cluster(dir.path(), &live.env);

    let mut args = scale_args(&cluster, "3");
    args.push("--yes");
    let out = cloudops_with_env(dir.path(), &args, &live.env);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["state"], "completed");
    assert_eq!(doc["plan"]["from"], 2);
    assert_eq!(doc["plan"]["to"], 3);
    assert_eq!(doc["plan"]["changes"][0]["field"], "spec.replicas");
    assert_eq!(doc["plan"]["fit"]["fits"], true, "{doc}");
    assert_eq!(doc["outcome"]["settled"], true, "{doc}");
    assert_eq!(doc["outcome"]["progress"]["ready"], 3);

    // The cluster now has 3: the same request is a no-op, read live.
    let out = cloudops_with_env(dir.path(), &scale_args(&cluster, "3"), &live.env);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["state"], "noop");

    // Two audit rows, started then succeeded, naming the OS user and the
    // cloud identity, with the diff.
    let audit = json(&cloudops_with_env(
        dir.path(),
        &["audit", "--json"],
        &live.env,
    ));
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[0]["outcome"], "started");
    assert_eq!(entries[1]["outcome"], "succeeded");
    for e in entries {
        assert_eq!(e["action"], "scale_deployment");
        assert_eq!(e["target"], format!("{cluster}/kube-system/coredns"));
        assert!(
            e["actor"].as_str().unwrap().contains(" via aws account "),
            "{e}"
        );
        assert_eq!(
            (e["detail"]["from"].clone(), e["detail"]["to"].clone()),
            (2.into(), 3.into())
        );
    }
    // The app's filter and CSV, from the terminal.
    let csv = cloudops_with_env(
        dir.path(),
        &[
            "audit",
            "--csv",
            "--outcome",
            "succeeded",
            "--grep",
            "COREDNS",
        ],
        &live.env,
    );
    assert_eq!(csv.status.code(), Some(0), "{csv:?}");
    let text = String::from_utf8_lossy(&csv.stdout);
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "id,at_ms,actor,action,target,outcome,detail");
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains(",scale_deployment,"), "{text}");
    assert!(lines[1].contains(",succeeded,"), "{text}");
    let none = json(&cloudops_with_env(
        dir.path(),
        &["audit", "--json", "--action", "rollout_undo"],
        &live.env,
    ));
    assert_eq!(none["entries"], serde_json::json!([]));
}

#[test]
fn refusals_change_nothing() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    let cluster = first_aws_cluster(dir.path(), &live.env);

    // No --yes and no terminal: exit 2, nothing written.
    let out = cloudops_with_env(dir.path(), &scale_args(&cluster, "4"), &live.env);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));

    // Read-only from the environment: refused before any network call,
    // even with --yes.
    let mut env = live.env.clone();
    env.push(("CLOUDOPS_READ_ONLY".into(), "1".into()));
    let mut args = scale_args(&cluster, "4");
    args.push("--yes");
    let out = cloudops_with_env(dir.path(), &args, &env);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json(&out)["error"]["kind"], "read_only");
    // And from the flag.
    let mut flagged = args.clone();
    flagged.push("--read-only");
    let out = cloudops_with_env(dir.path(), &flagged, &live.env);
    assert_eq!(json(&out)["error"]["kind"], "read_only");

    // Out of range, and an unknown deployment.
    let mut bad = scale_args(&cluster, "10001");
    bad.push("--yes");
    let out = cloudops_with_env(dir.path(), &bad, &live.env);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json(&out)["error"]["kind"], "invalid_plan");
    let mut missing = scale_args(&cluster, "1");
    missing[6] = "no-such-deployment";
    missing.push("--yes");
    let out = cloudops_with_env(dir.path(), &missing, &live.env);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "not_found");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-deployment"));

    // The deployment still has its 2 replicas, and nothing was audited.
    let out = cloudops_with_env(dir.path(), &scale_args(&cluster, "2"), &live.env);
    assert_eq!(json(&out)["state"], "noop", "{out:?}");
    let audit = json(&cloudops_with_env(
        dir.path(),
        &["audit", "--json"],
        &live.env,
    ));
    assert_eq!(audit["entries"], serde_json::json!([]));
}

#[test]
fn rollout_restart_then_undo_complete_and_are_audited() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    let cluster = first_aws_cluster(dir.path(), &live.env);
    let run = |verb: &str| {
        let args = [
            "rollout",
            verb,
            "--cluster",
            &cluster,
            "-n",
            "kube-system",
            "--deployment",
            "coredns",
            "--wait",
            "60",
            "--yes",
            "--json",
        ];
        let out = cloudops_with_env(dir.path(), &args, &live.env);
        assert!(out.status.success(), "{verb}: {out:?}");
        json(&out)
    };
    // Undo with only one revision has nothing to go back to.
    let out = cloudops_with_env(
        dir.path(),
        &[
            "rollout",
            "undo",
            "--cluster",
            &cluster,
            "-n",
            "kube-system",
            "--deployment",
            "coredns",
            "--yes",
            "--json",
        ],
        &live.env,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no previous revision"));

    let restart = run("restart");
    assert_eq!(restart["state"], "completed");
    assert_eq!(restart["outcome"]["complete"], true, "{restart}");
    let before = restart["plan"]["revision"].as_i64().unwrap();

    let undo = run("undo");
    assert_eq!(undo["outcome"]["complete"], true, "{undo}");
    assert_eq!(undo["plan"]["revision"].as_i64().unwrap(), before + 1);
    assert_eq!(undo["plan"]["to_revision"].as_i64().unwrap(), before);

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
    let want: Vec<(String, String)> = [
        ("rollout_restart", "started"),
        ("rollout_restart", "succeeded"),
        ("rollout_undo", "started"),
        ("rollout_undo", "succeeded"),
    ]
    .iter()
    .map(|(a, o)| (a.to_string(), o.to_string()))
    .collect();
    assert_eq!(rows, want);
}

#[test]
fn nodepool_scale_goes_through_each_clouds_api_and_is_followed() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = json(&cloudops_with_env(
        dir.path(),
        &["clusters", "--json"],
        &live.env,
    ));
    let mut bounded = 0;
    // One cluster per cloud: EKS UpdateNodegroupConfig, GKE setSize, AKS
    // agentPools PUT, DOKS node_pools PUT, each polled to the new count.
    for cloud in ["aws/", "gcp/", "azure/", "do/"] {
        let c = doc["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"].as_str().unwrap().starts_with(cloud))
            .unwrap();
        let id = c["id"].as_str().unwrap();
        let pool = &c["node_pools"][0];
        let name = pool["name"].as_str().unwrap();
        let count = pool["count"].as_u64().unwrap();
        let max = pool["max"].as_u64();
        let target = if max.is_none_or(|m| count < m) {
            count + 1
        } else {
            count - 1
        };
        let target_s = target.to_string();
        let args = [
            "nodepool",
            "scale",
            "--cluster",
            id,
            "--pool",
            name,
            "--count",
            &target_s,
            "--yes",
            "--wait",
            "60",
            "--json",
        ];
        let out = cloudops_with_env(dir.path(), &args, &live.env);
        assert!(out.status.success(), "{cloud}: {out:?}");
        let doc = json(&out);
        assert_eq!(doc["state"], "completed", "{doc}");
        assert_eq!(doc["plan"]["from"].as_u64(), Some(count));
        assert_eq!(doc["outcome"]["count"].as_u64(), Some(target), "{doc}");
        assert_eq!(doc["outcome"]["settled"], true, "{doc}");

        // Beyond the pool's max (when it autoscales): refused before
        // anything is sent.
        let Some(max) = max else { continue };
        bounded += 1;
        let too_many = (max + 1).to_string();
        let args = [
            "nodepool",
            "scale",
            "--cluster",
            id,
            "--pool",
            name,
            "--count",
            &too_many,
            "--yes",
            "--json",
        ];
        let out = cloudops_with_env(dir.path(), &args, &live.env);
        assert_eq!(out.status.code(), Some(1), "{cloud}: {out:?}");
        assert!(json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("outside node pool"));
    }
    let audit = json(&cloudops_with_env(
        dir.path(),
        &["audit", "--json"],
        &live.env,
    ));
    let entries = audit["entries"].as_array().unwrap();
    assert!(bounded >= 1, "no pool with bounds was checked");
    assert_eq!(entries.len(), 8, "started + succeeded per cloud: {audit}");
    assert!(entries.iter().all(|e| e["action"] == "scale_node_pool"));
}

#[test]
fn hpa_autoscale_creates_the_defaults_and_set_edits_one_field() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    let cluster = first_aws_cluster(dir.path(), &live.env);
    let hpa = |verb: &str, extra: &[&str]| {
        let mut args = vec![
            "hpa",
            verb,
            "--cluster",
            &cluster,
            "-n",
            "kube-system",
            "--deployment",
            "coredns",
            "--json",
        ];
        args.extend_from_slice(extra);
        cloudops_with_env(dir.path(), &args, &live.env)
    };
    // No --yes, no terminal: refused, nothing written.
    let out = hpa("autoscale", &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let out = hpa("autoscale", &["--yes"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["state"], "completed", "{doc}");
    assert_eq!(doc["plan"]["action"], "create");
    let after = &doc["plan"]["after"];
    assert_eq!(
        (after["min"].as_i64(), after["max"].as_i64()),
        (Some(2), Some(10))
    );
    assert_eq!(after["cpu_percent"], 70);
    assert_eq!(after["memory_percent"], 80);
    assert_eq!(
        after["scale_up"],
        serde_json::json!({"percent": 100, "period_secs": 30})
    );
    assert_eq!(
        after["scale_down"],
        serde_json::json!({"percent": 50, "period_secs": 60})
    );
    assert_eq!(after["scale_down_stabilization_secs"], 300);

    // Read back from the cluster: the same settings, so nothing to do.
    let out = hpa("autoscale", &["--yes"]);
    assert_eq!(json(&out)["state"], "noop", "{out:?}");

    // An edit of one field diffs that field only.
    let out = hpa("set", &["--max", "12", "--yes"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["plan"]["action"], "edit");
    assert_eq!(
        doc["plan"]["changes"],
        serde_json::json!([{"field": "spec.maxReplicas", "before": "10", "after": "12"}])
    );
    let out = hpa("set", &["--min", "0", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json(&out)["error"]["kind"], "invalid_plan");
    let out = hpa("set", &["--max", "3", "--yes", "--read-only"]);
    assert_eq!(json(&out)["error"]["kind"], "read_only");

    let audit = json(&cloudops_with_env(
        dir.path(),
        &["audit", "--json"],
        &live.env,
    ));
    let rows: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("set_hpa", "started"),
            ("set_hpa", "succeeded"),
            ("set_hpa", "started"),
            ("set_hpa", "succeeded")
        ]
    );
}

#[test]
fn a_nodepool_scale_down_says_where_the_evicted_pods_go() {
    let live = Live::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = json(&cloudops_with_env(
        dir.path(),
        &["clusters", "--json"],
        &live.env,
    ));
    // A pool that can lose a node (above its min and above one).
    let (id, pool, count) = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| {
            c["node_pools"].as_array()?.iter().find_map(|p| {
                let count = p["count"].as_u64()?;
                let min = p["min"].as_u64().unwrap_or(0);
                (count >= 2 && count > min).then(|| {
                    (
                        c["id"].as_str().unwrap().to_owned(),
                        p["name"].as_str().unwrap().to_owned(),
                        count,
                    )
                })
            })
        })
        .expect("a sandbox pool with room to shrink");
    let to = (count - 1).to_string();
    let out = cloudops_with_env(
        dir.path(),
        &[
            "nodepool",
            "scale",
            "--cluster",
            &id,
            "--pool",
            &pool,
            "--count",
            &to,
            "--yes",
            "--wait",
            "60",
            "--json",
        ],
        &live.env,
    );
    let doc = json(&out);
    let drain = &doc["plan"]["drain_fit"];
    assert_eq!(drain["removed_nodes"].as_array().unwrap().len(), 1, "{doc}");
    assert!(drain["evicted_pods"].as_u64().is_some(), "{doc}");
    assert!(drain["free_cpu"].as_f64().unwrap() > 0.0, "{doc}");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(doc["state"], "completed", "{doc}");
    assert!(drain["summary"].as_str().unwrap().contains(&pool), "{doc}");
    let fits = drain["fits"].as_bool().unwrap();
    assert_eq!(
        doc["plan"]["typed_confirmation"].is_null(),
        fits,
        "typed confirmation only when the pods do not fit: {doc}"
    );
}
