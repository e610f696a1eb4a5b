//! Bearer tokens of the per-cluster API, per cloud:
//!
//! - every cluster: `sandbox-k8s-{cluster_id}` ([`k8s_token`]), what the DOKS
//!   `/credentials` and AKS `listClusterUserCredential` hand out, and the
//!   simple token for tests and kubeconfigs;
//! - GKE: the sandbox's OAuth token, [`crate::GCP_ACCESS_TOKEN`];
//! - EKS: `k8s-aws-v1.` + base64url(presigned STS `GetCallerIdentity` URL),
//!   as `aws eks get-token` makes it. Accepted when the URL asks for
//!   `GetCallerIdentity`, signs the `x-k8s-aws-id` header and carries the
//!   sandbox's access key id. Neither the signature, the expiry, the STS host
//!   nor the cluster name can be checked: the name travels in the signed
//!   header, which the URL does not contain, and the sandbox does not redo
//!   SigV4. So one valid EKS token opens every AWS cluster of the sandbox.

use axum::{extract::Query, http::HeaderMap};
use base64::Engine as _;
use std::collections::HashMap;

use super::status::ApiError;
use crate::{
    http::bearer,
    world::{Cloud, Cluster},
    AWS_ACCESS_KEY_ID, GCP_ACCESS_TOKEN,
};

const EKS_PREFIX: &str = "k8s-aws-v1.";

/// The simple token every sandbox cluster accepts.
pub fn k8s_token(cluster_id: &str) -> String {
    format!("sandbox-k8s-{cluster_id}")
}

pub(crate) fn authorize(cluster: &Cluster, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers).ok_or(ApiError::Unauthorized)?;
    let ok = token == k8s_token(&cluster.id)
        || match cluster.cloud {
            Cloud::Gcp => token == GCP_ACCESS_TOKEN,
            Cloud::Aws => eks_token_ok(token),
            Cloud::Azure | Cloud::DigitalOcean => false,
        };
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

fn eks_token_ok(token: &str) -> bool {
    let Some(b64) = token.strip_prefix(EKS_PREFIX) else {
        return false;
    };
    // aws-iam-authenticator strips the padding; tolerate it anyway.
    let Ok(raw) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64.trim_end_matches('='))
    else {
        return false;
    };
    let Ok(url) = String::from_utf8(raw) else {
        return false;
    };
    let Ok(uri) = url.parse::<axum::http::Uri>() else {
        return false;
    };
    if !matches!(uri.scheme_str(), Some("https" | "http")) {
        return false;
    }
    let Ok(Query(q)) = Query::<HashMap<String, String>>::try_from_uri(&uri) else {
        return false;
    };
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    get("Action") == "GetCallerIdentity"
        && get("X-Amz-SignedHeaders")
            .split(';')
            .any(|h| h.eq_ignore_ascii_case("x-k8s-aws-id"))
        && get("X-Amz-Credential")
            .split('/')
            .next()
            .is_some_and(|akid| akid == AWS_ACCESS_KEY_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eks(url: &str) -> String {
        format!(
            "{EKS_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    #[test]
    fn eks_tokens_need_the_presigned_shape() {
        let good = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=sandbox%2F20250601%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20250601T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abc";
        assert!(eks_token_ok(&eks(good)));
        assert!(!eks_token_ok(&eks(
            &good.replace("GetCallerIdentity", "GetSessionToken")
        )));
        assert!(!eks_token_ok(&eks(&good.replace("%3Bx-k8s-aws-id", ""))));
        assert!(!eks_token_ok(&eks(
            &good.replace("sandbox%2F", "AKIAOTHER%2F")
        )));
        assert!(!eks_token_ok("k8s-aws-v1.!!!"));
        assert!(!eks_token_ok(good));
    }
}
