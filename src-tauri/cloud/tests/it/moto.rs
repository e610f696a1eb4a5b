//! A `moto_server` (PyPI `moto[server]`, BRIEF §10) per test: on 127.0.0.1,
//! on a free port, killed when the handle drops.
//!
//! It is found through `CLOUDOPS_MOTO_SERVER`, then the venv that
//! `make test-deps` creates (`${XDG_CACHE_HOME:-~/.cache}/cloudops-venv`),
//! then `PATH`. A missing moto fails the test: skipping would turn "not
//! proven against moto" into "passed".

use std::{
    env,
    fs::File,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Moto {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Moto {
    /// Starts moto and waits until it answers HTTP.
    pub async fn start() -> Moto {
        let bin = locate();
        // The port is picked by binding and releasing it; another process
        // can take it in between, so a start that never answers is retried.
        for _ in 0..3 {
            let port = free_port();
            let log =
                env::temp_dir().join(format!("cloudops-moto-{}-{port}.log", std::process::id()));
            // moto logs a line per request: into a file, never a pipe that
            // nobody drains (a full pipe would block the server).
            let out = File::create(&log).expect("create the moto log file");
            let err = out.try_clone().expect("clone the moto log handle");
            let child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut moto = Moto {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log,
            };
            if moto.wait_ready().await {
                return moto;
            }
            eprintln!("moto did not come up on port {port}:\n{}", moto.log_tail());
        }
        panic!(
            "moto_server ({}) did not start; see the log above",
            bin.display()
        );
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn wait_ready(&mut self) -> bool {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            // Any HTTP answer means the server is listening.
            if http
                .get(format!("{}/moto-api/", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn locate() -> PathBuf {
    const HINT: &str = "run `make test-deps` (it installs the pinned moto[server] into \
                        ${XDG_CACHE_HOME:-~/.cache}/cloudops-venv), or set CLOUDOPS_MOTO_SERVER \
                        to a moto_server executable";
    if let Some(p) = env::var_os("CLOUDOPS_MOTO_SERVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CLOUDOPS_MOTO_SERVER={} does not exist; {HINT}",
            p.display()
        );
        return p;
    }
    let cache = env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(venv) = cache.map(|c| c.join("cloudops-venv/bin/moto_server")) {
        if venv.is_file() {
            return venv;
        }
    }
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            let p = dir.join("moto_server");
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("moto_server was not found; {HINT}");
}
