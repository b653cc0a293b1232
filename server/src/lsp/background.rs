//! A thread at a lower CPU priority for the full analyses, which nobody waits for: the outline
//! pass has already answered the keystroke.
//!
//! On a machine with few cores, a full analysis of a large document (100 ms or more of
//! parsing) competes for a core with the outline pass of the next keystroke and with the
//! handlers reading the next changes; at the same priority the scheduler lets it run for
//! milliseconds before they get the core, and by then it may already be useless. At nice 10 it
//! gets the cores the rest leave free, and never starves: it still gets a share under load.
//!
//! The thread ends after [`IDLE_THREAD_KEEP_ALIVE`](super::memory::IDLE_THREAD_KEEP_ALIVE)
//! without work, like tokio's blocking threads, so its allocator cache goes back to the heap;
//! the next job starts another.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};

use super::memory::IDLE_THREAD_KEEP_ALIVE;

type Task = Box<dyn FnOnce() + Send>;

/// Where background tasks are sent; cheap to clone.
#[derive(Clone, Default)]
pub struct Background {
    /// The running thread's queue. Sent to and cleared only under the lock, so a task is never
    /// queued to a thread that is ending.
    queue: Arc<Mutex<Option<Sender<Task>>>>,
}

impl Background {
    /// Runs `f` on the background thread; `None` if it panicked (logged) or no thread could be
    /// started.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            match std::panic::catch_unwind(AssertUnwindSafe(f)) {
                Ok(value) => {
                    let _ = done.send(value);
                }
                Err(_) => tracing::error!("a background task panicked"),
            };
        });
        {
            let mut queue = lock(&self.queue);
            // Queued to the running thread, or back if there is none.
            let task = match queue.as_ref() {
                Some(q) => q.send(task).err().map(|mpsc::SendError(task)| task),
                None => Some(task),
            };
            if let Some(task) = task {
                let (sender, receiver) = mpsc::channel();
                let _ = sender.send(task);
                let shared = self.queue.clone();
                let started = std::thread::Builder::new()
                    .name("full-analysis".to_string())
                    .spawn(move || work(receiver, shared));
                match started {
                    Ok(_) => *queue = Some(sender),
                    Err(e) => {
                        tracing::error!("cannot start the background thread: {e}");
                        return None;
                    }
                }
            }
        }
        result.await.ok()
    }
}

fn lock(queue: &Mutex<Option<Sender<Task>>>) -> std::sync::MutexGuard<'_, Option<Sender<Task>>> {
    queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The thread: lowers its priority, then runs tasks until idle.
fn work(tasks: Receiver<Task>, queue: Arc<Mutex<Option<Sender<Task>>>>) {
    lower_priority();
    loop {
        match tasks.recv_timeout(IDLE_THREAD_KEEP_ALIVE) {
            Ok(task) => task(),
            Err(RecvTimeoutError::Timeout) => {
                let mut queue = lock(&queue);
                // A task may have come in just before the lock was taken.
                if let Ok(task) = tasks.try_recv() {
                    drop(queue);
                    task();
                    continue;
                }
                *queue = None;
                return;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Nice 10 for the calling thread (on Linux the nice value is per thread).
#[cfg(target_os = "linux")]
fn lower_priority() {
    extern "C" {
        fn setpriority(
            which: std::os::raw::c_int,
            who: std::os::raw::c_uint,
            prio: std::os::raw::c_int,
        ) -> std::os::raw::c_int;
    }
    /// `PRIO_PROCESS` in `sys/resource.h`; with `who` 0, on Linux, the calling thread.
    const PRIO_PROCESS: std::os::raw::c_int = 0;
    // SAFETY: `setpriority` only changes the scheduling priority of the calling thread.
    let done = unsafe { setpriority(PRIO_PROCESS, 0, 10) } == 0;
    tracing::debug!("background thread at nice 10: {done}");
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn tasks_run_in_order_and_after_the_thread_ended() {
        let background = Background::default();
        assert_eq!(background.run(|| 1).await, Some(1));
        assert_eq!(background.run(|| 2).await, Some(2));
        assert_eq!(
            background.run(|| -> i32 { panic!("in a task") }).await,
            None
        );
        assert_eq!(background.run(|| 3).await, Some(3));
        // The thread ends once idle; the next task starts another.
        tokio::time::sleep(IDLE_THREAD_KEEP_ALIVE + Duration::from_millis(300)).await;
        assert!(lock(&background.queue).is_none());
        assert_eq!(background.run(|| 4).await, Some(4));
    }
}
