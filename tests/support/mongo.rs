//! The MongoDB the suite runs the MongoDB adapter against: `TEST_MONGO_URI` when set (a real
//! replica set), otherwise a wire-protocol stand-in (`mongo_standin.py`: mongoeco's in-memory
//! MongoDB with what our driver needs added) started here, once per test process, on a free port,
//! in its own process, which exits when this process does (its standard input closes).
//!
//! The stand-in runs in the suite's Python environment (`python.rs`: Python >= 3.13, packages
//! pinned there). Without such a Python the suite fails and says how to get one: it never silently
//! skips MongoDB.

use std::{
    io::{BufRead, BufReader},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Mutex, OnceLock},
};

use crate::{process::repo_root, python};
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
        let python = python::venv_python();
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
