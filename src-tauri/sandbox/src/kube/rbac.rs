//! RBAC as the sandbox models it: everything is allowed, except what an
//! `rbac_deny` chaos fault takes away (chaos.rs): writes to `apps` and
//! `autoscaling` resources in one cluster (one namespace, when given).
//!
//! A denied write gets the apiserver's own 403: a `Status` with reason
//! `Forbidden` and the RBAC authorizer's message wording
//! (`deployments.apps "checkout" is forbidden: User "…" cannot patch
//! resource "deployments/scale" in API group "apps" in the namespace
//! "shop"`). SelfSubjectAccessReviews are always served, in the real wire
//! format, and agree with what a write would get.

use axum::{
    http::{Method, StatusCode},
    response::Response,
};
use k8s_openapi::{
    api::authorization::v1::{SelfSubjectAccessReview, SubjectAccessReviewStatus},
    apimachinery::pkg::apis::meta::v1::{Status, StatusDetails},
};

use super::{status::ApiError, Request};
use crate::{chaos::Chaos, http::json};

/// The user the sandbox's tokens authenticate as, in RBAC messages.
pub const SANDBOX_USER: &str = "cloudops-sandbox-user";

/// The API groups an `rbac_deny` fault covers: what scaling and
/// autoscaling write to.
const DENIED_GROUPS: [&str; 2] = ["apps", "autoscaling"];

fn is_write_verb(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

/// The RBAC verb of a request to a named object (or a collection).
fn verb_of(method: &Method, named: bool) -> Option<&'static str> {
    Some(match *method {
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => return None,
    })
}

/// The 403 the apiserver answers a write RBAC denies.
pub(crate) fn forbidden(
    verb: &str,
    group: &str,
    resource: &str,
    subresource: Option<&str>,
    namespace: &str,
    name: Option<&str>,
) -> Status {
    let qualified = format!("{resource}.{group}");
    let object = match name {
        Some(n) => format!("{qualified} \"{n}\""),
        None => qualified,
    };
    let full = match subresource {
        Some(s) => format!("{resource}/{s}"),
        None => resource.to_owned(),
    };
    Status {
        code: Some(403),
        reason: Some("Forbidden".into()),
        status: Some("Failure".into()),
        message: Some(format!(
            "{object} is forbidden: User \"{SANDBOX_USER}\" cannot {verb} resource \"{full}\" \
             in API group \"{group}\" in the namespace \"{namespace}\""
        )),
        details: Some(StatusDetails {
            name: name.map(str::to_owned),
            group: Some(group.to_owned()),
            kind: Some(resource.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The 403 for `method` on the path `segs`, when a fault denies it.
pub(crate) fn deny_write(
    chaos: &Chaos,
    cluster_id: &str,
    method: &Method,
    segs: &[&str],
) -> Option<Response> {
    let ["apis", group, _version, "namespaces", ns, resource, rest @ ..] = segs else {
        return None;
    };
    if !DENIED_GROUPS.contains(group) {
        return None;
    }
    let verb = verb_of(method, !rest.is_empty())?;
    if !chaos.rbac_denied(cluster_id, Some(*ns)) {
        return None;
    }
    let status = forbidden(
        verb,
        group,
        resource,
        rest.get(1).copied(),
        ns,
        rest.first().copied(),
    );
    Some(json(StatusCode::FORBIDDEN, &status))
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: the
/// review back with its `status`, `201 Created` as the apiserver answers.
pub(crate) fn access_review(
    chaos: &Chaos,
    cluster_id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    if req.method != Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    let mut review: SelfSubjectAccessReview = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::BadRequest(format!("the review cannot be decoded: {e}")))?;
    let denied = review.spec.resource_attributes.as_ref().is_some_and(|a| {
        let group = a.group.as_deref().unwrap_or("");
        a.verb.as_deref().is_some_and(is_write_verb)
            && DENIED_GROUPS.contains(&group)
            && chaos.rbac_denied(cluster_id, a.namespace.as_deref())
    });
    review.status = Some(SubjectAccessReviewStatus {
        allowed: !denied,
        // RBAC gives a reason when it allows, and none when no rule matched.
        reason: (!denied).then(|| {
            "RBAC: allowed by ClusterRoleBinding \"cloudops-sandbox\" of ClusterRole \
             \"cluster-admin\" to User \"cloudops-sandbox-user\""
                .into()
        }),
        ..Default::default()
    });
    Ok(json(StatusCode::CREATED, &review))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::Fault;

    #[test]
    fn a_denied_write_is_the_apiservers_forbidden_status() {
        let s = forbidden(
            "patch",
            "apps",
            "deployments",
            Some("scale"),
            "shop",
            Some("checkout"),
        );
        // Through the wire and back, as a client decodes it.
        let wire = serde_json::to_string(&s).unwrap();
        let v: serde_json::Value = serde_json::from_str(&wire).unwrap();
        assert_eq!(v["kind"], "Status");
        assert_eq!(v["apiVersion"], "v1");
        let back: Status = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.code, Some(403));
        assert_eq!(back.reason.as_deref(), Some("Forbidden"));
        assert_eq!(
            back.message.as_deref(),
            Some(
                "deployments.apps \"checkout\" is forbidden: User \"cloudops-sandbox-user\" \
                 cannot patch resource \"deployments/scale\" in API group \"apps\" in the \
                 namespace \"shop\""
            )
        );
        let d = back.details.unwrap();
        assert_eq!(
            (d.name.as_deref(), d.group.as_deref(), d.kind.as_deref()),
            (Some("checkout"), Some("apps"), Some("deployments"))
        );
    }

    #[test]
    fn the_fault_denies_workload_writes_in_its_namespace_only() {
        let world = crate::World::generate(42);
        let chaos = Chaos::new(1);
        chaos.attach(&world);
        let (c1, c2) = {
            let w = world.read();
            (w.clusters[0].id.clone(), w.clusters[1].id.clone())
        };
        let segs = |p: &'static str| p.split('/').collect::<Vec<_>>();
        let scale = segs("apis/apps/v1/namespaces/shop/deployments/checkout/scale");
        assert!(deny_write(&chaos, &c1, &Method::PATCH, &scale).is_none());
        chaos
            .add(Fault::RbacDeny {
                cluster_id: c1.clone(),
                namespace: Some("shop".into()),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = deny_write(&chaos, &c1, &Method::PATCH, &scale).expect("a 403");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(deny_write(&chaos, &c1, &Method::GET, &scale).is_none());
        assert!(deny_write(&chaos, &c2, &Method::PATCH, &scale).is_none());
        let other_ns = segs("apis/apps/v1/namespaces/web/deployments/front");
        assert!(deny_write(&chaos, &c1, &Method::PATCH, &other_ns).is_none());
        let core = segs("api/v1/namespaces/shop/pods/p");
        assert!(deny_write(&chaos, &c1, &Method::DELETE, &core).is_none());
        let hpa = segs("apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers");
        assert!(deny_write(&chaos, &c1, &Method::POST, &hpa).is_some());
        // An unknown cluster is refused when the fault is added.
        assert!(chaos
            .add(Fault::RbacDeny {
                cluster_id: "nope".into(),
                namespace: None,
            })
            .is_err());
    }
}
