//! The S3-compatible server the suite runs the S3 adapter against: moto in server mode (PyPI,
//! pinned in `python.rs`), started here once per test process on a free port, in its own process
//! that stops with this one. Each test gets a bucket of its own.

use std::{
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::Duration,
};

use crate::{process::free_port, python};

pub struct MotoServer {
    pub endpoint: String,
    child: Child,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static SERVER: OnceLock<Mutex<Option<MotoServer>>> = OnceLock::new();

fn start() -> MotoServer {
    let python = python::venv_python();
    let port = free_port();
    let mut child = Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start moto ({python:?}): {err}"));
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return MotoServer { endpoint, child };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("moto did not start on port {port}");
}

/// The shared server's endpoint (started on first use).
pub fn endpoint() -> String {
    let server = SERVER.get_or_init(|| Mutex::new(Some(start())));
    let guard = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard
        .as_ref()
        .map(|server| server.endpoint.clone())
        .expect("moto server")
}

/// A new, empty bucket on the shared server; the variables that point the S3 adapter at it.
pub async fn bucket_vars() -> Vec<(String, String)> {
    let endpoint = endpoint();
    let bucket = format!("chat-test-{}", crate::uuid_like());
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("moto answers");
    assert!(
        created.status().is_success(),
        "bucket not created: {}",
        created.status()
    );
    vec![
        ("ATTACHMENTS_BUCKET".into(), bucket),
        ("S3_ENDPOINT_URL".into(), endpoint),
        ("S3_ACCESS_KEY_ID".into(), "test".into()),
        ("S3_SECRET_ACCESS_KEY".into(), "test".into()),
    ]
}
