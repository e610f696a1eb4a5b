//! BRIEF §9 A2 against the real thing: a tiny exporter on loopback serves a
//! histogram whose shape changes as it is scraped, the real Prometheus
//! (`/usr/bin/prometheus`, or `$CLOUDOPS_PROMETHEUS`) scrapes it every
//! second, and `cloudops latency --json` must agree with Prometheus's own
//! `histogram_quantile` within 1% at every step, and give the documented
//! per-bucket heatmap counts.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{cloudops, json};

const METRIC: &str = "test_request_duration_seconds";
const LE: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];
const STEP: i64 = 5;
const QUANTILES: [&str; 4] = ["0.5", "0.9", "0.95", "0.99"];

/// The observations added to bucket `j` (not cumulative) by scrape `k`:
/// a hump whose centre moves up a bucket every 6 scrapes and wraps, so the
/// quantiles move over the test's window; some land in `+Inf` now and then.
fn added(j: usize, k: u64) -> u64 {
    let centre = 1 + (k / 6 % 7) as i64;
    let hump = (24 - 7 * (j as i64 - centre).abs()).max(0) as u64;
    let tail = if j == LE.len() - 1 {
        k % 3
    } else {
        (j as u64 * k) % 2
    };
    hump + tail
}

/// Serves the exposition text; each scrape advances the histogram.
struct Exporter {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    scrapes: Arc<AtomicU64>,
}

impl Exporter {
    fn start() -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the exporter");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let scrapes = Arc::new(AtomicU64::new(0));
        let (stop2, scrapes2) = (Arc::clone(&stop), Arc::clone(&scrapes));
        std::thread::spawn(move || {
            let mut cumulative = [0u64; LE.len()];
            let mut sum = 0.0_f64;
            while !stop2.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                if !read_request(&mut conn) {
                    continue;
                }
                let k = scrapes2.fetch_add(1, Ordering::Relaxed);
                let mut running = 0;
                for (j, c) in cumulative.iter_mut().enumerate() {
                    running += added(j, k);
                    *c += running;
                    let mid = LE[j].parse::<f64>().unwrap_or(20.0) * 0.75;
                    sum += added(j, k) as f64 * mid;
                }
                let mut body =
                    format!("# HELP {METRIC} Test latency.\n# TYPE {METRIC} histogram\n");
                for (le, c) in LE.iter().zip(cumulative) {
                    body.push_str(&format!("{METRIC}_bucket{{le=\"{le}\"}} {c}\n"));
                }
                body.push_str(&format!("{METRIC}_sum {sum}\n"));
                body.push_str(&format!("{METRIC}_count {}\n", cumulative[LE.len() - 1]));
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(body.as_bytes());
            }
        });
        Exporter {
            addr,
            stop,
            scrapes,
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads an HTTP request head; false if the peer went away.
fn read_request(conn: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// The Prometheus server, killed (and its data dir removed) on drop.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("CLOUDOPS_PROMETHEUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus"));
    assert!(
        path.is_file(),
        "the Prometheus server is missing at {}: `make test-deps` installs Debian's `prometheus` \
         (or set CLOUDOPS_PROMETHEUS to a prometheus binary)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Prometheus {
    fn start(target: SocketAddr) -> Prometheus {
        let bin = prometheus_binary();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let child = Command::new(&bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let prom = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let started = Instant::now();
        while get(addr, "/-/ready").map(|(s, _)| s) != Some(200) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Prometheus did not get ready on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        prom
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `data.result` of a range query.
    fn query_range(&self, query: &str, start: i64, end: i64) -> Vec<serde_json::Value> {
        let path = format!(
            "/api/v1/query_range?query={}&start={start}&end={end}&step={STEP}",
            encode(query)
        );
        let (status, body) = get(self.addr, &path).expect("querying Prometheus");
        assert_eq!(status, 200, "{query}: {body}");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A plain HTTP/1.0 GET on loopback: (status, body).
fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn value(v: &serde_json::Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

fn ts(v: &serde_json::Value) -> i64 {
    v.as_f64().map(|t| t.round() as i64).unwrap_or(i64::MIN)
}

fn within_1_percent(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= 0.01 * theirs.abs().max(1e-9)
}

#[test]
fn latency_agrees_with_prometheus_histogram_quantile() {
    let exporter = Exporter::start();
    let prom = Prometheus::start(exporter.addr);

    // Wait for ~30 s of scrapes, by asking Prometheus how many it has.
    let started = Instant::now();
    loop {
        let now = unix_now();
        let r = prom.query_range(&format!("count_over_time({METRIC}_count[1m])"), now, now);
        let samples = r
            .first()
            .and_then(|s| s["values"].as_array()?.last().map(|p| value(&p[1])))
            .unwrap_or(0.0);
        if samples >= 30.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Prometheus has {samples} samples after {:?} ({} scrapes served)",
            started.elapsed(),
            exporter.scrapes.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let end = unix_now() - 1;
    let start = end - 25;

    let dir = tempfile::tempdir().unwrap();
    let (s, e, step) = (start.to_string(), end.to_string(), format!("{STEP}s"));
    let out = cloudops(
        dir.path(),
        &[
            "latency",
            "--prometheus",
            &prom.base_url(),
            "--metric",
            METRIC,
            "--start",
            &s,
            "--end",
            &e,
            "--step",
            &step,
            "--quantiles",
            &QUANTILES.join(","),
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);

    // Quantiles: every point Prometheus has, we have, within 1%; where it
    // says NaN (no observations in the step), we have no point.
    let increase = format!("sum by (le) (increase({METRIC}_bucket[{STEP}s]))");
    let mut compared = 0;
    let mut distinct = std::collections::BTreeSet::new();
    for q in QUANTILES {
        let theirs = prom.query_range(&format!("histogram_quantile({q}, {increase})"), start, end);
        assert_eq!(theirs.len(), 1, "one series for q={q}: {theirs:?}");
        let ours = doc["quantiles"][q]
            .as_array()
            .unwrap_or_else(|| panic!("no quantile {q} in {doc}"));
        for p in theirs[0]["values"].as_array().unwrap() {
            let (t, v) = (ts(&p[0]), value(&p[1]));
            let mine = ours.iter().find(|o| o[0].as_i64() == Some(t));
            if v.is_nan() {
                assert!(mine.is_none(), "q={q} t={t}: Prometheus NaN, ours {mine:?}");
                continue;
            }
            let mine = mine
                .and_then(|o| o[1].as_f64())
                .unwrap_or_else(|| panic!("q={q} t={t}: no point of ours; ours {ours:?}"));
            assert!(
                within_1_percent(mine, v),
                "q={q} t={t}: ours {mine}, Prometheus {v}"
            );
            compared += 1;
            distinct.insert(format!("{v:.6}"));
        }
    }
    assert!(compared >= 16, "only {compared} quantile points compared");
    assert!(
        distinct.len() >= 4,
        "the quantiles hardly moved: {distinct:?}"
    );

    // Heatmap: Prometheus's cumulative increases, de-cumulated as
    // documented (the monotonic envelope, then differences).
    let heat = &doc["heatmap"];
    let les: Vec<&str> = heat["le"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(les, LE.to_vec());
    let times: Vec<i64> = heat["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let series = prom.query_range(&increase, start, end);
    let mut cells = 0;
    for (ti, &t) in times.iter().enumerate() {
        let mut cumulative = Vec::new();
        for le in LE {
            let s = series
                .iter()
                .find(|s| s["metric"]["le"] == le)
                .unwrap_or_else(|| panic!("no le={le} series"));
            let p = s["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| ts(&p[0]) == t)
                .unwrap_or_else(|| panic!("le={le} has no value at {t}"));
            cumulative.push(value(&p[1]));
        }
        let mut max = 0.0_f64;
        for (i, c) in cumulative.iter().enumerate() {
            let per_bucket = if i == 0 { *c } else { c.max(max) - max };
            max = max.max(*c);
            let mine = heat["counts"][ti][i]
                .as_f64()
                .unwrap_or_else(|| panic!("no count at t={t} le={}", LE[i]));
            assert!(
                (mine - per_bucket).abs() <= 0.01 * per_bucket.abs().max(1e-6),
                "t={t} le={}: ours {mine}, from Prometheus {per_bucket}",
                LE[i]
            );
            cells += 1;
        }
    }
    assert!(cells >= 4 * LE.len(), "only {cells} heatmap cells compared");

    // The same histogram drawn to files, while Prometheus is up.
    for (file, magic) in [("lat.svg", &b"<svg"[..]), ("lat.png", &b"\x89PNG"[..])] {
        let path = dir.path().join(file);
        let out = cloudops(
            dir.path(),
            &[
                "heatmap",
                "latency",
                "--prometheus",
                &prom.base_url(),
                "--metric",
                METRIC,
                "--start",
                &s,
                "--end",
                &e,
                "--step",
                &step,
                "--out",
                path.to_str().unwrap(),
                "--width",
                "640",
                "--height",
                "320",
                "--json",
            ],
        );
        assert!(out.status.success(), "{out:?}");
        let written = json(&out);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(written["bytes"], bytes.len(), "{written}");
        assert_eq!(written["rows"], LE.len());
        assert!(bytes.starts_with(magic), "{file}");
    }
}

#[test]
fn bad_ranges_and_files_are_usage_errors_and_no_prometheus_is_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "--prometheus",
        "http://127.0.0.1:9",
        "--metric",
        METRIC,
        "--step",
        "5s",
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["latency", "--json"];
        args.extend_from_slice(&base);
        args.extend_from_slice(extra);
        cloudops(dir.path(), &args)
    };
    let out = run(&[
        "--start",
        "2026-11-23T10:00:00Z",
        "--end",
        "2026-11-23T09:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json(&out)["error"]["kind"], "bad_range");
    let out = run(&["--start", "0", "--end", "1000000"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(json(&out)["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("--step"));
    let out = run(&["--start", "yesterday", "--end", "1000"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let mut args = vec![
        "heatmap",
        "latency",
        "--out",
        "chart.txt",
        "--start",
        "0",
        "--end",
        "60",
    ];
    args.extend_from_slice(&base);
    let out = cloudops(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(".svg or FILE.png"));

    // Nothing listens on the port: an error (1) that names the endpoint
    // and says what to check.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = cloudops(
        dir.path(),
        &[
            "latency",
            "--json",
            "--prometheus",
            &closed,
            "--metric",
            METRIC,
            "--step",
            "5s",
            "--start",
            "0",
            "--end",
            "60",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = json(&out);
    assert_eq!(err["error"]["kind"], "prometheus_unreachable", "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&closed[7..]),
        "{err}"
    );
    assert!(!err["error"]["hint"].as_str().unwrap().is_empty());
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
