//! Real processes for end-to-end tests: started in their own process group, stopped (the whole
//! group) when dropped.

use std::{
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Stack {
    child: Child,
    pub log: PathBuf,
}

impl Stack {
    /// Runs `program` from the repository root with `vars` added to the environment; its output
    /// goes to `log`.
    pub fn start(program: &str, args: &[&str], vars: &[(String, String)], log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut command = Command::new(program);
        // `scripts/dev.sh` runs cargo: as from a shell, so it reuses what the suite built.
        without_cargo_vars(&mut command);
        let child = command
            .args(args)
            .current_dir(repo_root())
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Self { child, log }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGKILL to the whole group, and wait for it to be gone.
    pub fn kill_hard(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM to the whole group (a deploy stopping the task), without waiting.
    pub fn terminate(&self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// `cargo`, as a test (or `cargo run`) may call it: without the `CARGO_*` variables cargo set for
/// this process (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, …). Build scripts such as ring's ask to
/// be rerun when those change, so a cargo started with them would rebuild ring and everything
/// above it, and the next build from a shell would rebuild it all back.
pub fn cargo() -> Command {
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(program);
    without_cargo_vars(&mut command);
    command.current_dir(repo_root());
    command
}

/// Drops the `CARGO_*` variables cargo set for this process from `command`'s environment (keeping
/// `CARGO_HOME` and `CARGO_TARGET_DIR`), for anything that may run cargo itself.
fn without_cargo_vars(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let keep = matches!(name.as_ref(), "CARGO_HOME" | "CARGO_TARGET_DIR");
        if name.starts_with("CARGO_") && !keep {
            command.env_remove(name.as_ref());
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// Resident memory of a process, in KiB (Linux; 0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The anonymous part of it (heap and stacks, not file pages such as a mapped database), in KiB.
pub fn rss_anon_kib(pid: u32) -> u64 {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
