//! Benchmarks. Each prints its figures; the README shows the latest run.
//!
//! ```text
//! cargo run --profile benchmark -p bench -- capacity [1000,5000,10000]
//! cargo run --profile benchmark -p bench -- delivery [messages]
//! cargo run --profile benchmark -p bench -- side-by-side [private messages] [group messages]
//! cargo run --profile benchmark -p bench -- rest [users] [messages]
//! cargo run --profile benchmark -p bench -- cold-start
//! cargo run --profile benchmark -p bench -- operations [private messages]
//! ```
//! The realtime node under test is the `benchmark`-profile build of `realtime` (built first).

// Tests and benchmarks set up and inspect data through the storage port (clippy.toml fences it
// for handlers and transports).
#![allow(clippy::disallowed_methods)]

mod capacity;
mod cold_start;
mod delivery;
mod operations;
mod raw_socket;
mod rest;
mod setup;
mod side_by_side;
mod stats;

use chat_tests::process::{cargo, repo_root};

fn build_realtime() {
    let status = cargo()
        .args([
            "build",
            "--quiet",
            "--profile",
            "benchmark",
            "-p",
            "realtime",
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the realtime node builds");
    let binary = repo_root().join("target/benchmark/realtime");
    // Read once by chat_tests::realtime::binary(), before any node starts.
    std::env::set_var("REALTIME_BIN", binary);
}

fn arg<T: std::str::FromStr>(args: &[String], index: usize, default: T) -> T {
    args.get(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| info
                .lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.to_owned()))
            .and_then(|line| line.split(':').nth(1).map(|m| m.trim().to_owned()))
            .unwrap_or_default()
    );
    println!("machine: {machine}");
    match args.first().map(String::as_str) {
        Some("capacity") => {
            build_realtime();
            let counts: Vec<usize> = args
                .get(1)
                .map(|list| list.split(',').filter_map(|n| n.parse().ok()).collect())
                .unwrap_or_else(|| vec![1_000, 5_000, 10_000]);
            capacity::run(&counts).await;
        }
        Some("operations") => {
            build_realtime();
            operations::run(arg(&args, 1, 20_000)).await;
        }
        Some("delivery") => {
            build_realtime();
            delivery::run(arg(&args, 1, 5_000)).await;
        }
        Some("side-by-side") => {
            build_realtime();
            side_by_side::run(arg(&args, 1, 3_000), arg(&args, 2, 1_000)).await;
        }
        Some("rest") => rest::run(arg(&args, 1, 10_000), arg(&args, 2, 1_000_000)).await,
        Some("cold-start") => cold_start::run().await,
        _ => {
            eprintln!("usage: bench capacity [1000,5000,10000] | delivery [messages] | side-by-side [private messages] [group messages] | rest [users] [messages] | cold-start | operations [private messages]");
            std::process::exit(2);
        }
    }
}
