//! The small pure pieces of the EKS provider: `nextToken` paging, reply
//! conversion, name checks. Kept apart from the calls so that each is
//! unit-tested without a server.

use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use aws_sdk_eks::types::Nodegroup;
use base64::Engine as _;
use cloudops_core::model::NodePoolSummary;

use super::KIND;
use crate::error::ProviderError;

/// A runaway `nextToken` chain (a server bug, or a loop) must end.
const MAX_PAGES: usize = 1000;

/// Follows `nextToken`, refusing a token it has seen (a loop) and stopping
/// after [`MAX_PAGES`].
pub(super) struct Pager<'a> {
    region: &'a str,
    op: &'static str,
    next: Option<Option<String>>,
    seen: BTreeSet<String>,
    pages: usize,
}

impl<'a> Pager<'a> {
    pub(super) fn new(region: &'a str, op: &'static str) -> Self {
        Pager {
            region,
            op,
            next: Some(None),
            seen: BTreeSet::new(),
            pages: 0,
        }
    }

    /// `Some(token)` while a page is due (`token` is `None` for the first).
    pub(super) fn next_request(&mut self) -> Result<Option<Option<String>>, ProviderError> {
        if self.next.is_some() {
            self.pages += 1;
            if self.pages > MAX_PAGES {
                return Err(self.decode(format!("more than {MAX_PAGES} pages")));
            }
        }
        Ok(self.next.take())
    }

    pub(super) fn record(&mut self, token: Option<&str>) {
        self.next = match token.filter(|t| !t.is_empty()) {
            None => None,
            Some(t) if !self.seen.insert(t.to_owned()) => {
                // Leave a marker that `next_request` turns into an error.
                self.pages = MAX_PAGES;
                Some(Some(t.to_owned()))
            }
            Some(t) => Some(Some(t.to_owned())),
        };
    }

    fn decode(&self, detail: String) -> ProviderError {
        ProviderError::Decode {
            provider: KIND,
            what: format!("{} in {}", self.op, self.region),
            detail: format!("{detail} (the nextToken chain does not end)"),
        }
    }
}

pub(super) fn pool_summary(
    n: &Nodegroup,
    region: &str,
    cluster: &str,
) -> Result<NodePoolSummary, ProviderError> {
    let name = n.nodegroup_name().unwrap_or_default().to_owned();
    let bad = |detail: &str| ProviderError::Decode {
        provider: KIND,
        what: format!("DescribeNodegroup for node group {name} of cluster {cluster} in {region}"),
        detail: detail.to_owned(),
    };
    if name.is_empty() {
        return Err(bad("the node group has no `nodegroupName`"));
    }
    let scaling = n
        .scaling_config()
        .ok_or_else(|| bad("the node group has no `scalingConfig`"))?;
    let size = |v: Option<i32>, field: &str| -> Result<Option<u32>, ProviderError> {
        v.map(|x| {
            u32::try_from(x).map_err(|_| bad(&format!("`scalingConfig.{field}` is negative ({x})")))
        })
        .transpose()
    };
    let count = size(scaling.desired_size(), "desiredSize")?
        .ok_or_else(|| bad("the node group has no `scalingConfig.desiredSize`"))?;
    Ok(NodePoolSummary {
        name: name.clone(),
        count,
        min: size(scaling.min_size(), "minSize")?,
        max: size(scaling.max_size(), "maxSize")?,
        machine_type: n.instance_types().first().cloned(),
    })
}

/// `certificateAuthority.data` is base64 of a PEM bundle.
pub(super) fn decode_ca(data: &str, cluster: &str, region: &str) -> Result<Vec<u8>, ProviderError> {
    let bad = |detail: String| ProviderError::Decode {
        provider: KIND,
        what: format!("the CA of cluster {cluster} in {region}"),
        detail,
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let pem = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| bad(format!("`certificateAuthority.data` is not base64: {e}")))?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(bad(
            "`certificateAuthority.data` is not a PEM certificate bundle".into(),
        ));
    }
    Ok(pem)
}

/// Region names end up in host names (`eks.{region}…`, `sts.{region}…`),
/// so only their real alphabet is accepted.
pub(crate) fn validate_region(region: &str) -> Result<(), ProviderError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ProviderError::Config {
            provider: KIND,
            detail: format!("{region:?} is not an AWS region name (e.g. us-east-1)"),
        })
    }
}

pub(super) fn split_regions(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// Unique per process and time: EKS only needs it unique per update.
pub(super) fn client_request_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("cloudops-{nanos:x}-{:x}-{n:x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked() {
        for good in ["us-east-1", "eu-west-2", "cn-north-1", "us-gov-west-1"] {
            assert!(validate_region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "US-EAST-1",
            "us_east_1",
            "-x",
            "x-",
            "a.b",
            "us-east-1/../x",
            "evil.com",
        ] {
            assert_eq!(validate_region(bad).unwrap_err().kind(), "config", "{bad}");
        }
        assert_eq!(
            split_regions(" us-east-1, ,eu-west-1 "),
            ["us-east-1", "eu-west-1"]
        );
    }

    #[test]
    fn ca_data_must_be_base64_pem() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let wrapped = format!("{}\n{}", &b64[..20], &b64[20..]);
        assert_eq!(decode_ca(&wrapped, "c", "r").unwrap(), pem.as_bytes());
        assert_eq!(
            decode_ca("not base64!", "c", "r").unwrap_err().kind(),
            "bad_reply"
        );
        let not_pem = base64::engine::general_purpose::STANDARD.encode("hello");
        let err = decode_ca(&not_pem, "prod", "eu-west-1").unwrap_err();
        assert_eq!(err.kind(), "bad_reply");
        assert!(err.to_string().contains("prod in eu-west-1"), "{err}");
    }

    #[test]
    fn pager_follows_tokens_and_stops_on_a_loop() {
        let mut p = Pager::new("r", "ListClusters");
        assert_eq!(p.next_request().unwrap(), Some(None));
        p.record(Some("a"));
        assert_eq!(p.next_request().unwrap(), Some(Some("a".into())));
        p.record(Some(""));
        assert_eq!(p.next_request().unwrap(), None);

        let mut p = Pager::new("r", "ListClusters");
        p.next_request().unwrap();
        p.record(Some("a"));
        p.next_request().unwrap();
        p.record(Some("a"));
        assert_eq!(p.next_request().unwrap_err().kind(), "bad_reply");
    }

    #[test]
    fn request_tokens_differ() {
        assert_ne!(client_request_token(), client_request_token());
    }
}
