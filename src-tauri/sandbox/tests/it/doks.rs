use cloudops_cloud::wire::doks::{
    Credentials, DoError, KubernetesClusterList, KubernetesClusterResponse, NodePoolList,
    NodePoolResponse, NodePoolUpdate,
};
use cloudops_sandbox::{Cloud, World};

use crate::{json, start};

const TOKEN: &str = "sandbox-do";

#[tokio::test]
async fn list_pages_through_every_cluster() {
    let world = World::default();
    let want: Vec<String> = world
        .read()
        .clusters_of(Cloud::DigitalOcean)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(want.len(), 3);
    let (sandbox, http) = start(world);

    let mut url = Some(format!(
        "{}/do/v2/kubernetes/clusters?per_page=2",
        sandbox.base_url()
    ));
    let mut got = Vec::new();
    let mut pages = 0;
    while let Some(u) = url {
        let resp = http.get(&u).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let list: KubernetesClusterList = json(resp).await;
        assert_eq!(list.meta.as_ref().unwrap().total, 3);
        pages += 1;
        for c in &list.kubernetes_clusters {
            assert!(c.endpoint.ends_with(&format!("/k8s/{}", c.id)));
            assert!(c.version.ends_with("-do.0"));
        }
        got.extend(list.kubernetes_clusters.into_iter().map(|c| c.id));
        url = list
            .links
            .as_ref()
            .and_then(|l| l.next())
            .map(str::to_string);
        if let Some(next) = &url {
            assert!(next.starts_with(sandbox.base_url()), "absolute: {next}");
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(got, want);

    // One page holds all by default, and says there is no next.
    let list: KubernetesClusterList = json(
        http.get(format!("{}/do/v2/kubernetes/clusters", sandbox.base_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list.kubernetes_clusters.len(), 3);
    assert_eq!(list.links.as_ref().and_then(|l| l.next()), None);
}

#[tokio::test]
async fn scale_a_pool_then_read_it_back() {
    let world = World::default();
    let (sandbox, http) = start(world.clone());
    let base = format!("{}/do/v2/kubernetes/clusters", sandbox.base_url());
    let cluster_id = world
        .read()
        .clusters_of(Cloud::DigitalOcean)
        .next()
        .unwrap()
        .id
        .clone();

    let pools: NodePoolList = json(
        http.get(format!("{base}/{cluster_id}/node_pools"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pool = &pools.node_pools[0];
    let new_count = pool.count + 3;

    let resp = http
        .put(format!("{base}/{cluster_id}/node_pools/{}", pool.id))
        .bearer_auth(TOKEN)
        .json(&NodePoolUpdate {
            name: pool.name.clone(),
            count: new_count,
            auto_scale: None,
            min_nodes: None,
            max_nodes: None,
            tags: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let updated: NodePoolResponse = json(resp).await;
    assert_eq!(updated.node_pool.count, new_count);

    let cluster: KubernetesClusterResponse = json(
        http.get(format!("{base}/{cluster_id}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let again = cluster
        .kubernetes_cluster
        .node_pools
        .iter()
        .find(|p| p.id == pool.id)
        .unwrap();
    assert_eq!(again.count, new_count);

    let creds: Credentials = json(
        http.get(format!("{base}/{cluster_id}/credentials"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(creds.server.ends_with(&format!("/k8s/{cluster_id}")));
    assert!(creds.certificate_authority().is_ok());
    assert!(creds.token.is_some());

    // A body that is not a NodePoolUpdate is a 400 in DO's shape.
    let resp = http
        .put(format!("{base}/{cluster_id}/node_pools/{}", pool.id))
        .bearer_auth(TOKEN)
        .body("{\"count\":\"many\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let _: DoError = json(resp).await;
}

#[tokio::test]
async fn errors_have_the_digitalocean_shape() {
    let (sandbox, http) = start(World::default());
    let base = format!("{}/do/v2/kubernetes/clusters", sandbox.base_url());

    let resp = http.get(&base).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let e: DoError = json(resp).await;
    assert_eq!(e.id, "unauthorized");
    assert_eq!(e.message, "Unable to authenticate you");

    let resp = http.get(&base).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(resp.status(), 401);

    for path in [
        "/00000000-0000-4000-8000-000000000000",
        "/00000000-0000-4000-8000-000000000000/node_pools",
        "/00000000-0000-4000-8000-000000000000/credentials",
    ] {
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        let e: DoError = json(resp).await;
        assert_eq!(e.id, "not_found");
        assert_eq!(e.message, "The resource you requested could not be found.");
    }

    // An unknown route, too.
    let resp = http
        .get(format!("{}/do/v2/droplets-nope", sandbox.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let _: DoError = json(resp).await;
}
