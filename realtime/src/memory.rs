//! Memory back to the system once sockets have left. glibc's allocator keeps freed memory in its
//! arenas and only gives back the top of each heap, so a node that held 10k sockets would stay at
//! its peak: after many sockets leave, `malloc_trim` returns every free page (README, *Benchmarks*:
//! memory after the sockets left).

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

/// How often departures are looked at.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Trim once this many sockets have left since the last trim.
const DEPARTED: usize = 500;

/// Sockets that left since the trim task last looked (the allocator is process-wide, so is this).
static DEPARTURES: AtomicUsize = AtomicUsize::new(0);

/// Called by the disconnect handler.
pub fn socket_left() {
    DEPARTURES.fetch_add(1, Ordering::Relaxed);
}

pub async fn trim_after_departures() {
    let mut every = tokio::time::interval(CHECK_EVERY);
    let mut since_trim = 0;
    // The sockets that just left may still be being torn down: trim once more at the next check.
    let mut again = false;
    loop {
        every.tick().await;
        since_trim += DEPARTURES.swap(0, Ordering::Relaxed);
        if since_trim >= DEPARTED {
            tracing::debug!(since_trim, "sockets left: returning free memory");
            release_free_memory();
            since_trim = 0;
            again = true;
        } else if again {
            release_free_memory();
            again = false;
        }
    }
}

fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers and walks glibc's arenas under their own locks; it
    // only returns free pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
