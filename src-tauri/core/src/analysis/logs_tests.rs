use super::*;

/// Groups of lines that must fold into one template each; different groups
/// must not share a template.
const FOLDS: &[&[&str]] = &[
    &[
        "payment 4412 failed for order 991: card declined",
        "payment 17 failed for order 5: card declined",
    ],
    &[
        "request 3f2b9c1e-8a4d-4e2f-9b1a-0c6d5e4f3a2b timed out after 250ms",
        "request 00000000-1111-4222-8333-444444444444 timed out after 3ms",
    ],
    &[
        "connection refused to 10.1.2.3:5432",
        "connection refused to 192.168.100.254:6543",
    ],
    &[
        "user \"alice\" not found in tenant 'north'",
        "user \"bob o'neil\" not found in tenant 'south-2'",
    ],
    &[
        "2025-06-01T12:00:00.123456789Z upstream reset in pod checkout-7d9f8b6c5-x2k4p",
        "2026-11-23T03:12:05Z upstream reset in pod checkout-5c7fb9d8d4-q8w2z",
    ],
    &[
        "trace 0x7ffe3a21 span deadbeefcafe1234 dropped",
        "trace 0x11 span 0123456789abcdef dropped",
    ],
    &[
        "retry 3 of 5 at 12:01:02.500",
        "retry 4 of 5 at 23:59:59.999",
    ],
];

#[test]
fn lines_differing_only_in_variables_fold_and_different_messages_do_not() {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (g, lines) in FOLDS.iter().enumerate() {
        let t0 = template(lines[0]);
        for l in &lines[1..] {
            assert_eq!(template(l), t0, "group {g}: {l:?} did not fold into {t0:?}");
        }
        for (other, og) in &seen {
            assert_ne!(&t0, other, "group {g} collides with group {og}");
        }
        seen.push((t0, g));
    }
}

#[test]
fn templates_keep_the_words_and_name_the_placeholders() {
    assert_eq!(
        template("connection refused to 10.1.2.3:5432 after 3 retries"),
        "connection refused to <IP> after <NUM> retries"
    );
    assert_eq!(
        template("request 3f2b9c1e-8a4d-4e2f-9b1a-0c6d5e4f3a2b took 250ms"),
        "request <UUID> took <NUM>ms"
    );
    assert_eq!(template("user \"alice\" missing"), "user \"<STR>\" missing");
    assert_eq!(template("at 2025-06-01T12:00:00Z done"), "at <TS> done");
    // Versions-like words with one digit are words, not ids.
    assert_eq!(template("http2 stream reset"), "http2 stream reset");
    // An apostrophe inside a word is not a quote.
    assert_eq!(template("don't retry"), "don't retry");
}

#[test]
fn genuinely_different_messages_stay_apart() {
    let pairs = [
        (
            "connection refused to 10.0.0.1",
            "connection reset by 10.0.0.1",
        ),
        (
            "payment failed: card declined",
            "payment failed: insufficient funds",
        ),
        ("cache miss for key 12", "cache hit for key 12"),
    ];
    for (a, b) in pairs {
        assert_ne!(template(a), template(b), "{a:?} vs {b:?}");
    }
}

#[test]
fn levels_come_from_fields_prefixes_and_keywords() {
    let cases = [
        (r#"{"level":"error","msg":"boom"}"#, Level::Error),
        (r#"{"severity":"WARNING","message":"slow"}"#, Level::Warn),
        (r#"{"lvl":"info","msg":"ok"}"#, Level::Info),
        (r#"{"level":50,"msg":"pino error"}"#, Level::Error),
        (r#"{"msg":"an error without a level"}"#, Level::Error),
        ("time=1 level=warn msg=\"disk filling\"", Level::Warn),
        (
            "E1123 03:12:05.123456       1 reflector.go:42] watch failed",
            Level::Error,
        ),
        ("W1123 03:12:05.123456       1 x.go:1] slow", Level::Warn),
        ("2025-06-01 INFO started in 3s", Level::Info),
        ("ERROR: disk full", Level::Error),
        ("warning: deprecated flag", Level::Warn),
        ("GET /healthz 200", Level::Unknown),
        // The most severe keyword wins.
        ("INFO retrying after error", Level::Error),
    ];
    for (line, want) in cases {
        assert_eq!(parse_line(line).level, want, "{line}");
    }
}

#[test]
fn plain_prefixes_do_not_split_templates() {
    let plain = parse_line("2025-06-01T00:00:00Z ERROR charge 42 failed");
    let json = parse_line(r#"{"level":"error","msg":"charge 7 failed"}"#);
    assert_eq!(plain.level, Level::Error);
    assert_eq!(plain.message, "charge 42 failed");
    assert_eq!(template(&plain.message), template(&json.message));
    assert_eq!(parse_line("[WARN]: disk 91% full").message, "disk 91% full");
    // A first word that is not a level stays.
    assert_eq!(parse_line("I/O error on sda").message, "I/O error on sda");
    // Long digit runs are ids like their hex neighbours.
    assert_eq!(
        template("trace 0452ada9f5706c25"),
        template("trace 0452339185706125")
    );
}

#[test]
fn json_lines_are_templated_on_their_message() {
    let a = parse_line(
        r#"{"ts":"2025-06-01T00:00:00Z","level":"error","msg":"charge 42 failed","error":"code 7"}"#,
    );
    let b = parse_line(
        r#"{"ts":"2025-06-01T00:00:09Z","level":"error","msg":"charge 9 failed","error":"code 13"}"#,
    );
    assert_eq!(a.message, "charge 42 failed: code 7");
    assert_eq!(template(&a.message), template(&b.message));
    assert_eq!(template(&a.message), "charge <NUM> failed: code <NUM>");
}

#[test]
fn invalid_utf8_and_huge_lines_are_handled() {
    let (text, cut) = line_from_bytes(b"bad \xff\xfe bytes error\n");
    assert!(!cut);
    assert_eq!(text, "bad \u{fffd}\u{fffd} bytes error");
    assert_eq!(parse_line(&text).level, Level::Error);

    // 2 MiB of a multi-byte char: cut on a char boundary, with the marker.
    let huge = "é".repeat(MAX_LINE_BYTES);
    let (text, cut) = line_from_bytes(huge.as_bytes());
    assert!(cut);
    assert!(text.ends_with(TRUNCATION_MARKER));
    assert!(text.len() <= MAX_LINE_BYTES + TRUNCATION_MARKER.len());
    // The template of a huge line is bounded too.
    assert!(template(&text).len() <= 2 * MAX_TEMPLATE_INPUT);

    // Arbitrary bytes never panic anywhere in the chain.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        let len = (rng % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // Bias towards the characters the scanner looks at.
                b"0123456789abcdef.:-\"'\\ {}Tx\xff\xc3\xa9"[(rng % 27) as usize]
            })
            .collect();
        let (text, _) = line_from_bytes(&bytes);
        let _ = template(&text);
        let mut t = PatternTable::new(PatternLimits {
            min_level: Level::Unknown,
            ..Default::default()
        });
        t.observe("c", "p", 0, &text);
    }
}

#[test]
fn the_table_counts_templates_with_time_pods_and_clusters() {
    let mut t = PatternTable::new(PatternLimits::default());
    assert_eq!(
        t.observe("c1", "p1", 1000, "ERROR payment 1 failed"),
        Observed::New
    );
    assert_eq!(
        t.observe("c2", "p2", 3000, "ERROR payment 2 failed"),
        Observed::Known
    );
    assert_eq!(
        t.observe("c1", "p1", 2000, "ERROR payment 3 failed"),
        Observed::Known
    );
    assert_eq!(
        t.observe("c1", "p1", 2000, "INFO all good"),
        Observed::Skipped
    );
    assert_eq!(t.observe("c1", "p1", 2500, "WARN slow 3ms"), Observed::New);
    let ps = t.patterns();
    assert_eq!(ps.len(), 2);
    let p = ps[0];
    assert_eq!(p.template, "payment <NUM> failed");
    assert_eq!(p.level, Level::Error);
    assert_eq!((p.count, p.first_seen, p.last_seen), (3, 1000, 3000));
    assert_eq!(p.sample, "ERROR payment 1 failed");
    assert_eq!(p.pods.iter().collect::<Vec<_>>(), ["p1", "p2"]);
    assert_eq!(p.clusters.iter().collect::<Vec<_>>(), ["c1", "c2"]);
    assert_eq!(ps[1].level, Level::Warn);
}

#[test]
fn the_table_stays_within_its_bounds() {
    let mut t = PatternTable::new(PatternLimits {
        max_patterns: 3,
        max_members: 2,
        min_level: Level::Error,
    });
    for (i, word) in ["alpha", "beta", "gamma", "delta", "epsilon"]
        .iter()
        .enumerate()
    {
        t.observe("c", "p", i as i64, &format!("error {word}"));
    }
    assert_eq!(t.len(), 3);
    assert_eq!(t.evicted, 2);
    // The two least recently seen went.
    let names: BTreeSet<String> = t.patterns().iter().map(|p| p.template.clone()).collect();
    assert!(
        names.contains("epsilon") && !names.contains("alpha"),
        "{names:?}"
    );

    for pod in ["a", "b", "c", "d"] {
        t.observe("k", pod, 10, "error epsilon");
    }
    let p = t
        .patterns()
        .into_iter()
        .find(|p| p.template == "epsilon")
        .cloned()
        .unwrap();
    assert_eq!(p.pods.len(), 2);
    assert!(p.pods_truncated);
    assert_eq!(p.count, 5);
}
