//! Log lines reduced to error patterns (issue 8): the level of a line (a JSON
//! `level`/`severity`/`lvl` field, logfmt `level=`, a klog `E1123` prefix or
//! a keyword), and a *template* where the parts that change between
//! occurrences of the same message (numbers, UUIDs, hex and generated ids,
//! IPs, quoted values, timestamps) become placeholders. A [`PatternTable`]
//! folds lines into templates with a count, first and last seen, and the pods
//! and clusters they came from, all bounded, so that a noisy stream cannot
//! grow it without limit.
//!
//! The templater is a hand-written scanner rather than a chain of regexes:
//! one pass over the bytes, no backtracking, and nothing that can panic on
//! odd input (every slice is on a char boundary the scanner found itself).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

/// The longest line kept; longer ones are cut (on a char boundary) and end
/// with [`TRUNCATION_MARKER`]. A 1 MiB line is already a bug in the logger.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Appended to a line cut at [`MAX_LINE_BYTES`].
pub const TRUNCATION_MARKER: &str = " …[truncated]";
/// Only this much of a message is templated: past it, the rest of a huge
/// line would only make every occurrence its own pattern.
const MAX_TEMPLATE_INPUT: usize = 2048;
/// The sample line kept with a pattern.
const MAX_SAMPLE_BYTES: usize = 1024;

/// The severity of a line, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    /// No level field and no keyword.
    Unknown,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Unknown => "unknown",
        }
    }

    /// A level word as loggers write it (`ERROR`, `warning`, `E`, `fatal`…).
    pub fn parse(word: &str) -> Option<Level> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "error" | "err" | "e" | "fatal" | "f" | "critical" | "crit" | "panic" | "alert"
            | "emergency" | "emerg" | "severe" => Level::Error,
            "warn" | "warning" | "w" => Level::Warn,
            "info" | "i" | "notice" | "information" | "informational" => Level::Info,
            "debug" | "d" | "trace" | "verbose" | "fine" => Level::Debug,
            "unknown" => Level::Unknown,
            _ => return None,
        })
    }

    /// Whether `self` is at least as severe as `min`.
    pub fn at_least(self, min: Level) -> bool {
        self <= min
    }
}

/// Raw bytes from a log endpoint as a line: invalid UTF-8 becomes U+FFFD and
/// a line over [`MAX_LINE_BYTES`] is cut with [`TRUNCATION_MARKER`]. The flag
/// says whether it was cut.
pub fn line_from_bytes(bytes: &[u8]) -> (String, bool) {
    let cut = bytes.len() > MAX_LINE_BYTES;
    let bytes = if cut { &bytes[..MAX_LINE_BYTES] } else { bytes };
    let text = String::from_utf8_lossy(bytes);
    let mut text = text.trim_end_matches(['\n', '\r']).to_string();
    if cut {
        // Cutting may have split a char into U+FFFD; that is still valid text.
        text.truncate(floor_char_boundary(&text, MAX_LINE_BYTES));
        text.push_str(TRUNCATION_MARKER);
    }
    (text, cut)
}

/// The largest char boundary at or below `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    let mut i = at;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn clip(s: &str, max: usize) -> &str {
    &s[..floor_char_boundary(s, max)]
}

/// A line taken apart: its level and the message to template.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    pub level: Level,
    /// The message: a JSON line's `msg`/`message` (with its `error` field),
    /// or the whole line.
    pub message: String,
}

const LEVEL_FIELDS: [&str; 5] = ["level", "severity", "lvl", "loglevel", "log.level"];
const MESSAGE_FIELDS: [&str; 4] = ["msg", "message", "log", "text"];
const ERROR_FIELDS: [&str; 3] = ["error", "err", "exception"];

/// The level and message of one line.
pub fn parse_line(line: &str) -> ParsedLine {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<serde_json::Value>(trimmed)
        {
            let field = |names: &[&str]| {
                names.iter().find_map(|n| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map(|(_, v)| v)
                })
            };
            let level = field(&LEVEL_FIELDS)
                .and_then(|v| match v {
                    serde_json::Value::String(s) => Level::parse(s),
                    // Numeric levels: syslog (0-7) is the common convention
                    // in JSON loggers that write numbers (bunyan uses 10-60).
                    serde_json::Value::Number(n) => n.as_u64().map(numeric_level),
                    _ => None,
                })
                .unwrap_or_else(|| keyword_level(line));
            let mut message = match field(&MESSAGE_FIELDS) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => trimmed.to_string(),
            };
            if let Some(err) = field(&ERROR_FIELDS) {
                let err = match err {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                message.push_str(": ");
                message.push_str(&err);
            }
            return ParsedLine { level, message };
        }
    }
    ParsedLine {
        level: keyword_level(line),
        message: plain_message(line).to_string(),
    }
}

/// A plain line without its leading timestamp and level word, so that the
/// same message templates alike whatever prefix the logger puts before it.
fn plain_message(line: &str) -> &str {
    let mut rest = line.trim_start();
    if let Some(n) = timestamp_len(rest.as_bytes()) {
        rest = rest[n..].trim_start();
    }
    let word_end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    let word = rest[..word_end].trim_end_matches(':');
    let word = word.trim_start_matches('[').trim_end_matches(']');
    // Only whole level words of some length: a one-letter first word is
    // more likely a message than a level.
    if word.len() >= 4 && Level::parse(word).is_some() {
        rest = rest[word_end..].trim_start();
    }
    rest
}

fn numeric_level(n: u64) -> Level {
    match n {
        // bunyan/pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
        10..=29 => Level::Debug,
        30..=39 => Level::Info,
        40..=49 => Level::Warn,
        50.. => Level::Error,
        // syslog: 0-3 error and worse, 4 warning, 5-6 info, 7 debug.
        0..=3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

/// The level of a plain line: logfmt `level=`, a klog prefix (`E1123 …`),
/// else the most severe level keyword among the first words.
fn keyword_level(line: &str) -> Level {
    let head = clip(line, 256);
    for key in ["level=", "lvl=", "severity="] {
        if let Some(at) = head.find(key) {
            let rest = &head[at + key.len()..];
            let word: String = rest
                .trim_start_matches('"')
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if let Some(l) = Level::parse(&word) {
                return l;
            }
        }
    }
    // klog: `E1123 03:12:05.123456    1 file.go:42] message`.
    let b = head.as_bytes();
    if b.len() > 5 && b[1..5].iter().all(u8::is_ascii_digit) && b[5] == b' ' {
        match b[0] {
            b'E' | b'F' => return Level::Error,
            b'W' => return Level::Warn,
            b'I' => return Level::Info,
            _ => {}
        }
    }
    let mut found = Level::Unknown;
    for word in head
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        let l = match word.to_ascii_lowercase().as_str() {
            "error" | "fatal" | "panic" | "critical" | "exception" | "err" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "info" => Level::Info,
            "debug" | "trace" => Level::Debug,
            _ => continue,
        };
        found = found.min(l);
    }
    found
}

/// Placeholders in templates.
pub const NUM: &str = "<NUM>";
pub const ID: &str = "<ID>";
pub const UUID: &str = "<UUID>";
pub const IP: &str = "<IP>";
pub const TS: &str = "<TS>";
pub const STR: &str = "<STR>";

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The template of a message: see the module docs.
pub fn template(message: &str) -> String {
    let message = clip(message, MAX_TEMPLATE_INPUT);
    let b = message.as_bytes();
    let mut out = String::with_capacity(message.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at_boundary = i == 0 || !is_word(b[i - 1]);
        if (c == b'"' || c == b'\'' && at_boundary) && i + 1 < b.len() {
            if let Some(end) = closing_quote(b, i) {
                out.push(c as char);
                out.push_str(STR);
                out.push(c as char);
                i = end + 1;
                continue;
            }
        }
        if at_boundary && c.is_ascii_alphanumeric() {
            if let Some(n) = timestamp_len(&b[i..]) {
                out.push_str(TS);
                i += n;
                continue;
            }
            if let Some(n) = uuid_len(&b[i..]) {
                out.push_str(UUID);
                i += n;
                continue;
            }
            if let Some(n) = ipv4_len(&b[i..]) {
                out.push_str(IP);
                i += n;
                continue;
            }
            let n = word_len(&b[i..]);
            out.push_str(classify_word(&message[i..i + n]));
            i += n;
            continue;
        }
        // Copy one char (multi-byte ones whole).
        let n = utf8_len(c);
        let end = (i + n).min(b.len());
        out.push_str(message.get(i..end).unwrap_or("\u{fffd}"));
        i = end;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// The index of the quote closing the one at `open`, honouring backslash
/// escapes; `None` if the line does not close it.
fn closing_quote(b: &[u8], open: usize) -> Option<usize> {
    let q = b[open];
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// A word, with decimal points between digits (`12.5`) inside it.
fn word_len(b: &[u8]) -> usize {
    let mut i = 0;
    while i < b.len() {
        if is_word(b[i])
            || (b[i] == b'.'
                && i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
        } else {
            break;
        }
    }
    i.max(1)
}

/// A word as itself or as a placeholder: numbers (with a short unit:
/// `250ms`, `3.5s`, `10Gi`), and generated ids (a mix of letters and digits
/// such as pod suffixes, hashes and trace ids, or `0x` hex).
fn classify_word(w: &str) -> &str {
    let digits = w.bytes().filter(u8::is_ascii_digit).count();
    // Long runs of digits are ids (trace ids, epoch millis), like the
    // mixed ones beside them.
    if digits == w.len() && digits >= 12 {
        return ID;
    }
    if digits == 0 {
        // Long all-hex words (`deadbeefcafe`) are ids even without digits.
        if w.len() >= 12 && w.bytes().all(|c| c.is_ascii_hexdigit()) {
            return ID;
        }
        return w;
    }
    let num_end = w
        .bytes()
        .position(|c| !(c.is_ascii_digit() || c == b'.'))
        .unwrap_or(w.len());
    let unit = &w[num_end..];
    if num_end > 0 && unit.len() <= 3 && unit.bytes().all(|c| c.is_ascii_alphabetic()) {
        return if unit.is_empty() {
            NUM
        } else {
            num_with_unit(unit)
        };
    }
    if w.starts_with("0x") || w.starts_with("0X") {
        return ID;
    }
    if digits >= 2 || w.len() >= 8 {
        return ID;
    }
    w
}

/// `<NUM>ms` etc. The units are a closed set so that the result is `'static`.
fn num_with_unit(unit: &str) -> &'static str {
    const UNITS: [(&str, &str); 14] = [
        ("ms", "<NUM>ms"),
        ("s", "<NUM>s"),
        ("m", "<NUM>m"),
        ("h", "<NUM>h"),
        ("us", "<NUM>us"),
        ("ns", "<NUM>ns"),
        ("b", "<NUM>b"),
        ("kb", "<NUM>kb"),
        ("mb", "<NUM>mb"),
        ("gb", "<NUM>gb"),
        ("ki", "<NUM>Ki"),
        ("mi", "<NUM>Mi"),
        ("gi", "<NUM>Gi"),
        ("x", "<NUM>x"),
    ];
    let lower = unit.to_ascii_lowercase();
    UNITS
        .iter()
        .find(|(u, _)| *u == lower)
        .map(|(_, t)| *t)
        // Other suffixes (`1st`, `2nd`, `404th`) fold too.
        .unwrap_or(ID)
}

fn digits_at(b: &[u8], from: usize, n: usize) -> bool {
    b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
}

/// `2025-06-01T12:00:00(.123)?(Z|±hh:mm)?`, with `T` or a space, or a bare
/// `12:00:00(.123)?`.
fn timestamp_len(b: &[u8]) -> Option<usize> {
    let time_at = |from: usize| -> Option<usize> {
        if !(digits_at(b, from, 2)
            && b.get(from + 2) == Some(&b':')
            && digits_at(b, from + 3, 2)
            && b.get(from + 5) == Some(&b':')
            && digits_at(b, from + 6, 2))
        {
            return None;
        }
        let mut i = from + 8;
        if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        Some(i)
    };
    let date = digits_at(b, 0, 4)
        && b.get(4) == Some(&b'-')
        && digits_at(b, 5, 2)
        && b.get(7) == Some(&b'-')
        && digits_at(b, 8, 2);
    let end = if date {
        match b.get(10) {
            Some(b'T' | b' ') => time_at(11).unwrap_or(10),
            _ => 10,
        }
    } else {
        time_at(0)?
    };
    let mut i = end;
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') if end > 10 && digits_at(b, i + 1, 2) => {
            i += 3;
            if b.get(i) == Some(&b':') {
                i += 1;
            }
            if digits_at(b, i, 2) {
                i += 2;
            }
        }
        _ => {}
    }
    (b.get(i).is_none_or(|c| !is_word(*c))).then_some(i)
}

fn uuid_len(b: &[u8]) -> Option<usize> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (k, n) in GROUPS.iter().enumerate() {
        if b.len() < i + n || !b[i..i + n].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        i += n;
        if k < 4 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
    }
    (b.get(i).is_none_or(|c| !is_word(*c))).then_some(i)
}

/// `10.1.2.3`, with an optional `:port`.
fn ipv4_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            i += 1;
        }
        if i == start {
            return None;
        }
        if part < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    if b.get(i) == Some(&b':') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    (b.get(i).is_none_or(|c| !(is_word(*c) || *c == b'.'))).then_some(i)
}

/// One template and where it was seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pattern {
    pub template: String,
    pub level: Level,
    pub count: u64,
    /// Unix milliseconds.
    pub first_seen: i64,
    pub last_seen: i64,
    /// The first line seen (cut to 1 KiB).
    pub sample: String,
    /// At most [`PatternLimits::max_members`] each; `*_truncated` says more
    /// were seen.
    pub pods: BTreeSet<String>,
    pub clusters: BTreeSet<String>,
    pub pods_truncated: bool,
    pub clusters_truncated: bool,
}

/// The bounds of a [`PatternTable`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternLimits {
    /// Templates kept; past it the least recently seen one is evicted.
    pub max_patterns: usize,
    /// Pods (and clusters) listed per template.
    pub max_members: usize,
    /// Lines below this level are not folded.
    pub min_level: Level,
}

impl Default for PatternLimits {
    fn default() -> Self {
        Self {
            max_patterns: 1000,
            max_members: 32,
            min_level: Level::Warn,
        }
    }
}

/// What [`PatternTable::observe`] did with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Below the table's minimum level.
    Skipped,
    /// The first line of a new template.
    New,
    /// One more of a known template.
    Known,
}

/// Templates with their counts, bounded by [`PatternLimits`].
#[derive(Debug, Clone, Default)]
pub struct PatternTable {
    limits: PatternLimits,
    patterns: HashMap<(Level, String), Pattern>,
    /// Templates dropped to stay within `max_patterns`.
    pub evicted: u64,
}

impl PatternTable {
    pub fn new(limits: PatternLimits) -> Self {
        Self {
            limits: PatternLimits {
                max_patterns: limits.max_patterns.max(1),
                ..limits
            },
            patterns: HashMap::new(),
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Folds one line seen at `ts_ms` in `pod` of `cluster`.
    pub fn observe(&mut self, cluster: &str, pod: &str, ts_ms: i64, line: &str) -> Observed {
        let parsed = parse_line(line);
        if !parsed.level.at_least(self.limits.min_level) {
            return Observed::Skipped;
        }
        let key = (parsed.level, template(&parsed.message));
        let max_members = self.limits.max_members;
        let add = |set: &mut BTreeSet<String>, truncated: &mut bool, v: &str| {
            if !set.contains(v) {
                if set.len() < max_members {
                    set.insert(v.to_string());
                } else {
                    *truncated = true;
                }
            }
        };
        if let Some(p) = self.patterns.get_mut(&key) {
            p.count += 1;
            p.first_seen = p.first_seen.min(ts_ms);
            p.last_seen = p.last_seen.max(ts_ms);
            add(&mut p.pods, &mut p.pods_truncated, pod);
            add(&mut p.clusters, &mut p.clusters_truncated, cluster);
            return Observed::Known;
        }
        if self.patterns.len() >= self.limits.max_patterns {
            self.evict_oldest();
        }
        let mut p = Pattern {
            template: key.1.clone(),
            level: key.0,
            count: 1,
            first_seen: ts_ms,
            last_seen: ts_ms,
            sample: clip(line, MAX_SAMPLE_BYTES).to_string(),
            pods: BTreeSet::new(),
            clusters: BTreeSet::new(),
            pods_truncated: false,
            clusters_truncated: false,
        };
        add(&mut p.pods, &mut p.pods_truncated, pod);
        add(&mut p.clusters, &mut p.clusters_truncated, cluster);
        self.patterns.insert(key, p);
        Observed::New
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .patterns
            .iter()
            .min_by_key(|(_, p)| (p.last_seen, p.count))
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.patterns.remove(&k);
            self.evicted += 1;
        }
    }

    /// The patterns, most frequent first (then most recent).
    pub fn patterns(&self) -> Vec<&Pattern> {
        let mut v: Vec<&Pattern> = self.patterns.values().collect();
        v.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.last_seen.cmp(&a.last_seen))
                .then(a.template.cmp(&b.template))
        });
        v
    }

    /// Takes the patterns out (for writing to the cache).
    pub fn drain(&mut self) -> Vec<Pattern> {
        self.patterns.drain().map(|(_, p)| p).collect()
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
