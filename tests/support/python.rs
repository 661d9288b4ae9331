//! The suite's Python environment: the MongoDB stand-in (`mongo_standin.py`), the third-party
//! clients users have (python-socketio) and the Prometheus text parser that reads `/metrics`
//! (`prometheus-client`), the S3-compatible server (`moto`, `s3.rs`) and the Web Push receiver
//! (`http-ece`, `py-vapid`; `push.rs`) run in one virtual environment under `target/test-python/`,
//! created on first use from PyPI with the packages pinned here.
//!
//! It needs Python >= 3.13 (mongoeco 4.11), looked for in `MONGO_STANDIN_PYTHON`, then
//! `python3.13`/`python3.14` on the PATH, then pyenv's versions, then `python3`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
};

use crate::process::repo_root;

/// Every package of the environment, pinned: the stand-in's, then python-socketio's client.
const REQUIREMENTS: &[&str] = &[
    "mongoeco==4.11.0",
    "pymongo==4.20.1",
    "python-socketio[client]==5.18.1",
    "python-engineio==4.15.1",
    "websocket-client==1.9.2",
    "requests==2.34.2",
    "prometheus-client==0.26.0",
    "moto[server]==5.2.5",
    "http-ece==1.2.1",
    "py-vapid==1.9.6",
];
/// A Python check that every pinned package is installed at its version (a venv made by an older
/// suite lacks some).
fn installed_check() -> String {
    let pins: Vec<String> = REQUIREMENTS
        .iter()
        .filter_map(|pin| pin.split_once("=="))
        .map(|(name, version)| {
            let name = name.split('[').next().unwrap_or(name);
            format!("({name:?}, {version:?})")
        })
        .collect();
    format!(
        "import importlib.metadata as m, sys; sys.exit(any(m.version(n) != v for n, v in [{}]))",
        pins.join(", ")
    )
}

fn version_of(python: &Path) -> Option<(u32, u32)> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace().map(|part| part.parse().ok());
    Some((parts.next()??, parts.next()??))
}

fn new_enough(python: &Path) -> bool {
    version_of(python).is_some_and(|version| version >= (3, 13))
}

/// A Python >= 3.13, or a failure that says how to get one.
fn base_python() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(named) = std::env::var("MONGO_STANDIN_PYTHON") {
        candidates.push(PathBuf::from(named));
    }
    candidates.extend(["python3.13", "python3.14"].map(PathBuf::from));
    let pyenv_root = std::env::var("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv")
        });
    if let Ok(versions) = std::fs::read_dir(pyenv_root.join("versions")) {
        let mut found: Vec<PathBuf> = versions
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin/python3"))
            .collect();
        found.sort();
        candidates.extend(found.into_iter().rev());
    }
    candidates.push(PathBuf::from("python3"));
    candidates
        .into_iter()
        .find(|python| new_enough(python))
        .unwrap_or_else(|| {
            panic!(
                "The MongoDB stand-in needs Python >= 3.13 (mongoeco 4.11) and none was found \
                 (looked at MONGO_STANDIN_PYTHON, python3.13, python3.14, pyenv's versions, python3). \
                 Install one (`pyenv install 3.13`, or your distribution's python3.13 with its venv \
                 module) and/or set MONGO_STANDIN_PYTHON=/path/to/python3.13."
            )
        })
}

/// The suite's virtual environment, created (and its packages installed) on first use; its
/// Python interpreter.
pub fn venv_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = repo_root().join("target/test-python/venv");
            let python = venv.join("bin/python");
            let ready = || {
                Command::new(&python)
                    .args(["-c", &installed_check()])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|status| status.success())
            };
            if !ready() {
                let base = base_python();
                eprintln!("test python: creating {} with {base:?}", venv.display());
                run(Command::new(&base)
                    .args(["-m", "venv", "--clear"])
                    .arg(&venv));
                run(Command::new(&python)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args(REQUIREMENTS));
                assert!(ready(), "the suite's Python packages do not import");
            }
            python
        })
        .clone()
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(status.success(), "{command:?} failed ({status})");
}

/// python-socketio (`socketio_client.py`) connected to a realtime node as a separate process:
/// every line it prints (`{"event", "data"}`) is recorded; it exits when this is dropped.
pub struct PythonSocket {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl PythonSocket {
    /// Starts the client against `base` (`http://127.0.0.1:port`) with `token` over `transport`
    /// (`websocket` or `polling`); `send` = `(receiver id, text)` sends one message with an ack.
    pub fn start(base: &str, token: &str, transport: &str, send: Option<(&str, &str)>) -> Self {
        use std::io::BufRead;
        let script = repo_root().join("tests/support/socketio_client.py");
        let mut command = Command::new(venv_python());
        command
            .arg(&script)
            .args(["--url", base, "--token", token, "--transport", transport]);
        if let Some((receiver, text)) = send {
            command.args(["--send", receiver, text]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start python-socketio: {err}"));
        let stdout = child.stdout.take().expect("client stdout");
        let lines = std::sync::Arc::<std::sync::Mutex<Vec<serde_json::Value>>>::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let value = serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line));
                sink.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(value);
            }
        });
        Self { child, lines }
    }

    /// The data of the first `event` the client printed, waiting up to 20 s (a panic names what it
    /// printed instead).
    pub async fn expect(&self, event: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .iter()
                .find(|line| line["event"] == event)
            {
                return line["data"].clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "python-socketio printed no {event}: {:?}",
                self.lines
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Whether the client printed `event` so far.
    pub fn printed(&self, event: &str) -> bool {
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .any(|line| line["event"] == event)
    }
}

impl Drop for PythonSocket {
    fn drop(&mut self) {
        // Closing its standard input lets it disconnect cleanly; kill it if it does not.
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `/metrics` text parsed by `prometheus-client`'s parser (as Prometheus reads it): every sample as
/// `{"name", "labels", "value"}`. Panics when the text does not parse.
pub fn parse_prometheus(text: &str) -> Vec<serde_json::Value> {
    use std::io::Write;
    let script = "import json, sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = [{'name': s.name, 'labels': s.labels, 'value': s.value}\n\
               for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]\n\
        print(json.dumps(out))\n";
    let mut child = Command::new(venv_python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("metrics text written");
    let output = child.wait_with_output().expect("parser finishes");
    assert!(
        output.status.success(),
        "prometheus-client cannot parse /metrics: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("parser output")
}
