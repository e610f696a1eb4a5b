//! Typed serde models of the provider payloads (BRIEF §4, §6).
//!
//! The provider clients parse these payloads and the sandbox (§6) serves them.
//! If each side had its own structs, the sandbox could agree with our clients
//! while both disagreed with the real clouds, and every sandbox test would pass
//! for the wrong reason. So there is one set of models, used by both sides, and
//! `tests/it` proves it against the official example payloads in
//! `shared/fixtures/`: the AKS ARM examples, the DigitalOcean OpenAPI examples,
//! and (GKE publishes no examples) the GKE discovery document's schemas.
//!
//! Conventions that follow from that:
//! - Only the fields the product uses. Unknown fields are ignored, never
//!   rejected: the clouds add fields all the time, and a new one must not break
//!   discovery.
//! - `Option` (or a serde default) for anything a real response may leave out.
//!   Absent values are not serialised, so the sandbox emits the shape the cloud
//!   emits instead of a forest of `null`s.
//! - No I/O and no HTTP types here: a model is data, and the clients decide how
//!   to fetch it.

pub mod arm;
pub mod doks;
pub mod gke;

use base64::Engine as _;

/// A payload parsed, but one of its values is not what the wire format says.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A field documented as base64 (`format: byte`) did not decode. The field
    /// is named, never its value: these values are credentials.
    #[error("field `{field}` is not valid base64")]
    BadBase64 {
        field: &'static str,
        #[source]
        source: base64::DecodeError,
    },
}

/// Decodes a `format: byte` field: standard alphabet, padded, as both ARM and
/// the DigitalOcean API emit it.
pub(crate) fn decode_base64(field: &'static str, value: &str) -> Result<Vec<u8>, WireError> {
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|source| WireError::BadBase64 { field, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_padded_standard_alphabet() {
        assert_eq!(decode_base64("f", "aGk/Pz8=").unwrap(), b"hi???");
    }

    #[test]
    fn bad_base64_is_an_error_naming_the_field() {
        let err = decode_base64("kubeconfigs[].value", "not base64!").unwrap_err();
        assert!(matches!(
            err,
            WireError::BadBase64 {
                field: "kubeconfigs[].value",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "field `kubeconfigs[].value` is not valid base64"
        );
        // The URL-safe alphabet is a different encoding, not a typo to forgive.
        assert!(decode_base64("f", "aGk_Pz8=").is_err());
    }
}
