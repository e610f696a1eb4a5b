//! Where a cluster's Prometheus is: the user's setting for the cluster, the
//! default setting (a central Thanos, Mimir or VictoriaMetrics), or a
//! Service found in the cluster under one of the names the common installs
//! give it. None found is not an error: the cluster just has no RED data.

use k8s_openapi::api::core::v1::Service;
use kube::Api;

use super::{CollectError, Kube, PrometheusLocation, PrometheusSettings};

/// (namespace or "" for any, service name, preferred port), best first.
/// The names are those of the Helm charts and operators people install.
const KNOWN: &[(&str, &str)] = &[
    // prometheus-community/prometheus
    ("monitoring", "prometheus-server"),
    // kube-prometheus-stack (released as `kube-prometheus-stack` or `prometheus`)
    ("monitoring", "kube-prometheus-stack-prometheus"),
    ("monitoring", "prometheus-kube-prometheus-prometheus"),
    // kube-prometheus (jsonnet)
    ("monitoring", "prometheus-k8s"),
    // The operator's governing Service of every Prometheus object.
    ("monitoring", "prometheus-operated"),
    ("monitoring", "prometheus"),
    ("prometheus", "prometheus-server"),
    ("prometheus", "prometheus"),
    ("observability", "prometheus-server"),
    ("observability", "prometheus"),
    ("istio-system", "prometheus"),
    ("", "prometheus-server"),
    ("", "kube-prometheus-stack-prometheus"),
    ("", "prometheus-k8s"),
    ("", "prometheus-operated"),
    ("", "prometheus"),
];

/// The port to proxy to: one named like Prometheus' web port, else 9090,
/// else 80, else the first.
fn port_of(svc: &Service) -> String {
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    let named = ports.iter().find(|p| {
        matches!(
            p.name.as_deref(),
            Some("web" | "http-web" | "http" | "prometheus")
        )
    });
    let by_number = || ports.iter().find(|p| p.port == 9090 || p.port == 80);
    named
        .or_else(by_number)
        .or(ports.first())
        .map(|p| p.port.to_string())
        .unwrap_or_default()
}

/// The best-known Prometheus among `services`.
pub fn detect(services: &[Service]) -> Option<PrometheusLocation> {
    KNOWN.iter().find_map(|(ns, name)| {
        services
            .iter()
            .filter(|s| s.metadata.name.as_deref() == Some(*name))
            .find(|s| ns.is_empty() || s.metadata.namespace.as_deref() == Some(*ns))
            .map(|s| PrometheusLocation::Service {
                namespace: s.metadata.namespace.clone().unwrap_or_default(),
                service: name.to_string(),
                port: port_of(s),
            })
    })
}

/// The location to query for `cluster_id`, or `None` when there is none.
pub async fn locate(
    kube: &Kube<'_>,
    cluster_id: &str,
    settings: &PrometheusSettings,
) -> Result<Option<PrometheusLocation>, CollectError> {
    if let Some(l) = settings
        .per_cluster
        .get(cluster_id)
        .or(settings.default.as_ref())
    {
        return Ok(Some(l.clone()));
    }
    if !settings.auto_detect {
        return Ok(None);
    }
    let services = kube
        .list_all(
            "listing services",
            &Api::<Service>::all(kube.client.clone()),
            500,
        )
        .await?;
    Ok(detect(&services))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn svc(ns: &str, name: &str, ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": ports}
        }))
        .unwrap()
    }

    #[test]
    fn detection_prefers_the_common_installs_and_their_web_port() {
        let services = vec![
            svc("default", "kubernetes", json!([{"port": 443}])),
            svc(
                "istio-system",
                "prometheus",
                json!([{"port": 9090, "name": "http"}]),
            ),
            svc(
                "monitoring",
                "prometheus-operated",
                json!([
                    {"port": 10901, "name": "grpc"}, {"port": 9090, "name": "web"}
                ]),
            ),
        ];
        assert_eq!(
            detect(&services),
            Some(PrometheusLocation::Service {
                namespace: "monitoring".into(),
                service: "prometheus-operated".into(),
                port: "9090".into()
            })
        );
        // Any namespace, as a last resort.
        let elsewhere = vec![svc("metrics", "prometheus-server", json!([{"port": 80}]))];
        assert_eq!(
            detect(&elsewhere).map(|l| l.to_string()).as_deref(),
            Some("service metrics/prometheus-server:80")
        );
        assert_eq!(
            detect(&[svc("default", "grafana", json!([{"port": 80}]))]),
            None
        );
    }
}
