//! Starts tauri-driver for one test and hands out a WebDriver session on the
//! real app binary; stops everything on drop.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const APP: &str = env!("CARGO_BIN_EXE_cloudops-desktop");
const WAIT: Duration = Duration::from_secs(30);

pub struct Session {
    pub client: Client,
    driver: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

fn require_tool(name: &str, hint: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("e2e needs `{name}` on PATH: {hint}"))
}

impl Session {
    /// The app on `data_dir` with extra flags (`--offline`, `--sandbox`).
    /// The clouds' variables are removed, so with no flag the app sees "no
    /// account configured", as on a new machine.
    pub async fn launch(data_dir: &Path, flags: &[&str]) -> Session {
        Session::launch_with_env(data_dir, flags, &[]).await
    }

    /// [`Session::launch`] with variables set for the app (after the
    /// clouds' are removed): a test's own sandbox env lines make it live.
    pub async fn launch_with_env(
        data_dir: &Path,
        flags: &[&str],
        env: &[(String, String)],
    ) -> Session {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "e2e needs a display: run it through `make test` (xvfb-run) or set DISPLAY"
        );
        let tauri_driver = require_tool(
            "tauri-driver",
            "cargo install tauri-driver --locked --version '~2.1' (make test does this)",
        );
        require_tool(
            "WebKitWebDriver",
            "apt-get install webkit2gtk-driver (make test does this)",
        );
        let port = free_port();
        let native_port = free_port();
        // Its own process group, so that Drop stops WebKitWebDriver and the
        // app with it: killing tauri-driver alone leaves them running.
        let driver = Command::new(tauri_driver)
            .process_group(0)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            // No WEBKIT_DISABLE_DMABUF_RENDERER / _COMPOSITING_MODE here:
            // under Xvfb either one makes WebKitWebDriver's screenshot hang.
            .env("CLOUDOPS_LOG", "info")
            .env_remove("CLOUDOPS_AWS_REGIONS")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("CLOUDOPS_GCP_PROJECTS")
            .env_remove("CLOUDOPS_AZURE_ACCESS_TOKEN")
            .env_remove("DIGITALOCEAN_ACCESS_TOKEN")
            // Nor the developer's kubeconfig: it would make the app "live".
            .env_remove("KUBECONFIG")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting tauri-driver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        wait_for_status(&url).await;
        eprintln!("e2e: tauri-driver ready in {:?}", started.elapsed());

        let mut args = vec![
            "--data-dir".to_owned(),
            data_dir.to_string_lossy().into_owned(),
        ];
        args.extend(flags.iter().map(|f| (*f).to_owned()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": APP, "args": args }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let connect = builder.connect(&url);
        // A binary that dies at start-up (no display, missing WebKit) leaves
        // WebKitWebDriver waiting forever; fail with the reason instead.
        let client = tokio::time::timeout(WAIT, connect)
            .await
            .unwrap_or_else(|_| panic!("{APP} did not start within {WAIT:?}; see its stderr above"))
            .unwrap_or_else(|e| panic!("no WebDriver session on {APP}: {e}"));
        eprintln!("e2e: session on the app in {:?}", started.elapsed());
        Session { client, driver }
    }

    pub async fn wait_for(&self, locator: Locator<'_>) -> Element {
        self.wait_for_count(locator, 1).await.remove(0)
    }

    /// Polls until at least `n` elements match, or fails with the page text.
    pub async fn wait_for_count(&self, locator: Locator<'_>, n: usize) -> Vec<Element> {
        self.wait_for_count_within(locator, n, WAIT).await
    }

    /// [`Session::wait_for_count`] with its own time limit, for work the
    /// app does in the background (a first collection pass).
    pub async fn wait_for_count_within(
        &self,
        locator: Locator<'_>,
        n: usize,
        limit: Duration,
    ) -> Vec<Element> {
        let start = Instant::now();
        loop {
            if let Ok(found) = self.client.find_all(locator).await {
                if found.len() >= n {
                    return found;
                }
            }
            if start.elapsed() > limit {
                let body = match self.client.find(Locator::Css("body")).await {
                    Ok(b) => b.text().await.unwrap_or_default(),
                    Err(e) => format!("<no body: {e}>"),
                };
                self.screenshot("failure").await;
                panic!("waited {limit:?} for {n} x {locator:?}; page says:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the element with this `data-testid` and clicks it.
    pub async fn click(&self, testid: &str) {
        let css = format!("[data-testid={testid}]");
        self.wait_for(Locator::Css(&css))
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {testid}: {e}"));
    }

    /// Waits for the input with this `data-testid` and types into it.
    pub async fn type_into(&self, testid: &str, text: &str) {
        let css = format!("[data-testid={testid}]");
        self.wait_for(Locator::Css(&css))
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {testid}: {e}"));
    }

    /// Saves a PNG under target/e2e/ for a human to look at.
    pub async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
        let png = tokio::time::timeout(WAIT, self.client.screenshot())
            .await
            .unwrap_or_else(|_| panic!("screenshot {name} took over {WAIT:?}"))
            .expect("screenshot");
        std::fs::create_dir_all(&dir).expect("creating target/e2e");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("writing screenshot");
    }

    /// Ends the WebDriver session (closing the app); dropping stops the driver.
    pub async fn close(self) {
        let started = Instant::now();
        // WebKitWebDriver can wait a long time for the app to go away; the
        // process-group kill in Drop ends it either way.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.clone().close()).await;
        eprintln!("e2e: session closed in {:?}", started.elapsed());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

async fn wait_for_status(url: &str) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Empty<bytes::Bytes>>(HttpConnector::new());
    let start = Instant::now();
    let status_url: hyper::Uri = format!("{url}/status").parse().unwrap();
    loop {
        if let Ok(resp) = client.get(status_url.clone()).await {
            if resp.status() == 200 {
                return;
            }
        }
        assert!(
            start.elapsed() < WAIT,
            "tauri-driver did not answer {status_url} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
