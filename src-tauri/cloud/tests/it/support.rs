//! Fixture loading and the checks every provider module shares.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// `shared/fixtures/`, beside the repository checkout. Missing fixtures fail
/// the run: skipping would turn "not proven" into "passed".
pub fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    assert!(
        dir.is_dir(),
        "the provider fixtures are missing: expected them at {} (the workspace root's \
         parent must hold shared/fixtures; see shared/fixtures/README.md)",
        dir.display()
    );
    dir
}

fn read(rel: &str) -> String {
    let path = fixtures_dir().join(rel);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

pub fn read_json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("fixture {rel} is not JSON: {e}"))
}

pub fn read_yaml(rel: &str) -> Value {
    serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("fixture {rel} is not YAML: {e}"))
}

/// Follows a JSON pointer, panicking with the fixture's name when it is absent.
pub fn at<'a>(doc: &'a Value, pointer: &str, what: &str) -> &'a Value {
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{what}: nothing at {pointer}"))
}

/// Parses `payload` with the production type, naming the fixture on failure.
pub fn parse<T: DeserializeOwned>(payload: &Value, what: &str) -> T {
    serde_json::from_value(payload.clone()).unwrap_or_else(|e| {
        panic!(
            "{what} does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    })
}

/// The model survives serialise-then-parse unchanged, and everything it emits
/// is in the original payload with the same value. The second half catches a
/// field that reads under one name and writes under another, which a round
/// trip alone would not.
pub fn assert_round_trip<T>(model: &T, original: &Value, what: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let emitted = serde_json::to_value(model).expect("models serialise");
    let again: T = parse(&emitted, what);
    assert_eq!(&again, model, "{what}: changed by a JSON round trip");
    let mut errors = Vec::new();
    subset(&emitted, original, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{what}: emitted JSON differs from the fixture:\n{}",
        errors.join("\n")
    );
}

fn subset(emitted: &Value, original: &Value, path: &str, errors: &mut Vec<String>) {
    match (emitted, original) {
        (Value::Object(e), Value::Object(o)) => {
            for (k, v) in e {
                match o.get(k) {
                    Some(ov) => subset(v, ov, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: emitted but not in the fixture")),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) if e.len() == o.len() => {
            for (i, (ev, ov)) in e.iter().zip(o).enumerate() {
                subset(ev, ov, &format!("{path}[{i}]"), errors);
            }
        }
        (e, o) if e == o => {}
        (e, o) => errors.push(format!("{path}: emitted {e}, fixture has {o}")),
    }
}
