//! Time ranges: the presets of the range picker and the step each range is
//! read at. The step keeps a range at most ~2,000 points, so that a 30-day
//! read is as cheap as a 1-hour one; the charts merge columns further to
//! the pixel budget.

use super::{RangeRequest, ResolvedRange};
use crate::views::ViewError;

/// `(name, seconds)` of the range picker's presets.
pub const PRESETS: [(&str, i64); 4] = [
    ("1h", 3600),
    ("24h", 86_400),
    ("7d", 7 * 86_400),
    ("30d", 30 * 86_400),
];

/// Steps a range may be read at: the raw collection interval, then the
/// rollup tiers (5 min, 1 h) and multiples of them.
const STEPS: [i64; 7] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400];
const MAX_POINTS: i64 = 2_100;
/// Longest range a view reads (the 1-hour tier keeps 400 days).
const MAX_SPAN: i64 = 400 * 86_400;

/// Turns what the user asked for into bounds aligned to a step, ending at
/// `now` for presets.
pub fn resolve_range(req: &RangeRequest, now: i64) -> Result<ResolvedRange, ViewError> {
    let (start, end) = match req {
        RangeRequest::Preset { preset } => {
            let span = PRESETS
                .iter()
                .find(|(name, _)| name == preset)
                .map(|(_, s)| *s)
                .ok_or_else(|| {
                    ViewError::BadRange(format!(
                        "unknown range preset {preset:?}; use one of 1h, 24h, 7d, 30d"
                    ))
                })?;
            (now - span, now)
        }
        RangeRequest::Custom { start, end } => (*start, *end),
    };
    if end <= start {
        return Err(ViewError::BadRange(format!(
            "the range ends ({end}) before it starts ({start})"
        )));
    }
    if end - start > MAX_SPAN {
        return Err(ViewError::BadRange(
            "the range is longer than the 400 days the cache keeps".into(),
        ));
    }
    let span = end - start;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= MAX_POINTS)
        .unwrap_or(86_400);
    // Align outwards so that every step is whole.
    let start = start.div_euclid(step) * step;
    let end = (end + step - 1).div_euclid(step) * step;
    Ok(ResolvedRange { start, end, step })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_end_now_with_a_step_that_keeps_points_bounded() {
        let now = 1_700_000_030;
        for (name, span) in PRESETS {
            let r = resolve_range(
                &RangeRequest::Preset {
                    preset: name.into(),
                },
                now,
            )
            .unwrap();
            assert!(r.end >= now && r.end - now < r.step, "{name}: {r:?}");
            assert!(r.start <= now - span);
            assert!(
                (r.end - r.start) / r.step <= MAX_POINTS + 1,
                "{name}: {r:?}"
            );
            assert_eq!(r.start % r.step, 0);
        }
        let one_hour = resolve_range(
            &RangeRequest::Preset {
                preset: "1h".into(),
            },
            now,
        )
        .unwrap();
        assert_eq!(one_hour.step, 60);
        let week = resolve_range(
            &RangeRequest::Preset {
                preset: "7d".into(),
            },
            now,
        )
        .unwrap();
        assert_eq!(week.step, 300, "7 days read the 5-minute tier");
    }

    #[test]
    fn bad_ranges_are_refused_with_the_reason() {
        let e = resolve_range(
            &RangeRequest::Preset {
                preset: "2w".into(),
            },
            0,
        )
        .unwrap_err();
        assert!(e.to_string().contains("1h, 24h, 7d, 30d"), "{e}");
        let e = resolve_range(&RangeRequest::Custom { start: 10, end: 5 }, 0).unwrap_err();
        assert!(e.to_string().contains("before it starts"), "{e}");
        let e = resolve_range(
            &RangeRequest::Custom {
                start: 0,
                end: 500 * 86_400,
            },
            0,
        )
        .unwrap_err();
        assert!(e.to_string().contains("400 days"), "{e}");
    }
}
