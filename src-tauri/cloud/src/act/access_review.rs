//! "Can I?" before a write: SelfSubjectAccessReviews (authorization.k8s.io/v1)
//! for the writes a failover will make, so that an RBAC denial refuses the
//! plan up front instead of failing a run half-way.
//!
//! A review that cannot be asked (an old or locked-down apiserver answering
//! 404/403 to the review itself) is not a denial: the write's own 403 stays
//! the backstop, and the executor stops safely on it.

use cloudops_core::plan::{failover::AccessDenied, scale::WorkloadRef};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::{api::PostParams, Api};

use super::{from_kube, ActError};

/// One write to ask about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteCheck {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub namespace: String,
    /// `None`: any object of the resource in the namespace.
    pub name: Option<String>,
}

impl WriteCheck {
    /// `deployments/scale` with the subresource, for messages.
    pub fn resource_path(&self) -> String {
        match self.subresource {
            Some(s) => format!("{}/{s}", self.resource),
            None => self.resource.to_owned(),
        }
    }

    fn review(&self) -> SelfSubjectAccessReview {
        SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(self.verb.to_owned()),
                    group: Some(self.group.to_owned()),
                    resource: Some(self.resource.to_owned()),
                    subresource: self.subresource.map(str::to_owned),
                    namespace: Some(self.namespace.clone()),
                    name: self.name.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// The writes a failover makes on one side: the scale subresource of the
/// deployment, and the HPA's bounds when it has one (patched, never
/// created: the run only edits an HPA that exists).
pub fn failover_writes(w: &WorkloadRef, with_hpa: bool) -> Vec<WriteCheck> {
    let mut checks = vec![WriteCheck {
        verb: "patch",
        group: "apps",
        resource: "deployments",
        subresource: Some("scale"),
        namespace: w.namespace.clone(),
        name: Some(w.deployment.clone()),
    }];
    if with_hpa {
        checks.push(WriteCheck {
            verb: "patch",
            group: "autoscaling",
            resource: "horizontalpodautoscalers",
            subresource: None,
            namespace: w.namespace.clone(),
            name: None,
        });
    }
    checks
}

/// What a review answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied {
        reason: Option<String>,
    },
    /// The reply carried no status (not a review reply).
    Unknown,
}

/// The decision in a review as the apiserver returns it.
pub fn decision(review: &SelfSubjectAccessReview) -> Decision {
    match &review.status {
        Some(s) if s.allowed => Decision::Allowed,
        Some(s) => Decision::Denied {
            reason: s
                .reason
                .clone()
                .filter(|r| !r.is_empty())
                .or_else(|| s.evaluation_error.clone().filter(|r| !r.is_empty())),
        },
        None => Decision::Unknown,
    }
}

/// Asks one review. `Ok(None)` when the review itself could not be asked
/// (see the module docs); a transport error is an error (the caller's
/// deadline and reachability handling apply).
pub async fn ask(
    client: &kube::Client,
    cluster_id: &str,
    check: &WriteCheck,
) -> Result<Option<AccessDenied>, ActError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = match api.create(&PostParams::default(), &check.review()).await {
        Ok(r) => r,
        // 403 Forbidden, 404 Not Found, 405 Method Not Allowed.
        Err(kube::Error::Api(s)) if (403..=405).contains(&s.code) => {
            tracing::warn!(
                cluster = cluster_id,
                code = s.code,
                "access review not available"
            );
            return Ok(None);
        }
        Err(e) => {
            return Err(from_kube(
                cluster_id,
                "create",
                "selfsubjectaccessreviews",
                "an access review",
                e,
            ))
        }
    };
    Ok(match decision(&answer) {
        Decision::Allowed | Decision::Unknown => None,
        Decision::Denied { reason } => Some(AccessDenied {
            verb: check.verb.to_owned(),
            resource: check.resource_path(),
            group: check.group.to_owned(),
            namespace: check.namespace.clone(),
            reason,
        }),
    })
}

/// Every write in `checks` that is denied, asked side by side.
pub async fn denied_writes(
    client: &kube::Client,
    cluster_id: &str,
    checks: &[WriteCheck],
) -> Result<Vec<AccessDenied>, ActError> {
    let answers =
        futures_util::future::join_all(checks.iter().map(|c| ask(client, cluster_id, c))).await;
    let mut denied = Vec::new();
    for a in answers {
        denied.extend(a?);
    }
    Ok(denied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> SelfSubjectAccessReview {
        serde_json::from_str(body).expect("a review reply")
    }

    #[test]
    fn reviews_parse_from_the_apiserver_wire_format() {
        // What `kubectl auth can-i patch deployments/scale -n shop -v8`
        // shows the apiserver answering.
        let allowed = parse(
            r#"{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
            "metadata":{"creationTimestamp":null},
            "spec":{"resourceAttributes":{"namespace":"shop","verb":"patch","group":"apps",
            "resource":"deployments","subresource":"scale","name":"checkout"}},
            "status":{"allowed":true,"reason":"RBAC: allowed by ClusterRoleBinding \"admin\""}}"#,
        );
        assert_eq!(decision(&allowed), Decision::Allowed);
        let denied = parse(
            r#"{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
            "metadata":{"creationTimestamp":null},
            "spec":{"resourceAttributes":{"namespace":"shop","verb":"patch","group":"apps",
            "resource":"deployments","subresource":"scale"}},
            "status":{"allowed":false}}"#,
        );
        assert_eq!(decision(&denied), Decision::Denied { reason: None });
        let with_reason = parse(
            r#"{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
            "metadata":{},"spec":{},
            "status":{"allowed":false,"denied":true,"reason":"blocked by policy"}}"#,
        );
        assert_eq!(
            decision(&with_reason),
            Decision::Denied {
                reason: Some("blocked by policy".into())
            }
        );
        let no_status = parse(r#"{"metadata":{},"spec":{}}"#);
        assert_eq!(decision(&no_status), Decision::Unknown);
    }

    #[test]
    fn a_failover_asks_for_the_scale_subresource_and_the_hpa_when_there_is_one() {
        let w = WorkloadRef {
            cluster_id: "c".into(),
            namespace: "shop".into(),
            deployment: "checkout".into(),
        };
        let plain = failover_writes(&w, false);
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].resource_path(), "deployments/scale");
        let body = serde_json::to_value(plain[0].review()).unwrap();
        let attrs = &body["spec"]["resourceAttributes"];
        assert_eq!(attrs["verb"], "patch");
        assert_eq!(attrs["group"], "apps");
        assert_eq!(attrs["subresource"], "scale");
        assert_eq!(attrs["name"], "checkout");
        let with_hpa = failover_writes(&w, true);
        assert_eq!(with_hpa[1].resource_path(), "horizontalpodautoscalers");
        assert_eq!(with_hpa[1].group, "autoscaling");
    }
}
