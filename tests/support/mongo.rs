//! The MongoDB the suite runs the MongoDB adapter against: `TEST_MONGO_URI` when set (a real
//! replica set), otherwise a wire-protocol stand-in (`mongo_standin.py`: mongoeco's in-memory
//! MongoDB with what our driver needs added) started here, once per test process, on a free port,
//! in its own process, which exits when this process does (its standard input closes).
//!
//! The stand-in needs Python >= 3.13 (mongoeco 4.11). It is looked for in `MONGO_STANDIN_PYTHON`,
//! then `python3.13`/`python3.14` on the PATH, then pyenv's versions, then `python3`; its packages
//! go into a virtual environment under `target/mongo-standin/` (created on first use, from PyPI).
//! Without such a Python the suite fails and says how to get one: it never silently skips MongoDB.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Mutex, OnceLock},
};

use crate::process::repo_root;

/// The packages of the stand-in, pinned.
const REQUIREMENTS: &[&str] = &["mongoeco==4.11.0", "pymongo==4.20.1"];
/// Change events the shared stand-in keeps (an oplog's worth for the whole suite).
const SHARED_HISTORY: usize = 200_000;

/// A running stand-in; it stops when this is dropped (or when the test process ends).
pub struct StandIn {
    pub uri: String,
    child: Child,
    _stdin: ChildStdin,
}

impl StandIn {
    /// A stand-in of its own that keeps only the last `history` change events (tests of what
    /// happens when a resume token has left the history).
    pub fn start(history: usize) -> Self {
        Self::launch(&["--history", &history.to_string()])
    }

    /// A stand-in that answers like a standalone mongod (no replica set): change streams refused.
    pub fn standalone() -> Self {
        Self::launch(&["--standalone"])
    }

    fn launch(options: &[&str]) -> Self {
        let python = venv_python();
        let script = repo_root().join("tests/support/mongo_standin.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--port", "0"])
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start the MongoDB stand-in ({python:?}): {err}"));
        let stdin = child.stdin.take().expect("stand-in stdin");
        let stdout = child.stdout.take().expect("stand-in stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("stand-in output");
        let port: u16 = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the MongoDB stand-in did not start: {first:?}"));
        Self {
            uri: format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
            child,
            _stdin: stdin,
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URI the MongoDB backend of the suite uses: `TEST_MONGO_URI`, or the shared stand-in.
pub fn uri() -> String {
    if let Some(uri) = std::env::var("TEST_MONGO_URI")
        .ok()
        .filter(|uri| !uri.is_empty())
    {
        return uri;
    }
    static SHARED: OnceLock<Mutex<StandIn>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| Mutex::new(StandIn::start(SHARED_HISTORY)));
    shared
        .lock()
        .map(|standin| standin.uri.clone())
        .unwrap_or_else(|poisoned| poisoned.into_inner().uri.clone())
}

/// True when the suite runs against the stand-in rather than a real MongoDB.
pub fn is_standin() -> bool {
    std::env::var("TEST_MONGO_URI").map_or(true, |uri| uri.is_empty())
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
                 module) and/or set MONGO_STANDIN_PYTHON=/path/to/python3.13; or set TEST_MONGO_URI \
                 to a real MongoDB replica set."
            )
        })
}

/// The stand-in's virtual environment, created (and its packages installed) on first use.
fn venv_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = repo_root().join("target/mongo-standin/venv");
            let python = venv.join("bin/python");
            let ready = || {
                Command::new(&python)
                    .args(["-c", "import mongoeco, bson"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|status| status.success())
            };
            if !ready() {
                let base = base_python();
                eprintln!("mongo stand-in: creating {} with {base:?}", venv.display());
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
                assert!(ready(), "the MongoDB stand-in's packages do not import");
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
