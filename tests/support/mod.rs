//! A small black-box LSP client for tests: spawns the compiled server, speaks JSON-RPC with
//! `Content-Length` framing over its stdin/stdout, and never waits forever.
//!
//! - A reader thread parses frames from the server's stdout into `serde_json::Value`s.
//! - Responses are routed by id; notifications are kept, in arrival order, in a history that
//!   tests search with [`Server::wait_notification`] (a cursor remembers what was consumed, the
//!   history keeps everything for ordering checks).
//! - Requests from the server to the client get a `null` result so the server never blocks.
//! - The child's stderr is collected by another thread and printed when a wait fails.
//! - Dropping a [`Server`] kills the child.
//!
//! Also here: [`Encoding`] and [`position`], the test's own byte offset to LSP position
//! conversion (`\r\n`, `\n` and a lone `\r` break lines), and [`Doc`], a client-side copy of an
//! open document that turns byte-range edits into incremental content changes.

// Shared by test crates that each use only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod frame;
pub use frame::read_frame;

/// `body` with its `Content-Length` header, as a client frames a message.
pub fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The diagnostic codes the server may publish.
pub const CODES: [&str; 9] = [
    "missing-section",
    "section-order",
    "heading-level",
    "duplicate-section",
    "empty-section",
    "template-text",
    "metadata-table",
    "toc-link",
    "toc-entry",
];

/// The workspace root (the directory holding `grammars/` and `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running server and the client side of its connection.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Set once the server's stdout closed.
    disconnected: bool,
    next_id: i64,
    responses: HashMap<i64, Value>,
    /// Every notification received, in order.
    notifications: Vec<Value>,
    /// Index of the first notification not yet consumed by a wait.
    cursor: usize,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Spawns the compiled `joint-review-lsp` (no arguments: it serves LSP on stdio).
    pub fn spawn() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_joint-review-lsp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("JOINT_REVIEW_LSP_LOG", "debug")
            .spawn()
            .expect("spawn joint-review-lsp");
        let stdin = child.stdin.take().expect("child stdin");
        let stdout = child.stdout.take().expect("child stdout");
        let stderr_pipe = child.stderr.take().expect("child stderr");

        let (tx, incoming) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_frame(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });

        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        thread::spawn(move || {
            let mut reader = BufReader::new(stderr_pipe);
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => sink
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&line),
                }
            }
        });

        Server {
            child,
            stdin: Some(stdin),
            incoming,
            disconnected: false,
            next_id: 1,
            responses: HashMap::new(),
            notifications: Vec::new(),
            cursor: 0,
            stderr,
        }
    }

    /// Spawns, sends `initialize` with `params` and then `initialized`; returns the result.
    pub fn initialized(params: Value) -> (Server, Value) {
        let mut server = Server::spawn();
        let result = server
            .request("initialize", params)
            .unwrap_or_else(|e| server.fail(&format!("initialize failed: {e}")));
        server.notify("initialized", json!({}));
        (server, result)
    }

    /// `initialize` parameters offering the given position encodings (none: the field is absent).
    pub fn init_params(encodings: Option<&[&str]>, options: Option<Value>) -> Value {
        let mut general = json!({});
        if let Some(encodings) = encodings {
            general["positionEncodings"] = json!(encodings);
        }
        let mut params = json!({
            "processId": null,
            "rootUri": null,
            "capabilities": {
                "general": general,
                "textDocument": { "publishDiagnostics": { "versionSupport": true } }
            }
        });
        // Every test client asks for `$/jointReview/analysed`, so `wait_publish` can tell the
        // outline pass's publish from the full analysis's.
        let mut options = options.unwrap_or_else(|| json!({}));
        if let Some(map) = options.as_object_mut() {
            map.insert("analysisNotifications".into(), json!(true));
        }
        params["initializationOptions"] = options;
        params
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until the server's stderr so far satisfies `accept` (its logs are at `debug`);
    /// fails the test after [`TIMEOUT`].
    pub fn wait_stderr(&mut self, what: &str, accept: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !accept(&self.stderr()) {
            if Instant::now() > deadline {
                self.fail(&format!("no {what} on stderr within {TIMEOUT:?}"));
            }
            // Keeps reading the protocol meanwhile.
            self.drain_for(Duration::from_millis(10));
            if self.disconnected {
                thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Panics with `what`, the server's stderr and the last notifications received.
    pub fn fail(&self, what: &str) -> ! {
        let recent: Vec<String> = self
            .notifications
            .iter()
            .rev()
            .take(5)
            .map(|n| {
                let mut s = n.to_string();
                if s.len() > 300 {
                    let mut cut = 300;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                    s.push_str("...");
                }
                s
            })
            .collect();
        panic!(
            "{what}\n--- last notifications (newest first) ---\n{}\n--- server stderr ---\n{}",
            recent.join("\n"),
            self.stderr()
        );
    }

    /// Writes one framed message.
    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialize message");
        let Some(stdin) = self.stdin.as_mut() else {
            self.fail("send after stdin was closed");
        };
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        let result = stdin
            .write_all(header.as_bytes())
            .and_then(|_| stdin.write_all(&body))
            .and_then(|_| stdin.flush());
        if let Err(e) = result {
            self.fail(&format!("cannot write to the server: {e}"));
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response: `Ok(result)` or `Err(error object)`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(response) = self.responses.remove(&id) {
                return match response.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            if !self.pump(deadline) {
                self.fail(&format!(
                    "no response to {method} (id {id}) within {TIMEOUT:?}"
                ));
            }
        }
    }

    /// Receives one message (routing it) before `deadline`; false on timeout or disconnection.
    fn pump(&mut self, deadline: Instant) -> bool {
        if self.disconnected {
            return false;
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let message = match self.incoming.recv_timeout(wait) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => {
                self.disconnected = true;
                return false;
            }
        };
        let id = message.get("id").cloned();
        match (message.get("method").is_some(), id) {
            // A request from the server: answer it so it never waits on us.
            (true, Some(id)) => {
                self.notifications.push(message.clone());
                self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": null }));
            }
            (true, None) => self.notifications.push(message),
            (false, Some(id)) => {
                let Some(id) = id.as_i64() else {
                    self.fail(&format!("response with an unexpected id: {message}"));
                };
                self.responses.insert(id, message);
            }
            (false, None) => self.fail(&format!(
                "message that is neither a request nor a response: {message}"
            )),
        }
        true
    }

    /// The next notification (after the cursor) with this method that satisfies `accept`;
    /// notifications skipped over stay in the history. Fails the test after [`TIMEOUT`].
    pub fn wait_notification(
        &mut self,
        method: &str,
        what: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while self.cursor < self.notifications.len() {
                let n = &self.notifications[self.cursor];
                self.cursor += 1;
                if n["method"] == method && accept(&n["params"]) {
                    return n["params"].clone();
                }
            }
            if !self.pump(deadline) {
                self.fail(&format!("no {method} {what} within {TIMEOUT:?}"));
            }
        }
    }

    /// The last `publishDiagnostics` for `uri` carrying `version`: the one the server marks
    /// as the last for that version (`$/jointReview/analysed` with `last`; an earlier one
    /// comes from the outline pass). Its shape is checked.
    pub fn wait_publish(&mut self, uri: &str, version: i64) -> Value {
        let what = format!("for {uri} version {version}");
        self.wait_notification("$/jointReview/analysed", &what, |p| {
            p["uri"] == uri && p["version"].as_i64() == Some(version) && p["last"] == true
        });
        let params = self.notifications[..self.cursor]
            .iter()
            .rev()
            .find(|n| {
                n["method"] == "textDocument/publishDiagnostics"
                    && n["params"]["uri"] == uri
                    && n["params"]["version"].as_i64() == Some(version)
            })
            .map(|n| n["params"].clone())
            .unwrap_or_else(|| self.fail(&format!("no publishDiagnostics {what}")));
        check_publish_shape(&params);
        params
    }

    /// The first `publishDiagnostics` for `uri` carrying `version` (the outline pass's, when
    /// it came first).
    pub fn wait_first_publish(&mut self, uri: &str, version: i64) -> Value {
        let what = format!("for {uri} version {version}");
        let params = self.wait_notification("textDocument/publishDiagnostics", &what, |p| {
            p["uri"] == uri && p["version"].as_i64() == Some(version)
        });
        check_publish_shape(&params);
        params
    }

    /// Keeps receiving for `duration` (to catch late messages), without consuming anything.
    pub fn drain_for(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while Instant::now() < deadline && self.pump(deadline) {}
    }

    /// Every `publishDiagnostics` received so far for `uri`, in order.
    pub fn publishes(&self, uri: &str) -> Vec<Value> {
        self.notifications
            .iter()
            .filter(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            })
            .map(|n| n["params"].clone())
            .collect()
    }

    pub fn did_open(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "markdown", "version": version, "text": text } }),
        );
    }

    pub fn did_change(&mut self, uri: &str, version: i64, changes: Vec<Value>) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": changes }),
        );
    }

    pub fn did_close(&mut self, uri: &str) {
        self.notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri } }),
        );
    }

    /// Closes the server's stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for the process to exit; fails the test if it has not within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => self.fail(&format!("the server did not exit within {timeout:?}")),
                Err(e) => self.fail(&format!("cannot wait for the server: {e}")),
            }
        }
    }

    /// `shutdown`, then `exit`; returns the exit status.
    pub fn shutdown_and_exit(&mut self) -> ExitStatus {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Ok(Value::Null), "shutdown result");
        self.notify("exit", Value::Null);
        self.wait_exit(Duration::from_secs(5))
    }
}

/// Raw access for robustness tests: malformed frames, chosen ids, the process.
impl Server {
    /// Writes `bytes` to the server's stdin as they are (no framing added).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let Some(stdin) = self.stdin.as_mut() else {
            self.fail("send after stdin was closed");
        };
        if let Err(e) = stdin.write_all(bytes).and_then(|_| stdin.flush()) {
            self.fail(&format!("cannot write to the server: {e}"));
        }
    }

    /// An id no request of this client has used, for hand-made requests.
    pub fn fresh_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Waits for the response to the request with this id: `Ok(result)` or `Err(error)`.
    pub fn response(&mut self, id: i64) -> Result<Value, Value> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(response) = self.responses.remove(&id) {
                return match response.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            if !self.pump(deadline) {
                self.fail(&format!("no response to id {id} within {TIMEOUT:?}"));
            }
        }
    }

    /// True when a response for this id arrived (within `wait`); it stays available.
    pub fn has_response(&mut self, id: i64, wait: Duration) -> bool {
        self.drain_for(wait);
        self.responses.contains_key(&id)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has ended.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every publish: a URI, an array of diagnostics, each with our source and a known code.
pub fn check_publish_shape(params: &Value) {
    assert!(params["uri"].is_string(), "publish without a uri: {params}");
    let diagnostics = params["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics array: {params}"));
    for d in diagnostics {
        assert_eq!(d["source"], "joint-review-lsp", "source of {d}");
        let code = d["code"]
            .as_str()
            .unwrap_or_else(|| panic!("code is not a string: {d}"));
        assert!(CODES.contains(&code), "unknown code {code:?} in {d}");
        assert!(d["message"].is_string(), "message of {d}");
        for end in ["start", "end"] {
            assert!(
                d["range"][end]["line"].is_u64() && d["range"][end]["character"].is_u64(),
                "range of {d}"
            );
        }
    }
}

/// The diagnostics of a publish with this code.
pub fn with_code<'a>(params: &'a Value, code: &str) -> Vec<&'a Value> {
    params["diagnostics"]
        .as_array()
        .map(|ds| ds.iter().filter(|d| d["code"] == code).collect())
        .unwrap_or_default()
}

/// How the columns of a position are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
            Encoding::Utf32 => "utf-32",
        }
    }

    fn width(self, c: char) -> u64 {
        match self {
            Encoding::Utf8 => c.len_utf8() as u64,
            Encoding::Utf16 => c.len_utf16() as u64,
            Encoding::Utf32 => 1,
        }
    }
}

/// The LSP position (`{"line", "character"}`) of a byte offset in `text`, with `\r\n`, `\n`
/// and a lone `\r` as line breaks and columns counted in `encoding`.
pub fn position(text: &str, offset: usize, encoding: Encoding) -> Value {
    assert!(
        text.is_char_boundary(offset),
        "offset {offset} is not at a character boundary"
    );
    assert!(
        !(text[..offset].ends_with('\r') && text[offset..].starts_with('\n')),
        "offset {offset} is inside a CRLF"
    );
    let (mut line, mut character) = (0u64, 0u64);
    let mut chars = text[..offset].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => {
                line += 1;
                character = 0;
            }
            c => character += encoding.width(c),
        }
    }
    json!({ "line": line, "character": character })
}

/// The byte offset of an LSP position in `text`, the inverse of [`position`]; `None` when the
/// position is not exactly at a character boundary inside a line (or at its end), or when the
/// line does not exist.
pub fn offset(text: &str, pos: &Value, encoding: Encoding) -> Option<usize> {
    let (line, character) = (pos["line"].as_u64()?, pos["character"].as_u64()?);
    let mut line_start = 0;
    for _ in 0..line {
        let rest = &text[line_start..];
        let brk = rest.find(['\r', '\n'])?;
        let len = if rest[brk..].starts_with("\r\n") {
            2
        } else {
            1
        };
        line_start += brk + len;
    }
    let rest = &text[line_start..];
    let content = &rest[..rest.find(['\r', '\n']).unwrap_or(rest.len())];
    let mut units = 0;
    for (i, c) in content.char_indices() {
        if units == character {
            return Some(line_start + i);
        }
        units += encoding.width(c);
    }
    (units == character).then_some(line_start + content.len())
}

/// A client-side copy of an open document.
pub struct Doc {
    pub uri: String,
    pub text: String,
    pub version: i64,
    pub encoding: Encoding,
}

impl Doc {
    pub fn new(uri: &str, text: &str, encoding: Encoding) -> Doc {
        Doc {
            uri: uri.to_string(),
            text: text.to_string(),
            version: 1,
            encoding,
        }
    }

    /// An incremental content change replacing bytes `start..end` of the current text (its
    /// range computed in the document's encoding), applied to this copy.
    pub fn edit(&mut self, start: usize, end: usize, new_text: &str) -> Value {
        let range = json!({
            "start": position(&self.text, start, self.encoding),
            "end": position(&self.text, end, self.encoding),
        });
        self.text.replace_range(start..end, new_text);
        json!({ "range": range, "text": new_text })
    }

    /// A change replacing the whole text (no range).
    pub fn replace_all(&mut self, text: &str) -> Value {
        self.text = text.to_string();
        json!({ "text": text })
    }

    /// Byte offset of the first occurrence of `needle` (which must be there).
    pub fn find(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in the document"))
    }

    /// Sends `changes` as the next version.
    pub fn send(&mut self, server: &mut Server, changes: Vec<Value>) -> i64 {
        self.version += 1;
        server.did_change(&self.uri, self.version, changes);
        self.version
    }
}
