//! Memory back to the system once sockets have left. glibc's allocator keeps freed memory in its
//! arenas and only gives back the top of each heap, so a node that held 10k sockets would stay at
//! its peak: after many sockets leave, `malloc_trim` returns every free page (README, *Benchmarks*:
//! memory after the sockets left).

use std::time::Duration;

use socketioxide::SocketIo;

use crate::NAMESPACE;

/// How often the socket count is looked at.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Trim once the count fell this far below its peak since the last trim.
const DEPARTED: usize = 500;

pub async fn trim_after_departures(io: SocketIo) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    let mut peak = 0;
    // The sockets that just left are still being torn down: trim once more at the next check.
    let mut again = false;
    loop {
        every.tick().await;
        let open = io.of(NAMESPACE).map_or(0, |chat| chat.sockets().len());
        if open + DEPARTED <= peak {
            tracing::debug!(open, peak, "sockets left: returning free memory");
            release_free_memory();
            peak = open;
            again = true;
        } else {
            if again {
                release_free_memory();
                again = false;
            }
            peak = peak.max(open);
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
