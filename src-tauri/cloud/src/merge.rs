//! A cluster found both through a cloud API and in a kubeconfig is one
//! cluster (BRIEF §4): the cloud's view wins, because it knows the region,
//! the version and the node pools, and the kubeconfig context is reported
//! as merged into it. Clusters are the same when their API endpoints are,
//! after normalisation ([`normalize_endpoint`]).

use std::collections::HashMap;

use cloudops_core::model::Provider as ProviderKind;

use crate::providers::{ClusterLocator, DiscoveredCluster};

/// One kubeconfig context dropped in favour of a cloud cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The kubeconfig provider's account and the context (its locator:
    /// `native_id` is the context, `scope` the file).
    pub kubeconfig_account: String,
    pub context: ClusterLocator,
    /// The cloud cluster it is.
    pub provider: ProviderKind,
    pub account: String,
    pub cluster: ClusterLocator,
    /// The endpoint both share, normalised.
    pub endpoint: String,
}

/// `scheme://host:port/path` with the scheme and host lowercased, the
/// default port made explicit (443 for https, 80 for http) and trailing
/// slashes dropped. A bare host or IP (GKE's `endpoint`) is https. `None`
/// when it is not a URL with a host.
pub fn normalize_endpoint(endpoint: &str) -> Option<String> {
    let raw = endpoint.trim();
    if raw.is_empty() {
        return None;
    }
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let port = url.port_or_known_default()?;
    let path = url.path().trim_end_matches('/');
    Some(format!(
        "{}://{}:{port}{path}",
        url.scheme(),
        host.to_ascii_lowercase()
    ))
}

/// Drops every kubeconfig cluster whose endpoint is a cloud cluster's, and
/// says which contexts went into which cluster. Cloud clusters are never
/// dropped, and kubeconfig clusters that only match each other are kept
/// (two contexts may be two users of one cluster). Order is preserved.
pub fn merge_by_endpoint(clusters: &mut Vec<DiscoveredCluster>) -> Vec<Merged> {
    let mut cloud: HashMap<String, usize> = HashMap::new();
    for (i, c) in clusters.iter().enumerate() {
        if c.provider == ProviderKind::Kubeconfig {
            continue;
        }
        if let Some(key) = c.endpoint.as_deref().and_then(normalize_endpoint) {
            // The first cloud cluster with an endpoint keeps it.
            cloud.entry(key).or_insert(i);
        }
    }
    let mut merged = Vec::new();
    let mut keep = Vec::with_capacity(clusters.len());
    for c in clusters.iter() {
        let target = (c.provider == ProviderKind::Kubeconfig)
            .then(|| c.endpoint.as_deref().and_then(normalize_endpoint))
            .flatten()
            .and_then(|key| cloud.get(&key).map(|&i| (key, i)));
        match target.and_then(|(key, i)| clusters.get(i).map(|into| (key, into))) {
            Some((endpoint, into)) => {
                merged.push(Merged {
                    kubeconfig_account: c.account.clone(),
                    context: c.locator.clone(),
                    provider: into.provider,
                    account: into.account.clone(),
                    cluster: into.locator.clone(),
                    endpoint,
                });
                keep.push(false);
            }
            None => keep.push(true),
        }
    }
    let mut flags = keep.into_iter();
    clusters.retain(|_| flags.next().unwrap_or(true));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_makes_equal_endpoints_equal() {
        let same = [
            "https://10.0.0.1",
            "https://10.0.0.1:443",
            "https://10.0.0.1/",
            "HTTPS://10.0.0.1:443/",
            "10.0.0.1",
            " https://10.0.0.1 ",
        ];
        for e in same {
            assert_eq!(
                normalize_endpoint(e).as_deref(),
                Some("https://10.0.0.1:443"),
                "{e}"
            );
        }
        assert_eq!(
            normalize_endpoint("https://ABC.gr7.us-east-1.EKS.amazonaws.com").as_deref(),
            Some("https://abc.gr7.us-east-1.eks.amazonaws.com:443")
        );
        assert_eq!(
            normalize_endpoint("http://127.0.0.1:8080/k8s/c1/").as_deref(),
            Some("http://127.0.0.1:8080/k8s/c1")
        );
        assert_eq!(
            normalize_endpoint("http://localhost").as_deref(),
            Some("http://localhost:80")
        );
    }

    #[test]
    fn normalisation_keeps_what_distinguishes_clusters() {
        let n = |e: &str| normalize_endpoint(e);
        assert_ne!(n("https://10.0.0.1"), n("https://10.0.0.1:6443"));
        assert_ne!(n("https://10.0.0.1"), n("http://10.0.0.1"));
        assert_ne!(n("https://10.0.0.1"), n("https://10.0.0.2"));
        // Rancher-style proxies put many clusters behind one host.
        assert_ne!(
            n("https://rancher.example/k8s/clusters/c-1"),
            n("https://rancher.example/k8s/clusters/c-2")
        );
        assert_eq!(n(""), None);
        assert_eq!(n("https://"), None);
        assert_eq!(n("not a url at all"), None);
    }

    fn cluster(provider: ProviderKind, name: &str, endpoint: Option<&str>) -> DiscoveredCluster {
        DiscoveredCluster {
            provider,
            account: "acct".into(),
            locator: ClusterLocator {
                native_id: format!("id-{name}"),
                scope: "scope".into(),
                region: String::new(),
                name: name.into(),
            },
            version: None,
            status: "x".into(),
            endpoint: endpoint.map(str::to_owned),
            node_pools: Vec::new(),
        }
    }

    #[test]
    fn kubeconfig_duplicates_of_cloud_clusters_are_dropped_and_reported() {
        use ProviderKind::*;
        let mut all = vec![
            cluster(Kubeconfig, "gke_p_z_prod", Some("https://34.1.2.3/")),
            cluster(Gcp, "prod", Some("https://34.1.2.3")),
            cluster(Kubeconfig, "kind-dev", Some("https://127.0.0.1:6443")),
            cluster(Kubeconfig, "prod-admin", Some("https://34.1.2.3:443")),
            cluster(Aws, "eks", Some("https://abc.eks.amazonaws.com")),
            cluster(Kubeconfig, "broken", None),
            cluster(DigitalOcean, "no-endpoint-yet", None),
        ];
        let merged = merge_by_endpoint(&mut all);
        let left: Vec<_> = all.iter().map(|c| c.locator.name.as_str()).collect();
        assert_eq!(
            left,
            ["prod", "kind-dev", "eks", "broken", "no-endpoint-yet"]
        );
        let pairs: Vec<_> = merged
            .iter()
            .map(|m| (m.context.name.as_str(), m.provider, m.cluster.name.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("gke_p_z_prod", Gcp, "prod"), ("prod-admin", Gcp, "prod")]
        );
        assert_eq!(merged[0].endpoint, "https://34.1.2.3:443");
        assert_eq!(merged[0].context.native_id, "id-gke_p_z_prod");
    }

    #[test]
    fn without_a_cloud_twin_nothing_is_dropped() {
        use ProviderKind::*;
        let mut all = vec![
            cluster(Kubeconfig, "a", Some("https://10.0.0.1")),
            cluster(Kubeconfig, "b", Some("https://10.0.0.1")),
            cluster(Azure, "aks", Some("https://aks.example:443")),
            cluster(Azure, "aks-twin", Some("https://aks.example")),
        ];
        let merged = merge_by_endpoint(&mut all);
        assert!(merged.is_empty());
        assert_eq!(all.len(), 4);
    }
}
