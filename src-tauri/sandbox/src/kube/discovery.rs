//! `/version` and the discovery documents (`/api`, `/apis`, and the
//! resource lists per group version), built from the table of served
//! resources so that they cannot disagree with the routes.

use axum::{http::StatusCode, response::Response};
use k8s_openapi::apimachinery::pkg::{
    apis::meta::v1::{
        APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions,
        GroupVersionForDiscovery, ServerAddressByClientCIDR,
    },
    version::Info,
};

use super::{metrics, status::ApiError, store::Res, Request};
use crate::{http::json, world::Cluster};

/// The groups besides the core one, with their single served version.
const GROUPS: [(&str, &str); 3] = [
    ("apps", "v1"),
    ("autoscaling", "v2"),
    (metrics::GROUP, metrics::VERSION),
];

pub(crate) fn version(c: &Cluster) -> Response {
    let (major, minor) = c.k8s_minor.split_once('.').unwrap_or(("1", &c.k8s_minor));
    json(
        StatusCode::OK,
        &Info {
            major: major.to_string(),
            minor: minor.to_string(),
            git_version: format!("v{}", c.k8s_version()),
            git_commit: "0000000000000000000000000000000000000000".into(),
            git_tree_state: "clean".into(),
            build_date: crate::world::rfc3339(c.created_at),
            go_version: "go1.23.4".into(),
            compiler: "gc".into(),
            platform: "linux/amd64".into(),
            ..Default::default()
        },
    )
}

pub(crate) fn api_versions(req: &Request) -> Response {
    let host = req
        .base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_string();
    json(
        StatusCode::OK,
        &APIVersions {
            versions: vec!["v1".into()],
            server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
                client_cidr: "0.0.0.0/0".into(),
                server_address: host,
            }],
        },
    )
}

fn api_group(name: &str, version: &str) -> APIGroup {
    let gv = GroupVersionForDiscovery {
        group_version: format!("{name}/{version}"),
        version: version.to_string(),
    };
    APIGroup {
        name: name.to_string(),
        preferred_version: Some(gv.clone()),
        versions: vec![gv],
        server_address_by_client_cidrs: None,
    }
}

pub(crate) fn groups() -> Response {
    json(
        StatusCode::OK,
        &APIGroupList {
            groups: GROUPS.iter().map(|(g, v)| api_group(g, v)).collect(),
        },
    )
}

pub(crate) fn group(name: &str) -> Result<Response, ApiError> {
    let (g, v) = GROUPS
        .iter()
        .find(|(g, _)| *g == name)
        .ok_or(ApiError::NoRoute)?;
    Ok(json(StatusCode::OK, &api_group(g, v)))
}

fn api_resource(name: &str, kind: &str, namespaced: bool, verbs: &[&str]) -> APIResource {
    APIResource {
        name: name.to_string(),
        singular_name: kind.to_ascii_lowercase(),
        namespaced,
        kind: kind.to_string(),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..Default::default()
    }
}

pub(crate) fn resources(group: &str, version: &str) -> Result<Response, ApiError> {
    let mut list: Vec<APIResource> = Vec::new();
    if (group, version) == (metrics::GROUP, metrics::VERSION) {
        list.push(api_resource(
            "nodes",
            "NodeMetrics",
            false,
            &["get", "list"],
        ));
        list.push(api_resource("pods", "PodMetrics", true, &["get", "list"]));
    } else {
        for r in Res::ALL
            .into_iter()
            .filter(|r| r.group() == group && r.version() == version)
        {
            let mut ar = api_resource(r.plural(), r.kind(), r.namespaced(), r.verbs());
            ar.short_names = Some(r.short_names().iter().map(|s| s.to_string()).collect());
            list.push(ar);
            if r == Res::Deployments {
                let mut scale = api_resource(
                    "deployments/scale",
                    "Scale",
                    true,
                    &["get", "patch", "update"],
                );
                scale.group = Some("autoscaling".into());
                scale.version = Some("v1".into());
                scale.singular_name = String::new();
                list.push(scale);
            }
        }
    }
    if list.is_empty() {
        return Err(ApiError::NoRoute);
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Ok(json(
        StatusCode::OK,
        &APIResourceList {
            group_version,
            resources: list,
        },
    ))
}
