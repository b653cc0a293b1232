//! Giving the memory of closed documents back to the system.
//!
//! A document's tree-sitter tree is made of many small allocations (about 80 bytes of tree per
//! byte of text). Freeing them is not enough on glibc, whose allocator keeps freed memory:
//!
//! - in its bins: `malloc_trim` releases those pages (about 15 ms for 200 MB);
//! - at the top of a thread's own arena, which `malloc_trim` leaves alone: with an arena per
//!   thread (glibc's default, up to 8 per core), 1000 closed documents left from 8 to 85 MB
//!   resident, depending on which threads had come and gone. So the server uses one arena
//!   ([`configure`]);
//! - in each thread's cache of recently freed chunks (tcache: up to 7 per size class up to
//!   1 KiB), which `malloc_trim` cannot see. Those chunks lie scattered over the freed heap and
//!   each keeps its page resident: with one arena but the documents freed on long-lived
//!   threads, 1000 closed documents left about 8 MB, growing as threads came and went. A
//!   thread's cache goes back to the heap when the thread ends, so closed documents are freed
//!   on a thread of their own that then ends, and the runtime ends idle blocking threads
//!   (where analyses ran) after [`IDLE_THREAD_KEEP_ALIVE`].
//!
//! So `didClose` hands the document to [`release_soon`]; a moment after a burst of closes one
//! job frees them all and then trims, off the async threads, once the idle threads are gone.
//! What stays is the caches of the few threads that live as long as the server: a few MB,
//! bounded, not per document.
//! Elsewhere than glibc only the freeing happens.
//!
//! The memory an analysis frees (a replaced tree, the analysis's own work) has a cost of its
//! own on glibc: the freed chunks wait in its fast bins and unsorted list, and the next
//! allocation that no cache or small bin serves (ropey's node for the next keystroke, ~1 KiB)
//! first sorts them all into their bins. That was 120-180 µs of a keystroke after a pause
//! on openfga, on the thread that applies the change. [`settle`] makes such an allocation
//! where the memory was freed, off the async threads, so that the sorting is done there.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How long an idle blocking thread is kept (tokio's default is 10 s): shorter than [`DELAY`],
/// so the threads that ran analyses have ended, with their caches, when the trim runs.
pub const IDLE_THREAD_KEEP_ALIVE: Duration = Duration::from_millis(500);

/// How long to wait for more closes before freeing and trimming once.
const DELAY: Duration = Duration::from_millis(1000);

/// A release is scheduled and has not run yet.
static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// Closed documents waiting to be freed.
static CLOSED: Mutex<Vec<Box<dyn Any + Send>>> = Mutex::new(Vec::new());

/// Sets the allocator up for the server. Call before any other thread is started.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            /// glibc: sets an allocator parameter; returns 1 on success.
            fn mallopt(
                param: std::os::raw::c_int,
                value: std::os::raw::c_int,
            ) -> std::os::raw::c_int;
        }
        /// `M_ARENA_MAX` in glibc's `malloc.h`.
        const M_ARENA_MAX: std::os::raw::c_int = -8;
        // SAFETY: `mallopt` only sets a parameter of the allocator; it is safe to call at any
        // time, and here no other thread has allocated yet.
        let done = unsafe { mallopt(M_ARENA_MAX, 1) };
        tracing::debug!("one malloc arena: {}", done == 1);
    }
}

/// Frees `closed` (a closed document) a moment later, with everything else closed meanwhile,
/// then gives the freed memory back to the system. Call from a tokio runtime.
pub fn release_soon(closed: impl Any + Send) {
    lock().push(Box::new(closed));
    if SCHEDULED.swap(true, Ordering::SeqCst) {
        return;
    }
    tokio::spawn(async {
        tokio::time::sleep(DELAY).await;
        SCHEDULED.store(false, Ordering::SeqCst);
        let _ = tokio::task::spawn_blocking(release).await;
    });
}

/// Drops `value` (an analysis, a tree: many small allocations) on a blocking thread, then
/// [`settle`]s the allocator there. Call from a tokio runtime.
pub fn drop_soon(value: impl Send + 'static) {
    tokio::task::spawn_blocking(move || {
        drop(value);
        settle();
    });
}

/// Has the allocator sort what was freed since into its bins now, on this thread, rather than
/// at the next allocation of a keystroke (see the module comment): one allocation of a size
/// that no per-thread cache or small bin serves, freed at once.
pub fn settle() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// Over glibc's largest cached and small-bin sizes (1 KiB), under its mmap threshold.
        const SIZE: usize = 4096;
        let layout = std::alloc::Layout::from_size_align(SIZE, 16).expect("a valid layout");
        // SAFETY: the layout is non-zero; the pointer is freed with the layout it was
        // allocated with, once, and never read. `black_box` keeps the pair from being
        // optimised away.
        unsafe {
            let block = std::hint::black_box(std::alloc::alloc(layout));
            if !block.is_null() {
                std::alloc::dealloc(block, layout);
            }
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Box<dyn Any + Send>>> {
    CLOSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn release() {
    let closed = std::mem::take(&mut *lock());
    let count = closed.len();
    // Freed on a thread that then ends, so its cache of freed chunks goes back to the heap.
    let freeing = std::thread::Builder::new()
        .name("free-closed".to_string())
        .spawn(move || drop(closed));
    match freeing {
        Ok(thread) => {
            let _ = thread.join();
        }
        Err(e) => tracing::warn!("cannot start a thread to free closed documents, freed here: {e}"),
    }
    let released = trim();
    // tests/robustness.rs waits for this line.
    tracing::debug!("freed {count} closed documents; memory released: {released}");
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> bool {
    extern "C" {
        /// glibc: releases free memory at the top of the heap and, since 2.8, free pages
        /// inside it, in every arena. Returns 1 if memory was released.
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: `malloc_trim` only reorganises the allocator's own free lists; it is safe to
    // call at any time from any thread.
    unsafe { malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}
