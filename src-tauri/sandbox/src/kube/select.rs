//! Label and field selectors, and JSON merge patch: the small request
//! languages of the Kubernetes API.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{status::ApiError, store::Object};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector(Vec<Requirement>);

/// Splits at commas outside parentheses (`a in (x,y),b`).
fn terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

fn set_values(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = |t: &str| ApiError::BadRequest(format!("unable to parse requirement: {t:?}"));
        let mut reqs = Vec::new();
        for t in terms(s) {
            let req = if let Some(k) = t.strip_prefix('!') {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotExists,
                }
            } else if let Some((k, v)) = t.split_once("!=") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotEq(v.trim().to_string()),
                }
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::Eq(v.trim().to_string()),
                }
            } else if let Some((k, rest)) = t.split_once(" notin ") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotIn(set_values(rest).ok_or_else(|| bad(t))?),
                }
            } else if let Some((k, rest)) = t.split_once(" in ") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::In(set_values(rest).ok_or_else(|| bad(t))?),
                }
            } else {
                Requirement {
                    key: t.to_string(),
                    op: Op::Exists,
                }
            };
            if !valid_key(&req.key) {
                return Err(bad(t));
            }
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        self.0.iter().all(|r| {
            let v = labels.and_then(|l| l.get(&r.key));
            match &r.op {
                Op::Eq(want) => v == Some(want),
                Op::NotEq(want) => v != Some(want),
                Op::In(set) => v.is_some_and(|v| set.contains(v)),
                Op::NotIn(set) => v.is_none_or(|v| !set.contains(v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
            }
        })
    }
}

/// A parsed `fieldSelector`: `field=value` / `field!=value` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses and checks the fields against what `K` supports, as the
    /// apiserver does (400 for an unknown field label).
    pub fn parse<K: Object>(s: &str, plural: &str) -> Result<Self, ApiError> {
        let mut out = Vec::new();
        for t in terms(s) {
            let (field, eq, value) = if let Some((f, v)) = t.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                (f, true, v)
            } else {
                return Err(ApiError::BadRequest(format!(
                    "invalid selector: '{s}'; can't understand '{t}'"
                )));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace")
                || K::FIELDS.contains(&field);
            if !supported {
                return Err(ApiError::BadRequest(format!(
                    "field label not supported: {field} (for {plural})"
                )));
            }
            out.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(out))
    }

    pub fn matches<K: Object>(&self, obj: &K) -> bool {
        self.0.iter().all(|(field, eq, want)| {
            let meta = obj.metadata();
            let have = match field.as_str() {
                "metadata.name" => meta.name.as_deref(),
                "metadata.namespace" => meta.namespace.as_deref(),
                f => obj.field(f).flatten(),
            };
            (have.unwrap_or("") == want) == *eq
        })
    }
}

/// Both selectors of a list or watch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn matches<K: Object>(&self, obj: &K) -> bool {
        self.labels.matches(obj.metadata().labels.as_ref()) && self.fields.matches(obj)
    }
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` deletes,
/// anything else replaces. Also what the sandbox applies for strategic merge
/// patches and server-side apply, which agree with it on the fields the
/// product patches (replicas, annotations, HPA bounds and targets).
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::{
        apps::v1::Deployment,
        core::v1::{Event, Pod},
    };
    use serde_json::json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_follow_the_kubernetes_grammar() {
        let l = labels(&[("app", "checkout"), ("tier", "web")]);
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(Some(&l));
        assert!(m("app=checkout"));
        assert!(m("app==checkout,tier"));
        assert!(!m("app!=checkout"));
        assert!(m("tier in (web, api),!canary"));
        assert!(!m("tier notin (web)"));
        assert!(m(""));
        assert!(!m("missing"));
        assert!(LabelSelector::parse("a in x").is_err());
        assert!(LabelSelector::parse("=x").is_err());
    }

    #[test]
    fn field_selectors_know_their_fields() {
        assert!(FieldSelector::parse::<Pod>("spec.nodeName=n1", "pods").is_ok());
        assert!(FieldSelector::parse::<Deployment>("spec.nodeName=n1", "deployments").is_err());
        assert!(FieldSelector::parse::<Event>("involvedObject.name=x", "events").is_ok());
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        let f =
            FieldSelector::parse::<Pod>("metadata.name=p,status.phase!=Failed", "pods").unwrap();
        assert!(f.matches(&pod));
    }

    #[test]
    fn merge_patch_is_rfc_7386() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
        merge_patch(&mut t, &json!({"a": {"b": null, "e": 3}, "d": [3]}));
        assert_eq!(t, json!({"a": {"c": 2, "e": 3}, "d": [3]}));
    }
}
