//! The kubeconfig provider against the sandbox (BRIEF §4): the user's files
//! point at sandbox clusters, contexts are discovered per file, connected
//! with a static token, a token file or an exec plugin, and listed with a
//! real `kube::Client`; a broken file fails only its own scope; a context
//! that a cloud also discovers is merged into the cloud's cluster.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use cloudops_cloud::{
    access::{AccessError, ClusterAccess},
    ambient::{self, Shared},
    discovery::{discover_all, Limits},
    merge::merge_by_endpoint,
    providers::{kubeconfig::KubeconfigProvider, ClusterLocator, Provider},
    resilience::CallPolicy,
    ProviderError,
};
use cloudops_core::model::Provider as ProviderKind;
use cloudops_sandbox::{RunningSandbox, Sandbox, World};
use k8s_openapi::api::core::v1::Pod;

fn start() -> (RunningSandbox, World) {
    let world = World::generate(42);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    (sandbox, world)
}

/// (id, name) of the world's first `n` clusters.
fn clusters(world: &World, n: usize) -> Vec<(String, String)> {
    world
        .read()
        .clusters
        .iter()
        .take(n)
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect()
}

/// A context entry: name, server, and the user's YAML body.
struct Ctx<'a> {
    name: &'a str,
    server: String,
    user: String,
}

fn kubeconfig(contexts: &[Ctx<'_>]) -> String {
    let mut clusters = String::new();
    let mut ctxs = String::new();
    let mut users = String::new();
    for c in contexts {
        let n = c.name;
        clusters += &format!(
            "- name: {n}-cluster\n  cluster:\n    server: {}\n",
            c.server
        );
        ctxs += &format!("- name: {n}\n  context:\n    cluster: {n}-cluster\n    user: {n}-user\n");
        users += &format!("- name: {n}-user\n  user:\n{}", c.user);
    }
    format!("apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{ctxs}users:\n{users}")
}

fn token_user(id: &str) -> String {
    format!("    token: sandbox-k8s-{id}\n")
}

fn exec_user(command: &Path, env: &[(&str, &str)]) -> String {
    let mut s = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args: [\"get-token\"]\n      interactiveMode: Never\n",
        command.display()
    );
    if !env.is_empty() {
        s += "      env:\n";
        for (k, v) in env {
            s += &format!("      - name: {k}\n        value: \"{v}\"\n");
        }
    }
    s
}

fn kubeconfig_var(files: &[&Path]) -> impl Fn(&str) -> Option<String> {
    let joined = std::env::join_paths(files).unwrap();
    let value = joined.to_string_lossy().into_owned();
    move |k: &str| (k == "KUBECONFIG").then(|| value.clone())
}

async fn list_pods(p: &dyn Provider, locator: &ClusterLocator) -> Result<usize, String> {
    let conn = p.connect(locator).await.map_err(|e| e.to_string())?;
    let access = ClusterAccess::new(conn);
    let client = access.client().await.map_err(|e| e.to_string())?;
    let pods: kube::Api<Pod> = kube::Api::all(client);
    let listed = pods
        .list(&Default::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(listed.items.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contexts_from_two_files_connect_and_list_pods_first_file_winning() {
    let (sandbox, world) = start();
    let ids = clusters(&world, 3);
    let url = |i: usize| format!("{}/k8s/{}", sandbox.base_url(), ids[i].0);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("sandbox-k8s-{}\n", ids[2].0)).unwrap();
    let first = dir.path().join("first.yaml");
    let second = dir.path().join("second.yaml");
    std::fs::write(
        &first,
        kubeconfig(&[
            Ctx {
                name: "alpha",
                server: url(0),
                user: token_user(&ids[0].0),
            },
            Ctx {
                name: "shared",
                server: url(1),
                user: token_user(&ids[1].0),
            },
        ]),
    )
    .unwrap();
    std::fs::write(
        &second,
        kubeconfig(&[
            // Shadowed by the first file's "shared", as in kubectl.
            Ctx {
                name: "shared",
                server: url(2),
                user: token_user(&ids[2].0),
            },
            Ctx {
                name: "beta",
                server: url(2),
                user: format!("    tokenFile: {}\n", token_file.display()),
            },
        ]),
    )
    .unwrap();

    let p = KubeconfigProvider::from_vars("env", &kubeconfig_var(&[&first, &second]))
        .expect("KUBECONFIG names files");
    let scopes = p.scopes().await.unwrap();
    let labels: Vec<_> = scopes.iter().map(|s| PathBuf::from(&s.label)).collect();
    assert_eq!(labels, [first.clone(), second.clone()]);

    let mut found = Vec::new();
    for scope in &scopes {
        found.extend(p.discover(scope).await.unwrap());
    }
    let seen: Vec<_> = found
        .iter()
        .map(|c| {
            (
                c.locator.name.as_str(),
                c.endpoint.clone().unwrap_or_default(),
                PathBuf::from(&c.locator.scope),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("alpha", url(0), first.clone()),
            ("shared", url(1), first.clone()),
            ("beta", url(2), second.clone()),
        ]
    );
    for c in &found {
        assert_eq!(c.provider, ProviderKind::Kubeconfig);
        assert_eq!(c.account, "env");
        assert_eq!(c.locator.native_id, c.locator.name);
        assert_eq!(c.status, "configured");
        assert!(c.node_pools.is_empty() && c.version.is_none());
        let pods = list_pods(&p, &c.locator)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.locator.name));
        assert!(pods > 0, "{}: no pods", c.locator.name);
    }

    let again = p.describe(&found[1].locator).await.unwrap();
    assert_eq!(again, found[1]);
    let gone = ClusterLocator {
        native_id: "deleted".into(),
        ..found[0].locator.clone()
    };
    assert_eq!(p.describe(&gone).await.unwrap_err().kind(), "not_found");

    // A wrong token is the cluster's 401, not a silent success.
    std::fs::write(&token_file, "wrong-token").unwrap();
    let err = list_pods(&p, &found[2].locator).await.unwrap_err();
    assert!(
        err.contains("401") || err.to_lowercase().contains("unauthorized"),
        "{err}"
    );
}

#[cfg(unix)]
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
fn runs(dir: &Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(name))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_plugins_mint_tokens_and_their_failures_are_clear() {
    let (sandbox, world) = start();
    let ids = clusters(&world, 1);
    let server = format!("{}/k8s/{}", sandbox.base_url(), ids[0].0);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    // The plugin checks what kubectl would hand it: the kubeconfig's env,
    // KUBERNETES_EXEC_INFO and the args; then prints an ExecCredential.
    let credential = |expires: &str, log: &str| {
        format!(
            "echo run >> {d}/{log}\n\
             [ \"$PLUGIN_MODE\" = sandbox ] || {{ echo 'env missing' >&2; exit 3; }}\n\
             case \"$KUBERNETES_EXEC_INFO\" in *'\"kind\":\"ExecCredential\"'*) ;; *) echo 'no exec info' >&2; exit 4;; esac\n\
             [ \"$1\" = get-token ] || exit 5\n\
             printf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"sandbox-k8s-{}\",\"expirationTimestamp\":\"{expires}\"}}}}'\n",
            ids[0].0
        )
    };
    let long = script(
        dir.path(),
        "long-lived",
        &credential("2099-01-01T00:00:00Z", "long.log"),
    );
    // Expires within the refresh margin: every client() must run it again.
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
    let short = script(
        dir.path(),
        "short-lived",
        &credential(&soon.to_string(), "short.log"),
    );
    let garbage = script(
        dir.path(),
        "garbage",
        "echo 'Please sign in at https://login.example/device: s3cret-looking-output'\n",
    );
    let failing = script(
        dir.path(),
        "failing",
        "echo 'token expired, run login' >&2\nexit 1\n",
    );
    let missing = dir.path().join("not-installed-plugin");
    let env = [("PLUGIN_MODE", "sandbox")];
    let file = dir.path().join("config");
    let ctx = |name: &'static str, cmd: &Path| Ctx {
        name,
        server: server.clone(),
        user: exec_user(cmd, &env),
    };
    std::fs::write(
        &file,
        kubeconfig(&[
            ctx("long", &long),
            ctx("short", &short),
            ctx("garbage", &garbage),
            ctx("failing", &failing),
            ctx("missing", &missing),
            ctx("not-on-path", Path::new("gke-gcloud-auth-plugin-not-here")),
        ]),
    )
    .unwrap();
    let p = KubeconfigProvider::new("env", vec![file.clone()]);
    let found = p.discover(&p.scopes().await.unwrap()[0]).await.unwrap();
    let locator = |name: &str| {
        found
            .iter()
            .find(|c| c.locator.name == name)
            .map(|c| c.locator.clone())
            .unwrap()
    };

    for (name, log, expected_runs) in [("long", "long.log", 1), ("short", "short.log", 2)] {
        let access = ClusterAccess::new(p.connect(&locator(name)).await.unwrap());
        assert_eq!(
            runs(dir.path(), log),
            0,
            "{name}: connect must not run the plugin"
        );
        for _ in 0..2 {
            let pods: kube::Api<Pod> = kube::Api::all(access.client().await.unwrap());
            assert!(!pods
                .list(&Default::default())
                .await
                .unwrap()
                .items
                .is_empty());
        }
        assert_eq!(runs(dir.path(), log), expected_runs, "{name}");
    }

    let plugin_error = |name: &'static str| {
        let p = &p;
        let l = locator(name);
        async move {
            let access = ClusterAccess::new(p.connect(&l).await.unwrap());
            match access.client().await {
                Err(AccessError::Token { source, .. }) => source,
                Err(e) => panic!("{name}: expected a token error, got {e}"),
                Ok(_) => panic!("{name}: expected a token error, got a client"),
            }
        }
    };
    let e = plugin_error("missing").await;
    assert!(matches!(e, ProviderError::CredentialPlugin { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("not-installed-plugin does not exist"),
        "{e}"
    );
    assert!(
        e.hint().contains("Install not-installed-plugin"),
        "{}",
        e.hint()
    );

    let e = plugin_error("not-on-path").await;
    assert!(
        e.to_string()
            .contains("gke-gcloud-auth-plugin-not-here is not installed (not found on the PATH)"),
        "{e}"
    );

    let e = plugin_error("garbage").await;
    assert_eq!(e.kind(), "credential_plugin");
    assert!(e.to_string().contains("not an ExecCredential JSON"), "{e}");
    assert!(!e.to_string().contains("s3cret"), "the output leaked: {e}");
    assert!(e.hint().contains("ExecCredential"), "{}", e.hint());

    let e = plugin_error("failing").await;
    assert!(e.to_string().contains("token expired, run login"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_file_fails_its_scope_and_the_other_file_still_discovers() {
    let (sandbox, world) = start();
    let ids = clusters(&world, 1);
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.yaml");
    std::fs::write(&garbage, "clusters: [[[ this is : not yaml").unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        kubeconfig(&[Ctx {
            name: "good",
            server: format!("{}/k8s/{}", sandbox.base_url(), ids[0].0),
            user: token_user(&ids[0].0),
        }]),
    )
    .unwrap();
    let p: Arc<dyn Provider> = Arc::new(KubeconfigProvider::new(
        "env",
        vec![garbage.clone(), good.clone()],
    ));
    let report = discover_all(&[p], &Limits::default(), |_| {}).await;
    let names: Vec<_> = report
        .clusters
        .iter()
        .map(|c| c.locator.name.as_str())
        .collect();
    assert_eq!(names, ["good"]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(e.provider, ProviderKind::Kubeconfig);
    assert_eq!(e.kind, "bad_file");
    assert_eq!(PathBuf::from(&e.scope), garbage);
    assert!(e.message.contains("garbage.yaml"), "{}", e.message);
    assert!(
        e.hint.contains("kubectl config view --kubeconfig"),
        "{}",
        e.hint
    );
    // The good file was listed completely; the broken one was not.
    assert_eq!(report.complete.len(), 1);
    assert_eq!(PathBuf::from(&report.complete[0].scope), good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contexts_of_cloud_clusters_merge_into_them_by_endpoint() {
    let (sandbox, world) = start();
    let (id, name) = clusters(&world, 1).remove(0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    std::fs::write(
        &file,
        kubeconfig(&[
            // The same API, written the way a user might.
            Ctx {
                name: "cloud-twin",
                server: format!("{}/k8s/{id}/", sandbox.base_url().to_uppercase()),
                user: token_user(&id),
            },
            Ctx {
                name: "kind-local",
                server: "https://127.0.0.1:6443".into(),
                user: "    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n".into(),
            },
        ]),
    )
    .unwrap();
    let mut vars: HashMap<String, String> = sandbox.env_map().into_iter().collect();
    vars.insert("KUBECONFIG".into(), file.to_string_lossy().into_owned());
    let shared = Shared::new(CallPolicy::default()).unwrap();
    let var = |k: &str| vars.get(k).cloned();
    assert!(ambient::configured(&var));
    let env = ambient::from_env(&var, &shared).await;
    assert!(env.errors.is_empty(), "{:?}", env.errors);
    assert!(env
        .providers
        .iter()
        .any(|p| p.kind() == ProviderKind::Kubeconfig));

    let mut report = discover_all(&env.providers, &Limits::default(), |_| {}).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let before = report.clusters.len();
    let merged = merge_by_endpoint(&mut report.clusters);
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(merged[0].context.name, "cloud-twin");
    assert_eq!(merged[0].cluster.name, name);
    assert_ne!(merged[0].provider, ProviderKind::Kubeconfig);
    assert_eq!(report.clusters.len(), before - 1);
    let kube_left: Vec<_> = report
        .clusters
        .iter()
        .filter(|c| c.provider == ProviderKind::Kubeconfig)
        .map(|c| c.locator.name.as_str())
        .collect();
    assert_eq!(kube_left, ["kind-local"]);

    // kind's client certificate travels as the connection's identity, with
    // no bearer token.
    let kind = report
        .clusters
        .iter()
        .find(|c| c.locator.name == "kind-local")
        .unwrap();
    let p = env
        .providers
        .iter()
        .find(|p| p.kind() == ProviderKind::Kubeconfig)
        .unwrap();
    let conn = p.connect(&kind.locator).await.unwrap();
    assert_eq!(conn.identity_pem.as_deref(), Some(&b"cert\nkey"[..]));
    assert_eq!(conn.tokens.token().await.unwrap().secret(), "");
    assert_eq!(
        p.scale_node_pool(&kind.locator, "pool", 2)
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_map_never_reaches_the_users_kubeconfig() {
    let (sandbox, _world) = start();
    let vars = sandbox.env_map();
    let var = |k: &str| vars.get(k).cloned();
    let shared = Shared::new(CallPolicy::default()).unwrap();
    let env = ambient::from_env(&var, &shared).await;
    assert!(env
        .providers
        .iter()
        .all(|p| p.kind() != ProviderKind::Kubeconfig));
    assert!(KubeconfigProvider::from_vars("env", &var).is_none());
}
