use cloudops_cloud::wire::gke::{
    Cluster, ClusterStatus, GoogleErrorResponse, ListClustersResponse, ListNodePoolsResponse,
    Operation, OperationStatus, SetNodePoolSizeRequest,
};
use cloudops_sandbox::{Cloud, World};

use crate::{json, start};

const TOKEN: &str = "sandbox-gcp";

fn project(world: &World) -> String {
    world.read().accounts.gcp_project.clone()
}

#[tokio::test]
async fn list_all_locations_get_and_pools() {
    let world = World::default();
    let want: Vec<String> = world
        .read()
        .clusters_of(Cloud::Gcp)
        .map(|c| c.name.clone())
        .collect();
    let p = project(&world);
    let (sandbox, http) = start(world.clone());
    let v1 = format!("{}/gke/v1/projects/{p}/locations", sandbox.base_url());

    let list: ListClustersResponse = json(
        http.get(format!("{v1}/-/clusters"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let got: Vec<String> = list.clusters.iter().map(|c| c.name.clone()).collect();
    assert_eq!(got, want);
    assert!(list.missing_zones.is_empty());

    for c in &list.clusters {
        assert_eq!(c.status, ClusterStatus::Running);
        assert!(c
            .master_auth
            .as_ref()
            .unwrap()
            .cluster_ca()
            .unwrap()
            .is_some());
        let one: Cluster = json(
            http.get(format!("{v1}/{}/clusters/{}", c.location, c.name))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(&one, c);
        let pools: ListNodePoolsResponse = json(
            http.get(format!("{v1}/{}/clusters/{}/nodePools", c.location, c.name))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(pools.node_pools, c.node_pools);
        let in_world = world
            .read()
            .cluster_by_name(Cloud::Gcp, &c.name)
            .unwrap()
            .node_count();
        assert_eq!(c.current_node_count, Some(in_world as i32));
    }

    // A single location filters.
    let region = &list.clusters[0].location;
    let regional: ListClustersResponse = json(
        http.get(format!("{v1}/{region}/clusters"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(regional.clusters.iter().all(|c| &c.location == region));
    assert!(!regional.clusters.is_empty());
}

#[tokio::test]
async fn set_size_returns_a_done_operation_and_changes_the_count() {
    let world = World::default();
    let p = project(&world);
    let (cluster, pool) = {
        let w = world.read();
        let c = w.clusters_of(Cloud::Gcp).next().unwrap().clone();
        let pool = c.node_pools[0].clone();
        (c, pool)
    };
    let (sandbox, http) = start(world.clone());
    let v1 = format!("{}/gke/v1/projects/{p}/locations", sandbox.base_url());
    let pool_url = format!(
        "{v1}/{}/clusters/{}/nodePools/{}",
        cluster.region, cluster.name, pool.name
    );

    let new_count = pool.count + 2;
    let resp = http
        .post(format!("{pool_url}:setSize"))
        .bearer_auth(TOKEN)
        .json(&SetNodePoolSizeRequest {
            node_count: new_count as i32,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let op: Operation = json(resp).await;
    assert_eq!(op.status, Some(OperationStatus::Done));
    assert_eq!(op.operation_type.as_deref(), Some("SET_NODE_POOL_SIZE"));

    let polled: Operation = json(
        http.get(format!("{v1}/{}/operations/{}", cluster.region, op.name))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(polled, op);
    assert_eq!(
        op.self_link.as_deref(),
        Some(format!("{v1}/{}/operations/{}", cluster.region, op.name).as_str())
    );

    let after: Cluster = json(
        http.get(format!("{v1}/{}/clusters/{}", cluster.region, cluster.name))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        after.current_node_count,
        Some((cluster.node_count() + 2) as i32)
    );

    // The int32 may also arrive as a string (protobuf JSON).
    let resp = http
        .post(format!("{pool_url}:setSize"))
        .bearer_auth(TOKEN)
        .body(r#"{"nodeCount":"1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        world
            .read()
            .cluster(&cluster.id)
            .unwrap()
            .node_pool(&pool.name)
            .unwrap()
            .count,
        1
    );

    // proto3 JSON leaves a zero out: `{}` is a scale to zero (what the
    // official client sends), not a malformed request.
    let resp = http
        .post(format!("{pool_url}:setSize"))
        .bearer_auth(TOKEN)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let count = |w: &World| {
        w.read()
            .cluster(&cluster.id)
            .unwrap()
            .node_pool(&pool.name)
            .unwrap()
            .count
    };
    assert_eq!(count(&world), 0);
    for body in [r#"{"nodeCount":-1}"#, r#"{"nodeCount":"x"}"#] {
        let resp = http
            .post(format!("{pool_url}:setSize"))
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let e: GoogleErrorResponse = json(resp).await;
        assert_eq!(e.error.status.as_deref(), Some("INVALID_ARGUMENT"));
    }
}

#[tokio::test]
async fn errors_have_the_google_shape() {
    let world = World::default();
    let p = project(&world);
    let (sandbox, http) = start(world);
    let v1 = format!("{}/gke/v1/projects/{p}/locations", sandbox.base_url());

    let resp = http.get(format!("{v1}/-/clusters")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let e: GoogleErrorResponse = json(resp).await;
    assert_eq!(e.error.code, 401);
    assert_eq!(e.error.status.as_deref(), Some("UNAUTHENTICATED"));

    for url in [
        format!("{v1}/us-central1/clusters/nope"),
        format!("{v1}/us-central1/clusters/nope/nodePools"),
        format!("{v1}/us-central1/operations/operation-404"),
    ] {
        let resp = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{url}");
        let e: GoogleErrorResponse = json(resp).await;
        assert_eq!(e.error.code, 404);
        assert_eq!(e.error.status.as_deref(), Some("NOT_FOUND"));
    }

    let resp = http
        .post(format!(
            "{v1}/us-central1/clusters/nope/nodePools/x:setSize"
        ))
        .bearer_auth(TOKEN)
        .body(r#"{"nodeCount":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let _: GoogleErrorResponse = json(resp).await;
}
