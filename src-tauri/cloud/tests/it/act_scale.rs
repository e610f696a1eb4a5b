//! The scale executor against the sandbox: the optimistic lock between the
//! preview and the write, and read-only mode refused inside the executor.

use std::{net::SocketAddr, time::Duration};

use cloudops_cloud::act::{scale, ActError, Actor, WriteGuard};
use cloudops_core::{audit::Outcome, plan::scale::WorkloadRef, Store};
use cloudops_sandbox::{Sandbox, World};
use k8s_openapi::api::apps::v1::Deployment;
use kube::{
    api::{Patch, PatchParams},
    Api,
};
use serde_json::json;

use super::collect::sandbox_access;

fn actor() -> Actor {
    Actor {
        os_user: "sre".into(),
        cloud_identity: "sandbox".into(),
    }
}

fn coredns(cluster: &str) -> WorkloadRef {
    WorkloadRef {
        cluster_id: cluster.into(),
        namespace: "kube-system".into(),
        deployment: "coredns".into(),
    }
}

async fn replicas(client: &kube::Client) -> i32 {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "kube-system");
    api.get("coredns").await.unwrap().spec.replicas.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_between_preview_and_write_is_caught_by_the_lock() {
    let world = World::generate(11);
    let id = world.read().clusters[0].id.clone();
    let sandbox = Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world).unwrap();
    let client = sandbox_access(&sandbox, &id).client().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let api: Api<Deployment> = Api::namespaced(client.clone(), "kube-system");

    // An unrelated change (a label) after the preview: the write gets a
    // 409, re-reads, sees the replicas the preview showed, and retries.
    let preview = scale::preview(&client, coredns(&id), 3).await.unwrap();
    api.patch(
        "coredns",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
    )
    .await
    .unwrap();
    let done = scale::execute(
        &client,
        &store,
        &actor(),
        WriteGuard::default(),
        &preview,
        Duration::from_secs(20),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((done.from, done.to), (2, 3));
    assert_eq!(replicas(&client).await, 3);

    // Someone else scales after the preview: the confirmed diff no longer
    // holds, so the executor stops and says so.
    let preview = scale::preview(&client, coredns(&id), 5).await.unwrap();
    api.patch_scale(
        "coredns",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    let err = scale::execute(
        &client,
        &store,
        &actor(),
        WriteGuard::default(),
        &preview,
        Duration::from_secs(5),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ActError::ChangedSincePreview { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("4 replicas now"), "{err}");
    assert_eq!(replicas(&client).await, 4);

    // The log: started/succeeded for the first, started/failed for the
    // second, with the failure's kind.
    let log = store.audit_log().unwrap();
    let outcomes: Vec<Outcome> = log.iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Started,
            Outcome::Succeeded,
            Outcome::Started,
            Outcome::Failed
        ]
    );
    assert_eq!(log[3].detail["result"]["kind"], "changed_since_preview");
    assert_eq!(log[0].actor, "sre via sandbox");
    sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_is_refused_by_the_executor_itself() {
    let world = World::generate(11);
    let id = world.read().clusters[0].id.clone();
    let sandbox = Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world).unwrap();
    let client = sandbox_access(&sandbox, &id).client().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    // Reading (the preview) is allowed in read-only mode.
    let preview = scale::preview(&client, coredns(&id), 4).await.unwrap();
    let err = scale::execute(
        &client,
        &store,
        &actor(),
        WriteGuard { read_only: true },
        &preview,
        Duration::from_secs(5),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "read_only");
    assert_eq!(replicas(&client).await, 2, "nothing was written");
    assert!(store.audit_log().unwrap().is_empty());
    sandbox.shutdown().await.unwrap();
}
