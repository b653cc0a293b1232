//! A minimal LSP client over a child process's stdio, for timing: every message received is
//! stamped with the instant its frame was read, so latencies are measured at the client. It is
//! parsed afterwards, off the reading thread: a message is stamped when it arrives, not once the
//! client has parsed it and the ones before it (at 10k lines, a publish of ~200 diagnostics
//! takes the client longer to parse than the server to send).
//!
//! Requests from the server (`workspace/configuration`, `client/registerCapability`, ...) are
//! answered at once (with nulls) so the server never waits on us.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::io::{BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

// The same frame reader as the tests' client.
#[path = "../../tests/support/frame.rs"]
#[allow(dead_code)] // `read_frame` is the tests'.
mod frame;
use frame::{parse_body, read_body};

/// How long any single wait may take.
pub const TIMEOUT: Duration = Duration::from_secs(300);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Message bodies as read, unparsed, each with the instant it was read.
    incoming: Receiver<(Instant, Vec<u8>)>,
    /// Notifications received and not yet consumed.
    pending: VecDeque<(Instant, Value)>,
    next_id: i64,
}

impl Client {
    /// Starts `program args...`; its stderr is discarded, unless `JOINT_REVIEW_LSP_LOG` asks
    /// for our server's log, which then goes to the benchmark's stderr.
    pub fn spawn(program: &str, args: &[String]) -> std::io::Result<Client> {
        let stderr = match std::env::var_os("JOINT_REVIEW_LSP_LOG") {
            Some(_) => Stdio::inherit(),
            None => Stdio::null(),
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, incoming) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::with_capacity(1 << 20, stdout);
            while let Some(body) = read_body(&mut reader) {
                if tx.send((Instant::now(), body)).is_err() {
                    break;
                }
            }
        });
        Ok(Client {
            child,
            stdin,
            incoming,
            pending: VecDeque::new(),
            next_id: 1,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one framed message.
    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialize");
        let stdin = self.stdin.as_mut().expect("stdin open");
        // One write per frame, as Neovim's and Helix's clients do: a header written apart from
        // its body wakes the server twice.
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(&body);
        stdin
            .write_all(&frame)
            .and_then(|_| stdin.flush())
            .expect("write to the server");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response; returns the result (or error) and the time
    /// from just before sending to the response's arrival.
    pub fn request(&mut self, method: &str, params: Value) -> (Value, Duration) {
        let id = self.next_id;
        self.next_id += 1;
        let start = Instant::now();
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = start + TIMEOUT;
        loop {
            let (at, message) = self.receive(deadline).unwrap_or_else(|| {
                panic!("no response to {method} within {TIMEOUT:?}");
            });
            if message.get("method").is_none() && message["id"] == id {
                let result = message
                    .get("result")
                    .or_else(|| message.get("error"))
                    .cloned()
                    .unwrap_or(Value::Null);
                return (result, at - start);
            }
            if message.get("method").is_some() {
                self.pending.push_back((at, message));
            }
        }
    }

    /// Waits for a notification with `method` whose params satisfy `accept` (earlier pending
    /// ones that do not match are dropped); returns its arrival instant and params.
    pub fn wait_notification(
        &mut self,
        method: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> (Instant, Value) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some((at, message)) = self.pending.pop_front() {
                if message["method"] == method && accept(&message["params"]) {
                    return (at, message["params"].clone());
                }
            }
            let Some((at, message)) = self.receive(deadline) else {
                panic!("no {method} within {TIMEOUT:?}");
            };
            if message.get("method").is_some() {
                self.pending.push_back((at, message));
            }
        }
    }

    /// Receives one message, answering server requests on the way; `None` on timeout or when
    /// the server closed its output.
    fn receive(&mut self, deadline: Instant) -> Option<(Instant, Value)> {
        let wait = deadline.saturating_duration_since(Instant::now());
        let (at, body) = match self.incoming.recv_timeout(wait) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        let message = parse_body(&body)?;
        if let (Some(method), Some(id)) = (message.get("method"), message.get("id")) {
            let result = if method == "workspace/configuration" {
                let n = message["params"]["items"].as_array().map_or(1, Vec::len);
                Value::Array(vec![Value::Null; n])
            } else {
                Value::Null
            };
            let id = id.clone();
            self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": result }));
        }
        Some((at, message))
    }

    /// Drops notifications already received (and any arriving within `quiet`).
    pub fn drain(&mut self, quiet: Duration) {
        self.pending.clear();
        while self.receive(Instant::now() + quiet).is_some() {}
        self.pending.clear();
    }

    /// Peak resident set (VmHWM) in bytes, from `/proc`.
    pub fn peak_rss(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// The CPU time each of the server's threads has run so far, to the nanosecond
    /// (`/proc/PID/task/*/schedstat`), by thread id: see [`cpu_since`](Self::cpu_since).
    /// `None` where the kernel keeps no such figures.
    pub fn cpu_snapshot(&self) -> Option<HashMap<String, u64>> {
        let mut threads = HashMap::new();
        for task in fs::read_dir(format!("/proc/{}/task", self.pid())).ok()? {
            let Ok(task) = task else { continue };
            // A thread that ends while it is read is left out.
            let Ok(stat) = fs::read_to_string(task.path().join("schedstat")) else {
                continue;
            };
            let nanos = stat.split_whitespace().next()?.parse::<u64>().ok()?;
            threads.insert(task.file_name().to_string_lossy().into_owned(), nanos);
        }
        Some(threads)
    }

    /// The CPU time the server's threads ran since `before` (a [`cpu_snapshot`](Self::cpu_snapshot)):
    /// what each thread alive now ran since then (all of it for a thread started since).
    /// [`cpu_time`](Self::cpu_time) counts clock ticks (10 ms), too coarse for one keystroke's
    /// share: over 200 keystrokes, a step of 0.05 ms. A thread that ended in between takes
    /// what it ran since `before` with it: the runtime ends a blocking thread after it idled
    /// for a while, so that is little. (Summing the live threads' totals instead lost an ended
    /// thread's whole history: at 10k lines, once, 0.00 ms per keystroke.)
    pub fn cpu_since(&self, before: &HashMap<String, u64>) -> Option<Duration> {
        let now = self.cpu_snapshot()?;
        let nanos = now
            .iter()
            .map(|(thread, ran)| ran.saturating_sub(before.get(thread).copied().unwrap_or(0)))
            .sum();
        Some(Duration::from_nanos(nanos))
    }

    /// User plus system CPU time so far, from `/proc`, in clock ticks (see
    /// [`cpu_since`](Self::cpu_since)); it counts threads that have ended.
    pub fn cpu_time(&self) -> Option<Duration> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here (0-based 11, 12).
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64))
    }

    /// `shutdown` then `exit`; kills the process if it does not exit soon after.
    pub fn shutdown(mut self) {
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": "shutdown", "params": null }));
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some((_, m)) = self.receive(deadline) {
            if m.get("method").is_none() && m["id"] == id {
                break;
            }
        }
        self.notify("exit", Value::Null);
        self.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second for `/proc/PID/stat` (`getconf CLK_TCK`; 100 on Linux in practice).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}
