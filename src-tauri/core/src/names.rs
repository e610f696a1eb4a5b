//! Kubernetes object names as the API server checks them (DNS-1123), so
//! that the app's IPC and the CLI refuse a bad name before any network call,
//! with the same words.

/// Why a name is refused; the message names what it is and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not a DNS-1123 {rule}")]
pub struct NameError {
    pub what: String,
    pub value: String,
    pub rule: &'static str,
}

const LABEL_RULE: &str = "label (a-z, 0-9 and '-', at most 63)";
const SUBDOMAIN_RULE: &str = "name (a-z, 0-9, '-' and '.', at most 253)";

fn is_label(v: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !v.is_empty()
        && v.len() <= 63
        && v.chars().all(|c| alnum(c) || c == '-')
        && v.starts_with(alnum)
        && v.ends_with(alnum)
}

/// A DNS-1123 label (namespaces): lower-case alphanumerics and `-`, at
/// most 63, starting and ending alphanumeric.
pub fn check_label(what: &str, v: &str) -> Result<(), NameError> {
    if is_label(v) {
        Ok(())
    } else {
        Err(NameError {
            what: what.to_owned(),
            value: v.to_owned(),
            rule: LABEL_RULE,
        })
    }
}

/// A DNS-1123 subdomain (deployments, pods): dot-separated labels, at most
/// 253 in all.
pub fn check_subdomain(what: &str, v: &str) -> Result<(), NameError> {
    if v.is_empty() || v.len() > 253 || !v.split('.').all(is_label) {
        return Err(NameError {
            what: what.to_owned(),
            value: v.to_owned(),
            rule: SUBDOMAIN_RULE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_dns_1123() {
        for ok in ["shop", "kube-system", "a1"] {
            assert!(check_label("ns", ok).is_ok(), "{ok}");
        }
        for bad in ["", "Shop", "-shop", "shop-", "a_b", "a.b", &"a".repeat(64)] {
            assert!(check_label("ns", bad).is_err(), "{bad}");
        }
        assert!(check_subdomain("d", "web.v2").is_ok());
        assert!(check_subdomain("d", "web..v2").is_err());
        assert!(check_subdomain("d", &"a.".repeat(127)).is_err());
        assert_eq!(
            check_label("the namespace", "Shop")
                .unwrap_err()
                .to_string(),
            "the namespace \"Shop\" is not a DNS-1123 label (a-z, 0-9 and '-', at most 63)"
        );
    }
}
