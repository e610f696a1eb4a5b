use base64::Engine as _;
use cloudops_cloud::wire::arm::{
    AgentPool, ArmErrorResponse, ArmList, CredentialResults, ManagedCluster, Subscription,
    API_VERSION,
};
use cloudops_sandbox::{Cloud, World};

use crate::{json, start};

const TOKEN: &str = "sandbox-azure";

fn subscription(world: &World) -> String {
    world.read().accounts.azure_subscription_id.clone()
}

#[tokio::test]
async fn subscriptions_and_paged_cluster_list_cover_the_world() {
    // 24 clusters: six on Azure, so a page size of five really pages.
    let world = World::generate_with(3, 24).with_arm_page_size(5);
    let want: Vec<String> = world
        .read()
        .clusters_of(Cloud::Azure)
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(want.len(), 6);
    let sub = subscription(&world);
    let (sandbox, http) = start(world);
    let arm = format!("{}/arm", sandbox.base_url());

    let subs: ArmList<Subscription> = json(
        http.get(format!("{arm}/subscriptions?api-version=2022-12-01"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(subs.value.len(), 1);
    assert_eq!(subs.value[0].subscription_id, sub);

    let mut url = Some(format!(
        "{arm}/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters?api-version={API_VERSION}"
    ));
    let (mut got, mut pages) = (Vec::new(), 0);
    while let Some(u) = url {
        let resp = http.get(&u).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{u}");
        let page: ArmList<ManagedCluster> = json(resp).await;
        pages += 1;
        assert!(page.value.len() <= 5);
        got.extend(page.value.into_iter().map(|c| c.name));
        url = page.next_link;
    }
    assert_eq!(pages, 2);
    assert_eq!(got, want);
}

#[tokio::test]
async fn the_default_page_holds_a_realistic_fleet() {
    // 400 clusters: 100 on Azure, one page at ARM's usual size.
    let world = World::generate_with(3, 400);
    assert_eq!(
        world.arm_page_size(),
        cloudops_sandbox::world::DEFAULT_ARM_PAGE_SIZE
    );
    let sub = subscription(&world);
    let (sandbox, http) = start(world);
    let page: ArmList<ManagedCluster> = json(
        http.get(format!(
            "{}/arm/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters?api-version={API_VERSION}",
            sandbox.base_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(page.value.len(), 100);
    assert_eq!(page.next_link, None);
}

#[tokio::test]
async fn cluster_pools_and_credentials() {
    let world = World::default();
    let sub = subscription(&world);
    let (sandbox, http) = start(world.clone());
    let arm = format!("{}/arm", sandbox.base_url());

    let list: ArmList<ManagedCluster> = json(
        http.get(format!(
            "{arm}/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters?api-version={API_VERSION}"
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(list.value.len(), 3);
    assert_eq!(list.next_link, None);
    let first = &list.value[0];
    let id = &first.id;

    let got: ManagedCluster = json(
        http.get(format!("{arm}{id}?api-version={API_VERSION}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(&got, first);
    let profiles = got.properties.agent_pool_profiles.clone().unwrap();

    let pools: ArmList<AgentPool> = json(
        http.get(format!("{arm}{id}/agentPools?api-version={API_VERSION}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(pools.value.len(), profiles.len());
    let pool: AgentPool = json(
        http.get(format!(
            "{arm}{}?api-version={API_VERSION}",
            pools.value[0].id
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(pool, pools.value[0]);
    assert_eq!(pool.properties.count, profiles[0].count);

    // The world's count is what ARM reports (PUT-to-scale is a later slice).
    let cluster_id = world
        .read()
        .clusters_of(Cloud::Azure)
        .find(|c| c.name == got.name)
        .unwrap()
        .id
        .clone();
    world
        .set_node_pool_count(&cluster_id, &pool.name, 7)
        .unwrap();
    let pool: AgentPool = json(
        http.get(format!("{arm}{}?api-version={API_VERSION}", pool.id))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(pool.properties.count, Some(7));

    let creds: CredentialResults = json(
        http.post(format!(
            "{arm}{id}/listClusterUserCredential?api-version={API_VERSION}"
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap(),
    )
    .await;
    let kubeconfig = String::from_utf8(creds.kubeconfigs[0].kubeconfig().unwrap()).unwrap();
    assert!(kubeconfig.contains(&format!("server: {}/k8s/{cluster_id}", sandbox.base_url())));
    // The embedded CA is base64 too.
    let ca = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap();
    assert!(base64::engine::general_purpose::STANDARD.decode(ca).is_ok());
}

#[tokio::test]
async fn errors_have_the_arm_shape() {
    let world = World::default();
    let sub = subscription(&world);
    let (sandbox, http) = start(world);
    let list = format!(
        "{}/arm/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters",
        sandbox.base_url()
    );

    let resp = http
        .get(format!("{list}?api-version={API_VERSION}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let e: ArmErrorResponse = json(resp).await;
    assert_eq!(e.error.code, "AuthenticationFailed");

    let resp = http.get(&list).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let e: ArmErrorResponse = json(resp).await;
    assert_eq!(e.error.code, "MissingApiVersionParameter");

    let resp = http
        .get(format!("{list}?api-version=2019-01-01"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let e: ArmErrorResponse = json(resp).await;
    assert_eq!(e.error.code, "InvalidApiVersionParameter");

    let missing = format!(
        "{}/arm/subscriptions/{sub}/resourceGroups/rg-fleet-eastus/providers/Microsoft.ContainerService/managedClusters/nope",
        sandbox.base_url()
    );
    for url in [
        format!("{missing}?api-version={API_VERSION}"),
        format!("{missing}/agentPools?api-version={API_VERSION}"),
        format!("{missing}/agentPools/system?api-version={API_VERSION}"),
    ] {
        let resp = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{url}");
        let e: ArmErrorResponse = json(resp).await;
        assert_eq!(e.error.code, "ResourceNotFound");
    }

    let resp = http
        .get(format!(
            "{}/arm/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/managedClusters?api-version={API_VERSION}",
            sandbox.base_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let e: ArmErrorResponse = json(resp).await;
    assert_eq!(e.error.code, "SubscriptionNotFound");
}
