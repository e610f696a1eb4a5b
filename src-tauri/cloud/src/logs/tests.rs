use super::*;

fn line(ts: i64, cluster: &str, text: &str) -> LogLine {
    LogLine {
        ts_ns: ts,
        cluster: cluster.into(),
        namespace: "ns".into(),
        pod: "p".into(),
        container: "c".into(),
        level: Level::Unknown,
        line: text.into(),
        truncated: false,
    }
}

fn times(events: &[LogEvent]) -> Vec<i64> {
    events.iter().filter_map(LogEvent::ts_ns).collect()
}

#[test]
fn the_reorder_buffer_releases_in_time_order_after_the_window() {
    let mut r = Reorder::new(Duration::from_nanos(100), 1000);
    assert!(r.push(LogEvent::Line(line(1000, "a", "x"))).is_empty());
    assert!(r.push(LogEvent::Line(line(950, "b", "x"))).is_empty());
    // 1200 - 100 = 1100: both older lines go, in order.
    let out = r.push(LogEvent::Line(line(1200, "a", "x")));
    assert_eq!(times(&out), [950, 1000]);
    assert_eq!(times(&r.tick(1301)), [1200]);
    assert!(r.is_empty());
}

#[test]
fn the_reorder_buffer_is_bounded_and_markers_pass_through() {
    let mut r = Reorder::new(Duration::from_secs(3600), 3);
    let mut out = Vec::new();
    for ts in [5, 3, 9, 1, 7] {
        out.extend(r.push(LogEvent::Line(line(ts, "a", "x"))));
    }
    assert_eq!(r.len(), 3);
    assert_eq!(times(&out), [1, 3]);
    let gap = LogEvent::Gap {
        cluster: "a".into(),
        pod: "p".into(),
        container: "c".into(),
        last_ts_ns: None,
        reason: "r".into(),
    };
    assert_eq!(r.push(gap.clone()), vec![gap]);
    assert_eq!(times(&r.flush()), [5, 7, 9]);
}

#[test]
fn the_sink_filters_sets_the_level_and_counts_drops() {
    let (sink, mut rx) = LineSink::new(2, Some("(?i)error|timeout")).unwrap();
    assert!(!sink.offer(line(1, "a", "INFO fine")));
    assert!(sink.offer(line(2, "a", "ERROR boom")));
    assert!(sink.offer(line(3, "a", "WARN timeout")));
    // The channel is full: dropped and counted, never queued.
    assert!(!sink.offer(line(4, "a", "ERROR lost")));
    assert!(!sink.offer(line(5, "a", "ERROR lost")));
    assert_eq!(sink.dropped().get(), 2);
    match rx.try_recv() {
        Ok(LogEvent::Line(l)) => assert_eq!((l.ts_ns, l.level), (2, Level::Error)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        LineSink::new(1, Some("(unclosed")),
        Err(LogError::BadFilter(_))
    ));
}

#[test]
fn kubelet_timestamps_split_off() {
    let (ts, rest) = split_timestamp("2025-06-01T00:00:00.000000123Z hello world").unwrap();
    assert_eq!(ts, 1_748_736_000_000_000_123);
    assert_eq!(rest, "hello world");
    assert!(split_timestamp("no timestamp here").is_none());
}

fn pod_line(ts: i64, pod: &str) -> LogEvent {
    let mut l = line(ts, "a", "x");
    l.pod = pod.into();
    LogEvent::Line(l)
}

#[test]
fn the_watermark_releases_once_every_stream_has_passed() {
    let mut r = Reorder::new(Duration::from_secs(3600), 1000).expect_streams(2);
    let mut out = Vec::new();
    for ts in [1, 5, 9] {
        out.extend(r.push(pod_line(ts, "a")));
    }
    assert!(out.is_empty(), "stream b has not spoken yet");
    out.extend(r.push(pod_line(3, "b")));
    assert_eq!(times(&out), [1, 3]);
    out.clear();
    out.extend(r.push(LogEvent::Ended {
        cluster: "a".into(),
        pod: "b".into(),
        container: "c".into(),
        reason: "complete".into(),
        error: None,
    }));
    // b is done: a's lines are safe up to its latest.
    assert_eq!(times(&out), [5, 9]);
    assert!(matches!(out.last(), Some(LogEvent::Ended { .. })));
}
