//! The CLI contract (BRIEF §7) through the real binary: JSON on stdout,
//! logs and hints on stderr, exit codes 0/1/2.

use std::path::Path;
use std::process::{Command, Output};

use cloudops_core::{ClusterSummary, NodePoolSummary, Provider, Store};

mod accounts;
mod act;
mod alerts;
mod anomalies;
mod budget;
mod cache;
mod cost;
mod failover;
mod latency;
mod logs;
mod refresh;
mod store_bench;

/// Every variable that configures a cloud: the tests decide them, never the
/// developer's shell.
const CLOUD_VARS: &[&str] = &[
    "CLOUDOPS_AWS_REGIONS",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EKS",
    "CLOUDOPS_GCP_PROJECTS",
    "CLOUDOPS_GCP_ACCESS_TOKEN",
    "CLOUDOPS_GKE_ENDPOINT",
    "CLOUDOPS_AZURE_ACCESS_TOKEN",
    "CLOUDOPS_AZURE_SUBSCRIPTIONS",
    "CLOUDOPS_ARM_ENDPOINT",
    "DIGITALOCEAN_ACCESS_TOKEN",
    "CLOUDOPS_DO_ENDPOINT",
    "KUBECONFIG",
    "XDG_CONFIG_HOME",
];

fn cloudops(data_dir: &Path, args: &[&str]) -> Output {
    cloudops_with_env(data_dir, args, &[])
}

fn cloudops_with_env(data_dir: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudops"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("CLOUDOPS_DATA_DIR");
    for v in CLOUD_VARS {
        cmd.env_remove(v);
    }
    // Nor the developer's ~/.kube/config, ~/.aws or doctl login.
    cmd.env("HOME", data_dir);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.output().expect("running cloudops")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn seed(dir: &Path) {
    let mut store = Store::open_in(dir).unwrap();
    let mk = |provider, name: &str, region: &str| ClusterSummary {
        id: ClusterSummary::make_id(provider, "acct", region, name),
        provider,
        account: "acct".into(),
        name: name.into(),
        region: region.into(),
        version: Some("1.30".into()),
        status: "ACTIVE".into(),
        endpoint: Some(format!("https://{name}.example.test")),
        node_pools: vec![NodePoolSummary {
            name: "pool".into(),
            count: 2,
            min: Some(1),
            max: Some(4),
            machine_type: Some("s-2vcpu-4gb".into()),
        }],
        collected_at: 1_700_000_000,
        gone_at: None,
    };
    store
        .upsert_clusters(&[
            mk(Provider::Aws, "payments", "eu-west-1"),
            mk(Provider::DigitalOcean, "edge", "fra1"),
        ])
        .unwrap();
}

#[test]
fn clusters_offline_json_reads_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let out = cloudops(dir.path(), &["clusters", "--offline", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    let clusters = doc["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    assert_eq!(doc["errors"], serde_json::json!([]));
    let edge = clusters.iter().find(|c| c["name"] == "edge").unwrap();
    assert_eq!(edge["provider"], "do");
    assert_eq!(edge["region"], "fra1");
    assert_eq!(edge["node_pools"][0]["machine_type"], "s-2vcpu-4gb");
    for key in [
        "id",
        "provider",
        "name",
        "region",
        "version",
        "status",
        "endpoint",
        "node_pools",
    ] {
        assert!(edge.get(key).is_some(), "contract field {key} missing");
    }

    let only_aws = json(&cloudops(
        dir.path(),
        &["clusters", "--offline", "--provider", "aws", "--json"],
    ));
    assert_eq!(only_aws["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(only_aws["clusters"][0]["name"], "payments");
}

#[test]
fn clusters_offline_text_is_a_table_and_an_empty_cache_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(dir.path(), &["clusters", "--offline"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No clusters in the cache"), "{text}");
    assert!(text.contains("cloudops accounts add"), "{text}");

    seed(dir.path());
    let out = cloudops(dir.path(), &["clusters", "--offline"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("PROVIDER"), "{text}");
    assert!(text.contains("EKS") && text.contains("payments"), "{text}");
    assert!(text.contains("DOKS") && text.contains("edge"), "{text}");
}

#[test]
fn cache_check_reports_schema_and_integrity() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let out = cloudops(dir.path(), &["cache", "check", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["integrity"], serde_json::json!(["ok"]));
    assert_eq!(doc["schema_version"], doc["supported_schema_version"]);
    assert!(doc["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(doc["journal_mode"], "wal");
}

#[test]
fn a_foreign_file_is_exit_1_with_a_json_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.sqlite3");
    std::fs::write(&cache, "name,value\nfoo,1\n".repeat(300)).unwrap();
    let out = cloudops(dir.path(), &["cache", "check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "cache_not_a_database");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&cache.display().to_string()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(dir.path(), &["clusters", "--provider", "ibm", "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cloudops(dir.path(), &["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    // Live discovery with no account: a usage error with the ways out.
    let out = cloudops(dir.path(), &["clusters", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "no_accounts");
    assert!(doc["error"]["hint"].as_str().unwrap().contains("--sandbox"));
}

#[test]
fn sandbox_discovery_finds_the_whole_fleet_and_caches_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(dir.path(), &["clusters", "--sandbox", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    let clusters = doc["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 12, "{doc}");
    assert_eq!(doc["errors"], serde_json::json!([]));
    for provider in ["aws", "gcp", "azure", "do"] {
        assert_eq!(
            clusters
                .iter()
                .filter(|c| c["provider"] == provider)
                .count(),
            3,
            "{provider}"
        );
    }
    assert!(clusters
        .iter()
        .all(|c| c["node_pools"].as_array().is_some_and(|p| !p.is_empty())));
    // The same fleet is now readable offline, with no network at all, from
    // the sandbox's own cache; the real cache stays empty.
    let offline = json(&cloudops(
        dir.path(),
        &["clusters", "--offline", "--sandbox", "--json"],
    ));
    assert_eq!(offline["clusters"].as_array().unwrap().len(), 12);
    assert!(dir.path().join("sandbox/cache.sqlite3").is_file());
    let real = json(&cloudops(dir.path(), &["clusters", "--offline", "--json"]));
    assert_eq!(real["clusters"], serde_json::json!([]));
}

#[test]
fn one_failing_cloud_gives_partial_results_and_exit_3() {
    // A sandbox process supplies the endpoints; the DigitalOcean token is
    // revoked, so DOKS fails and the other three clouds still answer.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .args(["sandbox", "serve", "--seed", "42"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
    let mut env: Vec<(String, String)> = doc["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str()?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (k, v) in &mut env {
        if k == "DIGITALOCEAN_ACCESS_TOKEN" {
            *v = "revoked-token".into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops_with_env(dir.path(), &["clusters", "--json"], &env);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["clusters"].as_array().unwrap().len(), 9);
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{doc}");
    assert_eq!(errors[0]["provider"], "do");
    assert_eq!(errors[0]["kind"], "unauthorized");
    assert!(errors[0]["hint"]
        .as_str()
        .unwrap()
        .contains("DigitalOcean token"));
    // The token never appears in what we print.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("revoked-token"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("revoked-token"));
}

#[test]
fn help_works_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["clusters", "--help"],
        &["cache", "check", "--help"],
    ] {
        let out = cloudops(dir.path(), args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("--data-dir"), "{args:?}: {text}");
    }
}

mod sandbox_serve {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// A bare HTTP/1.0 GET: enough for one loopback request, no client crate.
    pub(super) fn get(base_url: &str, path: &str, token: &str) -> String {
        let authority = base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).expect("connecting to the sandbox");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn serve_prints_endpoints_and_env_lines_then_stops_on_sigterm() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["sandbox", "serve", "--addr", "127.0.0.1:0", "--seed", "7"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting cloudops sandbox serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("first stdout line is not JSON ({e}): {line:?}"));
        let base = doc["base_url"].as_str().unwrap().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        assert_eq!(doc["seed"], 7);
        assert!(doc["clusters"].as_u64().unwrap() >= 4);
        assert_eq!(doc["endpoints"]["do"], format!("{base}/do"));
        let env: Vec<&str> = doc["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(env.contains(&format!("CLOUDOPS_DO_ENDPOINT={base}/do").as_str()));
        assert!(env.iter().any(|l| l.starts_with("AWS_ENDPOINT_URL=")));
        let token = env
            .iter()
            .find_map(|l| l.strip_prefix("DIGITALOCEAN_ACCESS_TOKEN="))
            .expect("a DO token line");

        // The printed endpoint and token really reach the DOKS API.
        let ok = get(&base, "/do/v2/kubernetes/clusters", token);
        assert!(ok.starts_with("HTTP/1.0 200"), "{ok}");
        assert!(ok.contains("\"kubernetes_clusters\""), "{ok}");
        let denied = get(&base, "/do/v2/kubernetes/clusters", "wrong");
        assert!(denied.starts_with("HTTP/1.0 401"), "{denied}");

        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(code) = child.try_wait().unwrap() {
                assert!(code.success(), "sandbox exited with {code}");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "sandbox did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn serve_refuses_a_non_loopback_address() {
        let out = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["sandbox", "serve", "--addr", "0.0.0.0:0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    }
}

mod bench {
    use std::process::Command;

    #[test]
    fn bench_sandbox_reports_every_request_and_a_rate() {
        let out = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args([
                "bench",
                "sandbox",
                "--requests",
                "300",
                "--concurrency",
                "8",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["requests"], 300);
        assert_eq!(doc["ok"], 300, "{doc}");
        assert_eq!(doc["failed"], 0);
        assert_eq!(doc["concurrency"], 8);
        // A measurement, not a goal: only check it is a real positive number.
        assert!(doc["requests_per_second"].as_f64().unwrap() > 0.0);
        assert!(doc["latency_ms_p99"].as_f64().unwrap() >= doc["latency_ms_p50"].as_f64().unwrap());
    }

    #[test]
    fn bench_sandbox_rejects_zero_requests() {
        let out = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["bench", "sandbox", "--requests", "0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
    }
}

mod sandbox_world_file {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    #[test]
    fn a_bad_world_file_exits_2_with_its_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(
            &path,
            "seed = 1\n\n[[cluster]]\nname = \"a\"\ncloud = \"aws\"\nregion = \"us-east-1\"\nnode_pools = [{ name = \"ng\", count = \"three\" }]\n",
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["sandbox", "serve", "--json", "--world"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out:?}"));
        assert_eq!(doc["error"]["kind"], "bad_world_file");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("bad.toml:7:") && message.contains("cluster[0].node_pools[0].count"),
            "{message}"
        );
        assert!(doc["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("sandbox-world.md"));
    }

    #[test]
    fn a_good_world_file_is_served() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("world.toml");
        std::fs::write(
            &path,
            "seed = 11\n[generate]\nclusters = 40\nregions_per_cloud = 10\n",
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["sandbox", "serve", "--world"])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // Stop it before asserting, so a failure leaves no process behind.
        let _ = child.kill();
        let _ = child.wait();
        let doc: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("first stdout line is not JSON ({e}): {line:?}"));
        assert_eq!(doc["clusters"], 40);
        assert_eq!(doc["seed"], 11);
        let env: Vec<&str> = doc["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let regions = env
            .iter()
            .find_map(|l| l.strip_prefix("CLOUDOPS_AWS_REGIONS="))
            .unwrap();
        assert_eq!(regions.split(',').count(), 10, "{regions}");
    }
}

/// `cloudops sandbox chaos` against a served sandbox: add a fault, see its
/// effect on one request, clear it.
mod sandbox_chaos {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Output, Stdio};

    /// Kills the sandbox even when an assertion fails.
    struct Served(Child);

    impl Drop for Served {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    use super::sandbox_serve::get;

    fn chaos(base: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["--json", "sandbox", "chaos", "--url", base])
            .args(args)
            .output()
            .unwrap()
    }

    fn doc(out: &Output) -> serde_json::Value {
        assert!(
            out.status.success(),
            "{:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    #[test]
    fn add_list_and_clear_a_fault_through_the_cli() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
            .args(["sandbox", "serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let _served = Served(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let served: serde_json::Value = serde_json::from_str(&line).unwrap();
        let base = served["base_url"].as_str().unwrap().to_owned();
        let path = "/do/v2/kubernetes/clusters";

        let add = "add error-rate --cloud do --rate 1 --status 429 --retry-after 3";
        let added = doc(&chaos(&base, &add.split(' ').collect::<Vec<_>>()));
        let id = added["id"].as_u64().unwrap();
        assert_eq!(added["fault"]["kind"], "error_rate");
        let throttled = get(&base, path, "sandbox-do");
        assert!(throttled.starts_with("HTTP/1.0 429"), "{throttled}");
        assert!(
            throttled.to_ascii_lowercase().contains("retry-after: 3"),
            "{throttled}"
        );

        let listed = doc(&chaos(&base, &["list"]));
        assert_eq!(listed["faults"].as_array().unwrap().len(), 1);
        assert_eq!(listed["requests"]["do"], 1);

        let cleared = doc(&chaos(&base, &["clear", &id.to_string()]));
        assert_eq!(cleared["cleared"], 1);
        let ok = get(&base, path, "sandbox-do");
        assert!(ok.starts_with("HTTP/1.0 200"), "{ok}");

        // An unknown id is an error (1); a bad fault a usage error (2); a
        // non-loopback URL is refused before any request (2).
        assert_eq!(chaos(&base, &["clear", "99"]).status.code(), Some(1));
        let bad: Vec<_> = "add error-rate --cloud do --rate 2".split(' ').collect();
        let bad = chaos(&base, &bad);
        assert_eq!(bad.status.code(), Some(2));
        let far = chaos("http://10.1.2.3:80", &["list"]);
        assert_eq!(far.status.code(), Some(2));
        let err: serde_json::Value = serde_json::from_slice(&far.stdout).unwrap();
        assert_eq!(err["error"]["kind"], "sandbox_not_loopback");
    }
}
