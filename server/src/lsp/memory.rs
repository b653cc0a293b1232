//! Giving freed memory back to the system after documents are closed.
//!
//! A document's tree-sitter tree is made of many small allocations (about 80 bytes of tree per
//! byte of text). When a document is closed they are all freed, but glibc's allocator keeps
//! small freed chunks in its bins instead of returning the pages: 1000 closed documents left
//! the process 250 MB larger. `malloc_trim` consolidates and releases them (about 15 ms for
//! 200 MB), so after a burst of `didClose` one trim runs, a moment later, off the async threads.
//! Elsewhere than glibc this does nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A trim is scheduled and has not run yet.
static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// How long to wait for more closes before trimming once.
const DELAY: Duration = Duration::from_millis(500);

/// Schedules one release of freed memory, unless one is already waiting. Call from a tokio
/// runtime.
pub fn release_soon() {
    if SCHEDULED.swap(true, Ordering::SeqCst) {
        return;
    }
    tokio::spawn(async {
        tokio::time::sleep(DELAY).await;
        SCHEDULED.store(false, Ordering::SeqCst);
        let _ = tokio::task::spawn_blocking(release).await;
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    extern "C" {
        /// glibc: releases free memory at the top of the heap and, since 2.8, free pages
        /// inside it, in every arena. Returns 1 if memory was released.
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: `malloc_trim` only reorganises the allocator's own free lists; it is safe to
    // call at any time from any thread.
    let released = unsafe { malloc_trim(0) };
    tracing::debug!("malloc_trim released memory: {}", released == 1);
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}
