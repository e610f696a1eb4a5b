//! GKE resource names: the checks that keep anything from the cache, the UI
//! or an account entry from adding a path segment to a request.

use cloudops_core::model::Provider as ProviderKind;

use crate::{error::ProviderError, providers::ClusterLocator};

const KIND: ProviderKind = ProviderKind::Gcp;

/// The locator's resource name, checked so that nothing from the cache or
/// the UI can add a path segment to a request.
pub(super) fn cluster_name(cluster: &ClusterLocator) -> Result<String, ProviderError> {
    let parts: Vec<&str> = cluster.native_id.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "locations", l, "clusters", c] => {
            validate_project(p)?;
            validate_segment("location", l)?;
            validate_segment("cluster", c)?;
            Ok(cluster.native_id.clone())
        }
        // A locator without the resource name (built by hand): rebuild it.
        _ if cluster.native_id.is_empty() => {
            validate_project(&cluster.scope)?;
            validate_segment("location", &cluster.region)?;
            validate_segment("cluster", &cluster.name)?;
            Ok(format!(
                "projects/{}/locations/{}/clusters/{}",
                cluster.scope, cluster.region, cluster.name
            ))
        }
        _ => Err(ProviderError::Config {
            provider: KIND,
            detail: format!(
                "{:?} is not a GKE cluster id (projects/P/locations/L/clusters/C)",
                cluster.native_id
            ),
        }),
    }
}

pub(super) fn project_of(name: &str) -> Option<&str> {
    name.strip_prefix("projects/")?.split('/').next()
}

pub(super) fn location_of(name: &str) -> Option<&str> {
    name.split('/').nth(3)
}

/// Project ids are lowercase letters, digits and hyphens (6–30 of them);
/// legacy domain-scoped ids add `example.com:`. Anything else would change
/// the request path.
pub(super) fn validate_project(p: &str) -> Result<(), ProviderError> {
    let ok = !p.is_empty()
        && p.len() <= 100
        && !p.chars().all(|ch| ch == '.')
        && p.chars().all(|ch| {
            ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '-' | '.' | ':')
        });
    if ok {
        Ok(())
    } else {
        Err(ProviderError::Config {
            provider: KIND,
            detail: format!(
                "{p:?} is not a GCP project id (lowercase letters, digits and hyphens)"
            ),
        })
    }
}

pub(super) fn validate_segment(kind: &str, s: &str) -> Result<(), ProviderError> {
    // `.` and `..` would walk the path.
    let ok = !s.is_empty()
        && s.len() <= 100
        && !s.chars().all(|ch| ch == '.')
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ProviderError::Config {
            provider: KIND,
            detail: format!("{s:?} is not a valid GKE {kind} name"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_cannot_smuggle_path_segments() {
        let loc = |id: &str| ClusterLocator {
            native_id: id.into(),
            scope: "p-123456".into(),
            region: "europe-west1".into(),
            name: "prod".into(),
        };
        assert!(cluster_name(&loc(
            "projects/p-123456/locations/europe-west1/clusters/prod"
        ))
        .is_ok());
        assert_eq!(
            cluster_name(&loc("")).unwrap(),
            "projects/p-123456/locations/europe-west1/clusters/prod"
        );
        for bad in [
            "projects/p/locations/l/clusters/c/nodePools/x",
            "projects/../locations/l/clusters/c",
            "projects/p/locations/l/clusters/c?x=1",
            "arn:aws:eks:x",
        ] {
            assert_eq!(
                cluster_name(&loc(bad)).unwrap_err().kind(),
                "config",
                "{bad}"
            );
        }
        assert!(validate_project("Bad/Project").is_err());
        assert!(validate_project("example.com:my-project").is_ok());
    }
}
