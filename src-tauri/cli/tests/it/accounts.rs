//! `cloudops accounts` through the real binary. No test here stores a
//! secret: that needs an OS keyring (the app's tests use the mock store, the
//! e2e suite a private Secret Service), and a CLI test must never write into
//! the developer's own keyring.

use super::{cloudops, json};

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: one
  cluster:
    server: https://10.0.0.1
- name: two
  cluster:
    server: https://10.0.0.2:6443
contexts:
- name: ctx-one
  context: {cluster: one, user: u}
- name: ctx-two
  context: {cluster: two, user: u}
current-context: ctx-one
users:
- name: u
  user: {token: t}
";

#[test]
fn accounts_are_added_listed_tested_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let kubeconfig = data.join("team.kubeconfig");
    std::fs::write(&kubeconfig, KUBECONFIG).unwrap();

    let out = cloudops(data, &["accounts", "list", "--json"]);
    assert!(out.status.success());
    assert_eq!(json(&out)["accounts"], serde_json::json!([]));

    let out = cloudops(
        data,
        &[
            "accounts",
            "add",
            "kubeconfig",
            "--name",
            "team",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cloudops(
        data,
        &[
            "accounts",
            "add",
            "do",
            "--name",
            "do-prod",
            "--endpoint",
            "http://127.0.0.1:9/do",
        ],
    );
    assert!(out.status.success());

    // The kubeconfig account finds both contexts without any network call.
    let out = cloudops(data, &["--json", "accounts", "test", "team"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["ok"], true);
    let names: Vec<&str> = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ctx-one", "ctx-two"]);

    // A DOKS account without a token says what to do.
    let out = cloudops(data, &["--json", "accounts", "test", "do-prod"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    let message = doc["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("no API token"), "{message}");
    assert!(!doc["errors"][0]["hint"].as_str().unwrap().is_empty());

    // Live discovery uses the accounts: partial (exit 3), with the
    // kubeconfig contexts listed and the DOKS account's error reported.
    let out = cloudops(data, &["--json", "clusters"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["clusters"].as_array().unwrap().len(), 2);
    assert_eq!(doc["errors"][0]["account"], "do-prod");

    let list = json(&cloudops(data, &["--json", "accounts", "list"]));
    assert_eq!(list["accounts"].as_array().unwrap().len(), 2);
    assert!(list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["keyring"] == false));

    let out = cloudops(data, &["accounts", "remove", "do-prod"]);
    assert!(out.status.success());
    let list = json(&cloudops(data, &["--json", "accounts", "list"]));
    assert_eq!(list["accounts"][0]["name"], "team");
    assert_eq!(list["accounts"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_accounts_input_is_a_usage_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = cloudops(
        data,
        &["--json", "accounts", "add", "do", "--name", "bad name"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "invalid_input");

    let out = cloudops(
        data,
        &[
            "accounts",
            "add",
            "aws",
            "--name",
            "a",
            "--endpoint",
            "http://example.com",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("endpoint"), "{err}");

    let out = cloudops(data, &["accounts", "add", "gcp", "--name", "g"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("project"));

    let out = cloudops(data, &["accounts", "add", "do", "--name", "d"]);
    assert!(out.status.success());
    let out = cloudops(data, &["--json", "accounts", "add", "do", "--name", "d"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "duplicate");

    let out = cloudops(data, &["accounts", "remove", "nope"]);
    assert_eq!(out.status.code(), Some(2));

    // A hand-broken accounts.toml is named, not ignored.
    std::fs::write(data.join("accounts.toml"), "[[account]]\nname = 3\n").unwrap();
    let out = cloudops(data, &["--json", "accounts", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "bad_accounts_file");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("accounts.toml"));
}

#[test]
fn a_gcp_account_takes_a_billing_export_table_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = cloudops(
        data,
        &[
            "accounts",
            "add",
            "gcp",
            "--name",
            "gcp-prod",
            "--project",
            "shop-prod",
            "--billing-export",
            "billing-proj.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cloudops(data, &["accounts", "list", "--json"]);
    let export = &json(&out)["accounts"][0]["billing_export"];
    assert_eq!(export["project"], "billing-proj");
    assert_eq!(export["dataset"], "billing");
    assert_eq!(
        export["table"],
        "gcp_billing_export_v1_0123AB_4567CD_89EF01"
    );

    // A table path that would change the query is refused before anything
    // is written.
    let out = cloudops(
        data,
        &[
            "accounts",
            "add",
            "gcp",
            "--name",
            "gcp-bad",
            "--project",
            "shop-prod",
            "--billing-export",
            "p.d.t` WHERE 1=1 --",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("billing-export"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cloudops(data, &["accounts", "list", "--json"]);
    assert_eq!(json(&out)["accounts"].as_array().unwrap().len(), 1);
}
