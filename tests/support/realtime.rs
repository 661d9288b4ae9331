//! Realtime nodes as real processes (the `realtime` binary) on the test's database.

use std::{path::PathBuf, sync::OnceLock, time::Duration};

use crate::{
    process::{cargo, free_port, Stack},
    TestApp,
};

/// Builds the workspace's binaries once per test run, with the same command as `scripts/dev.sh`
/// (so neither rebuilds what the other built), and returns the `realtime` binary's path
/// (`REALTIME_BIN` names a prebuilt one instead, e.g. a release build for benchmarks).
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Ok(prebuilt) = std::env::var("REALTIME_BIN") {
                return PathBuf::from(prebuilt);
            }
            let status = cargo()
                .args(["build", "--quiet", "--workspace", "--bins"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the realtime binary builds");
            // target/debug/deps/api-… → target/debug/realtime
            let exe = std::env::current_exe().expect("test binary path");
            exe.parent()
                .and_then(|deps| deps.parent())
                .map(|debug| debug.join("realtime"))
                .expect("target dir")
        })
        .clone()
}

pub struct RealtimeNode {
    pub port: u16,
    pub node_id: String,
    extra: Vec<(String, String)>,
    stack: Option<Stack>,
    log_dir: tempfile::TempDir,
}

impl RealtimeNode {
    /// Starts a node on a free port against `app`'s database and waits until it answers.
    pub async fn start(app: &TestApp) -> Self {
        let port = free_port();
        Self::start_as(app, port, &format!("test-node-{port}")).await
    }

    /// Starts (or restarts) a node with a given port and name.
    pub async fn start_as(app: &TestApp, port: u16, node_id: &str) -> Self {
        Self::start_with(app, port, node_id, &[]).await
    }

    /// Starts a node with extra environment variables.
    pub async fn start_with(
        app: &TestApp,
        port: u16,
        node_id: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        let log_dir = tempfile::tempdir().expect("log dir");
        let mut node = Self {
            port,
            node_id: node_id.to_owned(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            stack: None,
            log_dir,
        };
        node.launch(app).await;
        node
    }

    async fn launch(&mut self, app: &TestApp) {
        let mut vars: Vec<(String, String)> = app.vars.clone().into_iter().collect();
        vars.extend([
            ("REALTIME_PORT".into(), self.port.to_string()),
            ("REALTIME_NODE_ID".into(), self.node_id.clone()),
            ("REALTIME_RESUME_DELAY".into(), "2s".into()),
            ("RUST_LOG".into(), "info".into()),
            // Stopped nodes close their sockets at once (the drain test sets a window).
            ("DRAIN_SECONDS".into(), "0".into()),
        ]);
        vars.extend(self.extra.iter().cloned());
        let log = self.log_dir.path().join(format!("node-{}.log", uuid_ish()));
        let mut stack = Stack::start(binary().to_str().expect("path"), &[], &vars, log);
        let health = format!("http://127.0.0.1:{}/health", self.port);
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = client.get(&health).send().await {
                if response.status().is_success() {
                    self.stack = Some(stack);
                    return;
                }
            }
            assert!(
                stack.is_running(),
                "realtime node exited:\n{}",
                stack.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("realtime node did not start:\n{}", stack.log_tail());
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown, no cleanup, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut stack) = self.stack.take() {
            stack.kill_hard();
        }
    }

    /// SIGTERM, as a deploy stops a task: the node drains, then exits.
    pub fn terminate(&self) {
        if let Some(stack) = &self.stack {
            stack.terminate();
        }
    }

    /// Whether the node's process is still running.
    pub fn is_running(&mut self) -> bool {
        self.stack.as_mut().is_some_and(Stack::is_running)
    }

    /// Starts the node again under the same name and port.
    pub async fn restart(&mut self, app: &TestApp) {
        self.kill();
        self.launch(app).await;
    }

    pub fn log_tail(&self) -> String {
        self.stack.as_ref().map(Stack::log_tail).unwrap_or_default()
    }

    /// The node's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.stack.as_ref().map(Stack::pid)
    }
}

fn uuid_ish() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}
