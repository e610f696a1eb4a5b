//! Timestamps on the wire (RFC 3339) to `SystemTime`.

use std::time::SystemTime;

/// Parses an RFC 3339 timestamp (`2024-01-01T00:00:00Z`, with or without
/// fractional seconds and offset). The error says what was wrong.
pub fn parse_rfc3339(s: &str) -> Result<SystemTime, String> {
    let ts: jiff::Timestamp = s
        .trim()
        .parse()
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
    Ok(SystemTime::from(ts))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn parses_utc_and_offsets_and_rejects_garbage() {
        assert_eq!(
            parse_rfc3339("1970-01-01T00:01:00Z").unwrap(),
            UNIX_EPOCH + Duration::from_secs(60)
        );
        assert_eq!(
            parse_rfc3339("1970-01-01T01:01:00.5+01:00").unwrap(),
            UNIX_EPOCH + Duration::from_millis(60_500)
        );
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
