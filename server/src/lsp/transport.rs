//! The session with the client: reads `Content-Length` frames from stdin, hands each message to
//! tower-lsp's `LspService` in order, and writes what comes back to stdout. tower-lsp's own
//! `Server` loop is not used:
//!
//! - It reads with tokio-util's `FramedRead`, which stops at the first decode error: one bad
//!   frame and the server would hear nothing more. Here a [`Decoder`] never gives up.
//! - Each message is parsed once, here. Behind a framing layer of our own, tower-lsp's loop
//!   parsed every message a second time, and a burst of changes cost a dispatch each.
//! - A change is parsed into its typed parameters and applied by the session itself
//!   ([`ApplyChange`]), not through tower-lsp's router, which would parse it again. The usual
//!   change is read in place by `change_json`, without serde (anything else takes serde).
//! - A burst of changes that arrived while the server was busy is applied as one change (see
//!   [`Transport::serve`] and `batch`).
//!
//! What the decoder accepts:
//! - Headers: a block of `Name: value` lines ended by an empty line; `Content-Length` is
//!   required and must be a number no larger than [`MAX_BODY`] (no allocation is sized by a
//!   client's claim beyond that). A block without a usable length is logged and skipped; bytes
//!   that are not headers are skipped until a line holding `Content-Length` (resynchronising
//!   even when the next header follows a body on the same line). Header lines are kept to
//!   [`MAX_HEADER_LINE`] bytes.
//! - Bodies: UTF-8 JSON objects that are JSON-RPC 2.0 requests, notifications or responses, as
//!   tower-lsp deserialises them. Otherwise the sender gets `-32700` (not UTF-8, not JSON) or
//!   `-32600` (not a message) when the request's id can be read, and a log line either way.
//! - A lone UTF-16 surrogate escape (`"\ud83d"` without its low half: some clients split a
//!   surrogate pair across two changes) becomes `\uFFFD`, one code unit for one, so UTF-16
//!   positions after it stay right; serde_json would reject the whole message. The halves are
//!   not re-paired across changes: each becomes its own U+FFFD.
//! - Until an `initialize` request has succeeded, every other request gets `-32002` here:
//!   tower-lsp would answer an unknown method with `-32601`, and an unknown `$/` one not at
//!   all. The session learns of the success from the service's answers (before it, the only
//!   request the service is given is `initialize`, so a response with a result is that one's).
//!   Notifications pass (tower-lsp drops them, except `exit`).
//! - Afterwards, a request for an unknown `$/` method gets `-32601` here: tower-lsp answers
//!   nothing at all to those. A `shutdown` with parameters gets `-32602` here: tower-lsp would
//!   shut down and answer with an error.
//!
//! Output: one writer (a thread on stdout) writes whole frames in the order queued: the
//! service's answers, tower-lsp's `Client` messages, this layer's error responses, and the
//! server's own notifications. Those (diagnostics above all) skip tower-lsp: an [`Outbox`]
//! serialises them straight into a frame. Through tower-lsp's `Client`, a publish of a few
//! hundred diagnostics was built as a `serde_json::Value` tree and serialised from it: most of
//! a keystroke's cost on a large document.
//! A document's publish not yet written when its next publish comes is replaced by it
//! ([`Outbox::latest`]): a client that reads slower than the server publishes gets the newest
//! diagnostics, not a backlog of stale ones.
//! On stdio, a publish that input not yet applied may supersede waits for it, a millisecond
//! at most ([`Queue::hold`]): in a burst of changes, the client then reads the last version's
//! diagnostics only, not an earlier version's first. Input not yet applied includes bytes
//! still in stdin's pipe, which only the kernel knows of (`FIONREAD`).
//! When stdout is a pipe, a frame with nothing queued ahead of it that the pipe has room for is
//! written at once by the thread that made it, not by the writer (see `sink`): waking the
//! writer thread cost about 0.1 ms a message.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::Either;
use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types::notification::{DidChangeTextDocument, Notification as _};
use tower_lsp_server::ls_types::{DidChangeTextDocumentParams, Uri};
use tower_lsp_server::ClientSocket;
use tower_service::Service;

use super::change_json;
use super::sink::{unread_bytes, Sink};

/// The largest message body accepted (64 MiB); a larger `Content-Length` is skipped.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// Header lines longer than this are not headers; only their last bytes are kept, to find a
/// `Content-Length` that follows garbage on the same line.
pub const MAX_HEADER_LINE: usize = 8 * 1024;
/// How much of an over-long line is kept while looking for the end of it.
const KEPT_TAIL: usize = 256;

/// JSON-RPC error codes this layer answers with.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const SERVER_NOT_INITIALIZED: i64 = -32002;

/// What the decoder found in the input.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// A well-formed message, to hand to tower-lsp's service.
    Message(Message),
    /// An error response to send for a request that cannot be served.
    Reply {
        id: Value,
        code: i64,
        message: String,
    },
    /// Something was dropped, and why (for the log).
    Skipped(String),
}

/// Where the decoder is in the input.
#[derive(Debug)]
enum State {
    /// Reading a header block.
    Headers,
    /// Reading a body of this many bytes.
    Body(usize),
}

/// Splits an input byte stream into [`Event`]s. Sans I/O: [`push`](Decoder::push) bytes as
/// they arrive, then take events with [`next_event`](Decoder::next_event) until it gives `None`.
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes of `buf` before this are consumed (dropped on the next push).
    start: usize,
    state: State,
    /// Header lines seen in the current block.
    headers: usize,
    /// The current block's `Content-Length` (or the text that was not a length).
    length: Option<Result<usize, String>>,
    /// The line being read is longer than [`MAX_HEADER_LINE`]: `buf` holds only its end.
    long_line: bool,
    /// Bytes skipped since the last well-formed header, reported when headers resume.
    skipped: usize,
    /// An `initialize` request has succeeded: requests other than `initialize` are forwarded.
    initialized: bool,
    /// The document of the last change read: the next one most likely names it too.
    last_uri: Option<Uri>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            buf: Vec::new(),
            start: 0,
            state: State::Headers,
            headers: 0,
            length: None,
            long_line: false,
            skipped: 0,
            initialized: false,
            last_uri: None,
        }
    }

    /// Whether the server is initialized, for the messages decoded from now on.
    pub fn set_initialized(&mut self, initialized: bool) {
        self.initialized = initialized;
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held and not yet consumed: at most a header line's worth, unless a body (of at
    /// most [`MAX_BODY`] bytes) is being read.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// A body is being read.
    pub fn reading_body(&self) -> bool {
        matches!(self.state, State::Body(_))
    }

    /// True when input ended here, between messages (nothing half-read).
    pub fn at_boundary(&self) -> bool {
        matches!(self.state, State::Headers) && self.headers == 0 && self.start == self.buf.len()
    }

    /// The next event from the bytes pushed so far, or `None` when more input is needed.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            let pending = &self.buf[self.start..];
            match self.state {
                State::Body(len) => {
                    if pending.len() < len {
                        return None;
                    }
                    let body = &self.buf[self.start..self.start + len];
                    self.start += len;
                    self.state = State::Headers;
                    // The usual change is read in place (see `change_json`); anything else, or
                    // anything unusual about it, is checked and parsed by `validate`.
                    let Ok(text) = std::str::from_utf8(body) else {
                        return Some(validate(body.to_vec(), self.initialized));
                    };
                    if let Some(change) = change_json::read(text, self.last_uri.as_ref()) {
                        let uri = &change.text_document.uri;
                        if self.last_uri.as_ref() != Some(uri) {
                            self.last_uri = Some(uri.clone());
                        }
                        return Some(Event::Message(Message::Change(change)));
                    }
                    // Checked as UTF-8 above: not again.
                    return Some(validate_text(text.to_owned(), self.initialized));
                }
                State::Headers => {
                    let Some(nl) = pending.iter().position(|&b| b == b'\n') else {
                        if pending.len() > MAX_HEADER_LINE {
                            let cut = pending.len() - KEPT_TAIL;
                            self.skipped += cut;
                            self.start += cut;
                            self.long_line = true;
                        }
                        return None;
                    };
                    let line =
                        self.start..self.start + nl - usize::from(pending[..nl].ends_with(b"\r"));
                    self.start += nl + 1;
                    let long = std::mem::take(&mut self.long_line) || line.len() > MAX_HEADER_LINE;
                    // Lent out while the line is read (`header_line` does not use it): no copy.
                    let buf = std::mem::take(&mut self.buf);
                    let event = self.header_line(&buf[line], long);
                    self.buf = buf;
                    if let Some(event) = event {
                        return Some(event);
                    }
                }
            }
        }
    }

    /// Handles one line of a header block; an event when the block ended badly.
    fn header_line(&mut self, line: &[u8], long: bool) -> Option<Event> {
        if line.is_empty() {
            if self.headers == 0 {
                // Blank lines between messages: tolerated.
                return None;
            }
            return self.end_of_headers();
        }
        let broken = self.headers > 0;
        // A `Content-Length` after other bytes: what came before it is not a header (a body
        // glued to the next message, the end of a skipped line). Start a new block there.
        if let Some(at) = find_ignore_case(line, b"content-length").filter(|&at| at > 0) {
            self.headers = 0;
            self.length = None;
            let first = self.skipped == 0;
            self.skipped += at;
            let event = self.header_line(&line[at..], false);
            return event
                .or_else(|| broken.then(broken_block))
                .or_else(|| first.then(not_a_header));
        }
        if !long {
            if let Some((name, value)) = header(line) {
                self.resynced();
                self.headers += 1;
                if name.eq_ignore_ascii_case("content-length") {
                    let value = value.trim();
                    self.length = Some(value.parse::<usize>().map_err(|_| value.to_string()));
                }
                return None;
            }
        }
        // Not a header: skip it, and the block it broke.
        self.headers = 0;
        self.length = None;
        let first = self.skipped == 0;
        self.skipped += line.len() + 1;
        if broken {
            Some(broken_block())
        } else {
            first.then(not_a_header)
        }
    }

    fn end_of_headers(&mut self) -> Option<Event> {
        self.headers = 0;
        match self.length.take() {
            None => Some(Event::Skipped(
                "a header block without `Content-Length`: skipped".to_string(),
            )),
            Some(Err(value)) => Some(Event::Skipped(format!(
                "`Content-Length: {}` is not a number: skipped",
                value.chars().take(40).collect::<String>()
            ))),
            Some(Ok(len)) if len > MAX_BODY => {
                // Reading that many bytes could take the rest of the stream: treat what follows
                // as garbage and resynchronise on the next header instead.
                self.skipped = 1;
                Some(Event::Skipped(format!(
                    "`Content-Length: {len}` is over the {MAX_BODY}-byte limit: skipped"
                )))
            }
            Some(Ok(len)) => {
                self.state = State::Body(len);
                None
            }
        }
    }

    fn resynced(&mut self) {
        if self.skipped > 0 {
            tracing::info!("input resynchronised after {} skipped bytes", self.skipped);
            self.skipped = 0;
        }
    }
}

fn not_a_header() -> Event {
    Event::Skipped(
        "bytes that are not a message header; skipping to the next `Content-Length`".to_string(),
    )
}

fn broken_block() -> Event {
    Event::Skipped("a header block broken by bytes that are not headers: skipped".to_string())
}

/// `Name: value` with a token name, as text.
fn header(line: &[u8]) -> Option<(&str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let (name, value) = line.split_once(':')?;
    let is_token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    is_token.then_some((name, value))
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// A well-formed message from the client: a request or notification for the server, or a
/// response to a request the server sent (told apart by [`validate`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Response(Response),
    Request(Request),
    /// A `textDocument/didChange` notification, parsed straight into its parameters: the
    /// session applies it itself (see [`ApplyChange`]).
    Change(DidChangeTextDocumentParams),
}

/// What the session does with a change instead of handing it to tower-lsp's service: apply it
/// at once, as the server's `didChange` handler would (before any later message is handled).
///
/// A keystroke is the message a server gets most, and the one that must be fastest. Through
/// the service, a change was parsed into a `serde_json::Value` here and again into its typed
/// parameters by tower-lsp's router, and a burst of them merged as `Value`s: together, most of
/// what a burst costs beyond one keystroke. tower-lsp's router would only deliver it once the
/// server is initialized and not shut down; the session checks the same.
pub trait ApplyChange: Clone + Send + 'static {
    fn apply_change(&self, change: DidChangeTextDocumentParams);
}

pub(crate) const DID_CHANGE: &str = DidChangeTextDocument::METHOD;

/// `text` as a `didChange` notification that tower-lsp would accept, in one parse; `None` for
/// anything else (a different method, a request id, parameters tower-lsp would refuse), which
/// then takes the general path.
pub(super) fn as_change(text: &str) -> Option<DidChangeTextDocumentParams> {
    /// The field is there, whatever its value (`"id": null` makes a request too).
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| true)
    }
    #[derive(serde::Deserialize)]
    struct Notification<'a> {
        #[serde(borrow)]
        jsonrpc: Cow<'a, str>,
        #[serde(borrow)]
        method: Cow<'a, str>,
        #[serde(default, deserialize_with = "present")]
        id: bool,
        params: DidChangeTextDocumentParams,
    }
    // Cheap to rule out: most messages are not changes, and each is searched once.
    if !text.contains(DID_CHANGE) {
        return None;
    }
    let change: Notification = serde_json::from_str(text).ok()?;
    (change.jsonrpc == "2.0" && change.method == DID_CHANGE && !change.id).then_some(change.params)
}

/// Checks one message body: the message to forward, or why not. Before the server is
/// `initialized`, only `initialize` requests are forwarded.
pub fn validate(body: Vec<u8>, initialized: bool) -> Event {
    match String::from_utf8(body) {
        Ok(text) => validate_text(text, initialized),
        Err(e) => {
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            reject(
                &lossy,
                PARSE_ERROR,
                format!("the message is not valid UTF-8: {}", e.utf8_error()),
            )
        }
    }
}

/// [`validate`] for a body already known to be UTF-8.
fn validate_text(text: String, initialized: bool) -> Event {
    let text = match replace_lone_surrogates(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(fixed) => {
            tracing::warn!("a lone UTF-16 surrogate escape in a message was read as U+FFFD");
            fixed
        }
    };
    if let Some(change) = as_change(&text) {
        return Event::Message(Message::Change(change));
    }
    // One parse for a valid request (bodies can be megabytes); the reasons only on failure.
    // A response parses as a request without a method (tower-lsp's `Request` defaults it), so
    // those are tried as responses.
    let parsed = serde_json::from_str::<Request>(&text);
    let request = match parsed {
        Ok(request) if !request.method().is_empty() => request,
        parsed => match (serde_json::from_str::<Response>(&text), parsed) {
            (Ok(response), _) => return Event::Message(Message::Response(response)),
            (Err(_), Ok(request)) => request,
            (Err(_), Err(e)) => {
                return match serde_json::from_str::<Value>(&text) {
                    Err(_) => reject(&text, PARSE_ERROR, format!("the message is not JSON: {e}")),
                    Ok(value) if !value.is_object() => reject(
                        &text,
                        INVALID_REQUEST,
                        "the message is not a JSON object".to_string(),
                    ),
                    Ok(_) => reject(
                        &text,
                        INVALID_REQUEST,
                        format!(
                            "the message is not a JSON-RPC 2.0 request, notification or response: {e}"
                        ),
                    ),
                };
            }
        },
    };
    let (method, id) = (request.method(), request.id());
    if let Some(id) = id
        .and_then(|id| serde_json::to_value(id).ok())
        .filter(|id| !id.is_null())
    {
        if !initialized && method != "initialize" {
            return Event::Reply {
                id,
                code: SERVER_NOT_INITIALIZED,
                message: "the server is not initialized".to_string(),
            };
        }
        // tower-lsp drops requests for `$/` methods it does not know, without an answer.
        if method.starts_with("$/") && method != "$/cancelRequest" {
            return Event::Reply {
                id,
                code: METHOD_NOT_FOUND,
                message: format!("unknown method {method}"),
            };
        }
        // tower-lsp enters its shut-down state before it checks `shutdown`'s parameters: with
        // parameters it would answer "invalid params" and yet refuse every later request.
        if method == "shutdown" && !request.params().is_none_or(Value::is_null) {
            return Event::Reply {
                id,
                code: INVALID_PARAMS,
                message: "shutdown takes no parameters".to_string(),
            };
        }
    }
    Event::Message(Message::Request(request))
}

/// An error for a message that cannot be served: a reply when its id can be read (from the
/// whole text, else from its leading JSON value) and it is not itself a response, else a log.
fn reject(text: &str, code: i64, message: String) -> Event {
    let parsed = serde_json::from_str::<Value>(text).ok().or_else(|| {
        let fixed = replace_lone_surrogates(text);
        serde_json::Deserializer::from_str(&fixed)
            .into_iter::<Value>()
            .next()
            .and_then(Result::ok)
    });
    let is_response = |v: &Value| v.get("result").is_some() || v.get("error").is_some();
    match parsed
        .filter(|v| !is_response(v))
        .as_ref()
        .and_then(request_id)
    {
        Some(id) => Event::Reply { id, code, message },
        None => Event::Skipped(message),
    }
}

/// A request's id, when it is one tower-lsp would answer to (a number or a string).
fn request_id(message: &Value) -> Option<Value> {
    let id = message.get("id")?;
    (id.is_i64() || id.is_string()).then(|| id.clone())
}

/// JSON text with every `\uXXXX` escape of a lone UTF-16 surrogate replaced by `\uFFFD`.
pub fn replace_lone_surrogates(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let unit_at = |i: usize| -> Option<u16> {
        if bytes.get(i) != Some(&b'\\') || bytes.get(i + 1) != Some(&b'u') {
            return None;
        }
        let hex = std::str::from_utf8(bytes.get(i + 2..i + 6)?).ok()?;
        u16::from_str_radix(hex, 16).ok()
    };
    let is_high = |u: u16| (0xD800..0xDC00).contains(&u);
    let is_low = |u: u16| (0xDC00..0xE000).contains(&u);
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    // Most messages (typing) hold no escape at all: jump from one backslash to the next.
    // (A backslash at the very end steps past it: nothing more is looked at.)
    while let Some(found) = bytes.get(i..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        i += found;
        let Some(unit) = unit_at(i) else {
            // Any other escape is two bytes (`\\`, `\"`, `\n`, ...).
            i += 2;
            continue;
        };
        if is_high(unit) && unit_at(i + 6).is_some_and(is_low) {
            i += 12;
        } else if is_high(unit) || is_low(unit) {
            out.push_str(&json[copied..i]);
            out.push_str("\\uFFFD");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(json);
    }
    out.push_str(&json[copied..]);
    Cow::Owned(out)
}

/// `Content-Length` framing of a body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = frame_header(body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The header that frames a body of `length` bytes.
fn frame_header(length: usize) -> String {
    format!("Content-Length: {length}\r\n\r\n")
}

fn error_response(id: Value, code: i64, message: &str) -> Vec<u8> {
    let response = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    });
    frame(response.to_string().as_bytes())
}

/// The connection to the client: the input read (from stdin, or any stream in tests) and the
/// task that writes the output. [`serve`](Transport::serve) runs the session.
pub struct Transport<R> {
    reader: R,
    writer: JoinHandle<()>,
    outbox: Outbox,
    /// Counted for the stdio session only (see [`Queue::hold`]).
    unread: Option<Arc<Unread>>,
}

/// Input not yet applied: bytes the client wrote that the stdin thread has not read yet (when
/// `in_pipe` is watched), bytes it read that the session has not handed over, a message the
/// session holds only part of, changes handed over and not yet applied. While there is some,
/// a change may be about to make a publish stale (see [`Queue::hold`]).
#[derive(Debug, Default)]
struct Unread {
    /// The descriptor whose unread bytes count (stdin's), if any.
    in_pipe: Option<i32>,
    bytes: AtomicUsize,
    partial: AtomicBool,
    changes: AtomicUsize,
    /// Told each time the session has applied a change or handed over what it read: what
    /// [`Outbox::until_input_applied`] waits for.
    applied: tokio::sync::Notify,
}

impl Unread {
    fn any(&self) -> bool {
        self.bytes.load(Ordering::Acquire) > 0
            || self.partial.load(Ordering::Acquire)
            || self.changes.load(Ordering::Acquire) > 0
            || self.in_pipe.is_some_and(pending)
    }
}

/// Whether descriptor `fd` has bytes to read that no one has read yet. In a burst, on two
/// cores busy with the client writing and the session applying, the stdin thread may not run
/// before a publish is ready: the next change is then in the pipe, where only the kernel sees
/// it. False where unknown.
fn pending(fd: i32) -> bool {
    unread_bytes(fd).is_some_and(|bytes| bytes > 0)
}

/// How long a publish waits at most for unread input (see [`Queue::hold`]).
const MAX_HOLD: Duration = Duration::from_millis(1);

/// How often a held publish looks at the input again (see [`Queue::hold`]).
const HOLD_POLL: Duration = Duration::from_micros(10);

/// Sends the server's notifications to the output without going through tower-lsp (see the
/// module comment). Frames keep the order in which they were sent, except those replaced
/// before they were written (see [`Outbox::latest`]).
#[derive(Clone)]
pub struct Outbox {
    frames: mpsc::Sender<Out>,
    latest: Latest,
    /// Stdout, written here when nothing is queued (see [`Sink`]).
    sink: Option<Arc<Sink>>,
    /// The session's unread input: a publish is not written at once while there is some
    /// (the writer would hold it: see [`Queue::hold`]).
    unread: Option<Arc<Unread>>,
    /// How long [`Outbox::until_input_applied`] waits at most: [`MAX_HOLD`] (longer in
    /// tests, as `Queue::max_hold`).
    max_wait: Duration,
}

/// The frames queued under each key by [`Outbox::latest`], not yet written.
type Latest = Arc<Mutex<HashMap<String, Pending>>>;

/// Frames queued by [`Outbox::latest`]: dropped unwritten once `stale` is set.
struct Pending {
    frames: Vec<u8>,
    stale: Option<Arc<AtomicBool>>,
}

/// The output queue, as the writer reads it.
struct Queue {
    queue: mpsc::Receiver<Out>,
    latest: Latest,
    /// The session's unread input, for a writer that waits for it (see [`Queue::hold`]).
    unread: Option<Arc<Unread>>,
    /// How long it waits at most: [`MAX_HOLD`] (longer in tests, which then do not depend on
    /// how fast a loaded machine runs them).
    max_hold: Duration,
    /// Where it writes, when stdout is a pipe.
    sink: Option<Arc<Sink>>,
}

/// The output of a session: where frames are sent, and the queue the writer takes them from.
fn output(unread: Option<Arc<Unread>>, sink: Option<Arc<Sink>>) -> (Outbox, Queue) {
    let (frames, queue) = mpsc::channel(64);
    let latest = Latest::default();
    let outbox = Outbox {
        frames,
        latest: latest.clone(),
        sink: sink.clone(),
        unread: unread.clone(),
        max_wait: MAX_HOLD,
    };
    (
        outbox,
        Queue {
            queue,
            latest,
            unread,
            max_hold: MAX_HOLD,
            sink,
        },
    )
}

impl Queue {
    /// The next bytes to write; `None` at the end.
    async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            let out = self.queue.recv().await?;
            if let Some(bytes) = self.bytes_of(out)? {
                return Some(bytes);
            }
        }
    }

    /// [`next`](Self::next) for a thread of its own, which may wait for unread input before
    /// a publish (see [`hold`](Self::hold)).
    fn next_blocking(&mut self) -> Option<Vec<u8>> {
        loop {
            let out = self.queue.blocking_recv()?;
            if let Out::Latest(key) = &out {
                self.hold(key);
            }
            if let Some(bytes) = self.bytes_of(out)? {
                return Some(bytes);
            }
            if let Some(sink) = &self.sink {
                // Dropped: no longer ahead of anything.
                sink.dequeued();
            }
        }
    }

    /// Waits, up to [`MAX_HOLD`], while input is unread and the frames queued under `key` are
    /// of a version it may supersede: in a burst of changes the session is about to apply the
    /// next one, and a publish written now (tens of kilobytes at 10k lines) is one more for the
    /// client to read before the last version's. Dropped if superseded meanwhile, or replaced
    /// by the newer publish. A keystroke after a pause finds no input unread: no wait. It
    /// sleeps between looks: spinning took a core from the client and the stdin thread, on
    /// two cores. At 10k lines, of 100 bursts, 16-18 published more than once when it spun
    /// and did not look at the pipe, 12-16 when it slept and did not look, 3-5 when it slept
    /// and looked (two runs each).
    fn hold(&self, key: &str) {
        let Some(unread) = &self.unread else {
            return;
        };
        let Some(stale) = lock(&self.latest).get(key).and_then(|p| p.stale.clone()) else {
            return;
        };
        let started = Instant::now();
        while unread.any() && !stale.load(Ordering::Relaxed) && started.elapsed() < self.max_hold {
            std::thread::sleep(HOLD_POLL);
        }
    }

    /// The bytes `out` asks to write, if any (a mark whose frames were written with an earlier
    /// one, or are stale, has none); `None` to stop.
    fn bytes_of(&self, out: Out) -> Option<Option<Vec<u8>>> {
        Some(match out {
            Out::Frame(bytes) => Some(bytes),
            Out::Latest(key) => lock(&self.latest)
                .remove(&key)
                .filter(|p| !p.stale.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)))
                .map(|p| p.frames),
            Out::Stop => return None,
        })
    }
}

fn lock(latest: &Latest) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
    latest
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(serde::Serialize)]
struct Notification<'a, P> {
    jsonrpc: &'static str,
    method: &'a str,
    params: &'a P,
}

impl Outbox {
    /// Queues the notification `method` with `params`; false once the output is closed.
    pub async fn notify<P: serde::Serialize>(&self, method: &str, params: &P) -> bool {
        let Some(frame) = Self::frame(method, params) else {
            return false;
        };
        self.send_frame(frame).await
    }

    /// Writes `frame` at once when it can (see [`Sink`]), else queues it; false once the
    /// output is closed.
    async fn send_frame(&self, frame: Vec<u8>) -> bool {
        if self.sink.as_ref().is_some_and(|s| s.try_write(&frame)) {
            return true;
        }
        self.enqueue(Out::Frame(frame)).await
    }

    /// Queues `out` for the writer; false once the output is closed.
    async fn enqueue(&self, out: Out) -> bool {
        // Counted before it is queued: a frame written at once never passes one queued.
        if let Some(sink) = &self.sink {
            sink.queued();
        }
        let sent = self.frames.send(out).await.is_ok();
        if let Some(sink) = self.sink.as_ref().filter(|_| !sent) {
            sink.dequeued();
        }
        sent
    }

    /// The notification `method` with `params` as a frame; `None` (logged) if it cannot be
    /// serialised.
    pub fn frame<P: serde::Serialize>(method: &str, params: &P) -> Option<Vec<u8>> {
        Self::frame_with_room(method, params, 0)
    }

    /// [`frame`](Self::frame), in a buffer with room for `room` more bytes. The body is
    /// measured first, then written once into a buffer of its size after the header. Before,
    /// serde's growing buffer (copied as it grew), then a copy of it behind the header, was a
    /// quarter of a keystroke's publish at 10k lines (tens of kilobytes, under `perf`).
    pub fn frame_with_room<P: serde::Serialize>(
        method: &str,
        params: &P,
        room: usize,
    ) -> Option<Vec<u8>> {
        let message = Notification {
            jsonrpc: "2.0",
            method,
            params,
        };
        let written = (|| {
            let mut length = ByteCount(0);
            serde_json::to_writer(&mut length, &message)?;
            let header = frame_header(length.0);
            let mut out = Vec::with_capacity(header.len() + length.0 + room);
            out.extend_from_slice(header.as_bytes());
            serde_json::to_writer(&mut out, &message)?;
            // The same bytes both times: serialising is deterministic.
            debug_assert_eq!(out.len(), header.len() + length.0);
            Ok::<_, serde_json::Error>(out)
        })();
        written
            .inspect_err(|e| tracing::error!("cannot serialise {method}: {e}"))
            .ok()
    }

    /// Waits, up to [`MAX_HOLD`], while input not yet applied may supersede the version whose
    /// `superseded` this is: returns at once when there is none (a keystroke after a pause),
    /// or once it is applied or the version superseded. The outline pass waits here before
    /// its publish. In a burst that the server reads in pieces while the client still writes
    /// it, each piece's version was otherwise published (converted, serialised, written:
    /// ~0.1 ms at 10k lines) while the next piece waited in the pipe, and on two cores that
    /// work took a core from the client and from the session reading the next piece: the
    /// burst's last version waited up to a millisecond behind it.
    pub async fn until_input_applied(&self, superseded: &AtomicBool) {
        let Some(unread) = &self.unread else {
            return;
        };
        let waiting = async {
            loop {
                let applied = unread.applied.notified();
                tokio::pin!(applied);
                // Told from here on, even before it is awaited: nothing is missed between
                // the look below and the wait.
                applied.as_mut().enable();
                if !unread.any() || superseded.load(Ordering::Relaxed) {
                    return;
                }
                applied.await;
            }
        };
        // A message that stays incomplete, or a session that does not read (its handlers
        // all busy): published anyway.
        let _ = tokio::time::timeout(self.max_wait, waiting).await;
    }

    /// Queues `frames` (whole ones, see [`frame`](Self::frame)) under `key`, in place of those
    /// queued under it and not yet written: a document's diagnostics, whose every publish
    /// replaces the last. When the client reads slower than they come (a burst of keystrokes
    /// in a document with hundreds of diagnostics: tens of kilobytes each), only the newest is
    /// written, where the oldest of those it replaces was queued. They are dropped unwritten if
    /// `stale` is set by the time the writer comes to them (a newer version is on its way).
    /// False once the output is closed.
    pub async fn latest(&self, key: &str, frames: Vec<u8>, stale: Option<Arc<AtomicBool>>) -> bool {
        // Written at once when the writer would not hold it (see `Queue::hold`) and nothing
        // is queued ahead of it (a publish of `key` queued and not written is).
        let held = self.unread.as_ref().is_some_and(|u| u.any())
            || stale.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
        if !held && self.sink.as_ref().is_some_and(|s| s.try_write(&frames)) {
            return true;
        }
        let pending = Pending { frames, stale };
        if lock(&self.latest).insert(key.to_owned(), pending).is_some() {
            // Its mark is still queued.
            return !self.frames.is_closed();
        }
        self.enqueue(Out::Latest(key.to_owned())).await
    }
}

/// A writer that only counts the bytes written to it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Out {
    Frame(Vec<u8>),
    /// The frames queued under this key by [`Outbox::latest`], if not written already.
    Latest(String),
    /// Everything queued before this is written: stop.
    Stop,
}

/// Handler futures running at once; beyond this, the next starts (and input is read) only as
/// they finish (as tower-lsp's own loop bounds them), so a client that floods requests is
/// slowed down.
const MAX_IN_FLIGHT: usize = 64;

/// Messages held beyond this many bytes are handed over without waiting for the input to
/// pause.
const MAX_BATCH: usize = 1024 * 1024;

impl Transport<StdinReader> {
    /// On the process's stdin and stdout, each read or written by a thread of its own with
    /// plain blocking calls. tokio's `stdin()` and `stdout()` hand every read and write to its
    /// blocking pool (a thread wake each way): with a client that writes a burst of changes,
    /// the server fell behind by more than a keystroke's latency just reading them.
    pub fn stdio() -> Self {
        let (chunks, received) = mpsc::channel(64);
        let unread = Arc::new(Unread {
            in_pipe: Some(0),
            ..Unread::default()
        });
        let reading = {
            let unread = unread.clone();
            std::thread::Builder::new()
                .name("stdin".to_string())
                .spawn(move || read_stdin(chunks, &unread))
        };
        if let Err(e) = reading {
            tracing::error!("cannot start the stdin thread: {e}");
        }
        let stdin = StdinReader {
            chunks: received,
            current: Vec::new(),
            at: 0,
        };
        let (outbox, queue) = output(Some(unread.clone()), Sink::stdout());
        let writer = tokio::task::spawn_blocking(move || write_stdout(queue));
        Transport {
            reader: stdin,
            writer,
            outbox,
            unread: Some(unread),
        }
    }
}

impl<R: AsyncRead + Unpin> Transport<R> {
    /// On any async streams (test pipes).
    pub fn new<W: AsyncWrite + Unpin + Send + 'static>(reader: R, writer: W) -> Self {
        let (outbox, queue) = output(None, None);
        let writer = tokio::spawn(write_output(queue, writer));
        Transport {
            reader,
            writer,
            outbox,
            unread: None,
        }
    }

    /// Where the server's own notifications go.
    pub fn outbox(&self) -> Outbox {
        self.outbox.clone()
    }

    /// Runs the session: reads the input, hands each well-formed message to `service` (or,
    /// for a response, to tower-lsp's `client` half) and writes what comes back, until `exit`
    /// or the end of input. Then waits at most `limit` for the handlers still running and for
    /// the output to be written (the client may have stopped reading).
    ///
    /// Messages are handed over when no more input is ready (or [`MAX_BATCH`] bytes of them
    /// are held), in order: a burst of changes that arrived while the server was busy is
    /// taken as one batch, and its changes as one change (see `batch`). Nothing waits for
    /// input still to come. Each handler's future is first polled in that order, before any
    /// later one: a change is applied before a later request reads the document, as tower-lsp's
    /// own loop does.
    pub async fn serve<S, A>(
        self,
        mut service: S,
        changes: A,
        client: ClientSocket,
        limit: Duration,
    ) where
        S: Service<Request, Response = Option<Response>>,
        S::Error: std::fmt::Display,
        A: ApplyChange,
    {
        let Transport {
            mut reader,
            writer,
            outbox,
            unread,
        } = self;
        let (mut to_client, mut from_client) = client.split();
        let mut in_flight = FuturesUnordered::new();
        let mut input = Input::default();
        let mut chunk = vec![0; 64 * 1024];
        let mut reading = true;
        // A `shutdown` request was handed over: tower-lsp drops notifications from then on.
        let mut shut_down = false;
        let mut deadline = None;
        loop {
            if !reading && in_flight.is_empty() {
                break;
            }
            let stop = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    let Some(answer) = answer(done, &mut input.initialized) else {
                        continue;
                    };
                    if !outbox.send_frame(answer).await {
                        break;
                    }
                }
                Some(request) = to_client.next() => {
                    if let Ok(body) = serde_json::to_vec(&request) {
                        if !outbox.send_frame(frame(&body)).await {
                            break;
                        }
                    }
                }
                read = reader.read(&mut chunk), if reading && in_flight.len() < MAX_IN_FLIGHT => {
                    let mut read = read;
                    let mut consumed = 0;
                    // Everything ready now joins the batch.
                    loop {
                        match read {
                            Ok(0) => reading = false,
                            Ok(n) => {
                                consumed += n;
                                for reply in input.decode(&chunk[..n]) {
                                    let _ = outbox.send_frame(reply).await;
                                }
                                if input.bytes < MAX_BATCH {
                                    if let Some(more) = read_ready(&mut reader, &mut chunk).await {
                                        read = more;
                                        continue;
                                    }
                                }
                            }
                            Err(e) => {
                                tracing::error!("cannot read the input: {e}");
                                reading = false;
                            }
                        }
                        break;
                    }
                    if !reading {
                        input.ended();
                    }
                    if let Some(unread) = &unread {
                        unread.partial.store(!input.decoder.at_boundary(), Ordering::Release);
                    }
                    for message in input.take() {
                        let handled = match message {
                            Message::Request(request) => Either::Left(request),
                            Message::Change(change) if input.initialized && !shut_down => {
                                Either::Right(change)
                            }
                            Message::Change(_) => {
                                tracing::warn!("change dropped: the server is not initialized, or shut down");
                                continue;
                            }
                            Message::Response(response) => {
                                if let Err(e) = from_client.send(response).await {
                                    tracing::error!("{e}");
                                }
                                continue;
                            }
                        };
                        let method = match &handled {
                            Either::Left(request) => request.method(),
                            Either::Right(_) => "",
                        };
                        let exit = method == "exit";
                        shut_down |= method == "shutdown";
                        let ready = std::future::poll_fn(|cx| service.poll_ready(cx)).await;
                        if let Err(e) = ready {
                            tracing::error!("{e}");
                            reading = false;
                            break;
                        }
                        // The bound holds within a batch too: the next handler starts once one
                        // finishes.
                        while in_flight.len() >= MAX_IN_FLIGHT {
                            let Some(done) = in_flight.next().await else {
                                break;
                            };
                            if let Some(answer) = answer(done, &mut input.initialized) {
                                let _ = outbox.send_frame(answer).await;
                            }
                        }
                        in_flight.push(match handled {
                            Either::Left(request) => Either::Left(service.call(request)),
                            // Applied when first polled: in order with the handlers before and
                            // after it.
                            Either::Right(change) => {
                                let changes = changes.clone();
                                let unread = unread.clone();
                                if let Some(unread) = &unread {
                                    unread.changes.fetch_add(1, Ordering::AcqRel);
                                }
                                Either::Right(futures::future::lazy(move |_| {
                                    changes.apply_change(change);
                                    if let Some(unread) = unread {
                                        unread.changes.fetch_sub(1, Ordering::AcqRel);
                                        unread.applied.notify_waiters();
                                    }
                                    Ok(None)
                                }))
                            }
                        });
                        if exit {
                            // The rest is not read: some clients keep stdin open.
                            reading = false;
                            break;
                        }
                    }
                    if let Some(unread) = &unread {
                        // Handed over: what is left unread is what came since.
                        unread.bytes.fetch_sub(consumed, Ordering::AcqRel);
                        unread.applied.notify_waiters();
                    }
                    if !reading {
                        deadline = Some(tokio::time::Instant::now() + limit);
                    }
                }
                () = stop => {
                    tracing::warn!("{} handlers still running after {limit:?}: not waited for", in_flight.len());
                    break;
                }
                else => break,
            }
        }
        let flush = async {
            let _ = outbox.enqueue(Out::Stop).await;
            let _ = writer.await;
        };
        if tokio::time::timeout(limit, flush).await.is_err() {
            tracing::warn!("output not flushed within {limit:?}");
        }
    }
}

/// The frame to send for a finished handler, if it answers anything. The first successful
/// answer is `initialize`'s (before it, the only request the service is given): requests are
/// taken from then on.
fn answer<E: std::fmt::Display>(
    done: Result<Option<Response>, E>,
    initialized: &mut bool,
) -> Option<Vec<u8>> {
    let response = match done {
        Ok(response) => response?,
        Err(e) => {
            tracing::error!("{e}");
            return None;
        }
    };
    let (id, result) = response.into_parts();
    if result.is_ok() {
        *initialized = true;
    }
    let body = serde_json::to_vec(&Response::from_parts(id, result)).ok()?;
    Some(frame(&body))
}

/// The input side of a session: the decoder and the messages it found, not yet handed over.
#[derive(Default)]
struct Input {
    decoder: Decoder,
    batch: super::batch::Batch,
    /// Bytes read into `batch`.
    bytes: usize,
    /// `initialize` has succeeded (see [`Decoder::set_initialized`]).
    initialized: bool,
}

impl Input {
    /// Decodes `bytes` into the batch; returns the error responses to send for the messages
    /// that cannot be served.
    fn decode(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.bytes += bytes.len();
        self.decoder.push(bytes);
        let mut replies = Vec::new();
        loop {
            self.decoder.set_initialized(self.initialized);
            let Some(event) = self.decoder.next_event() else {
                break;
            };
            match event {
                Event::Message(message) => self.batch.push(message),
                Event::Reply { id, code, message } => {
                    tracing::warn!("answered request {id} with error {code}: {message}");
                    replies.push(error_response(id, code, &message));
                }
                Event::Skipped(why) => tracing::warn!("malformed input: {why}"),
            }
        }
        replies
    }

    /// The messages to hand over, in order, consecutive changes merged (see `batch`).
    fn take(&mut self) -> Vec<Message> {
        self.bytes = 0;
        self.batch.take()
    }

    /// The input ended.
    fn ended(&self) {
        if !self.decoder.at_boundary() {
            tracing::warn!("the input ended inside a message");
        }
        tracing::info!("end of input");
    }
}

/// A read of the bytes ready now, or `None` when nothing is (the task's waker is then
/// registered, as for any read that is pending).
async fn read_ready<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut [u8],
) -> Option<std::io::Result<usize>> {
    std::future::poll_fn(|cx| {
        let mut read = tokio::io::ReadBuf::new(buf);
        std::task::Poll::Ready(
            match std::pin::Pin::new(&mut *reader).poll_read(cx, &mut read) {
                std::task::Poll::Ready(Ok(())) => Some(Ok(read.filled().len())),
                std::task::Poll::Ready(Err(e)) => Some(Err(e)),
                std::task::Poll::Pending => None,
            },
        )
    })
    .await
}

/// Reads stdin into `chunks` until its end (or an error, passed on), counting the bytes as
/// unread.
fn read_stdin(chunks: mpsc::Sender<std::io::Result<Vec<u8>>>, unread: &Unread) {
    use std::io::Read;
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let read = match stdin.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = read.is_err();
        if let Ok(bytes) = &read {
            unread.bytes.fetch_add(bytes.len(), Ordering::AcqRel);
        }
        if chunks.blocking_send(read).is_err() || failed {
            return;
        }
    }
}

/// The chunks the stdin thread read, as an `AsyncRead`.
pub struct StdinReader {
    chunks: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl AsyncRead for StdinReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        loop {
            if self.at < self.current.len() {
                let n = buf.remaining().min(self.current.len() - self.at);
                let at = self.at;
                buf.put_slice(&self.current[at..at + n]);
                self.at += n;
                return Poll::Ready(Ok(()));
            }
            match self.chunks.poll_recv(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                // The end of input.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// [`write_output`] to stdout with blocking writes, on a thread the whole session: through
/// the [`Sink`] when stdout is a pipe, which others write too.
fn write_stdout(mut queue: Queue) {
    use std::io::Write;
    enum Stdout {
        Shared(Arc<Sink>),
        Own(std::io::StdoutLock<'static>),
    }
    let mut stdout = match queue.sink.clone() {
        Some(sink) => Stdout::Shared(sink),
        None => Stdout::Own(std::io::stdout().lock()),
    };
    while let Some(frame) = queue.next_blocking() {
        let written = match &mut stdout {
            Stdout::Shared(sink) => {
                let written = sink.write(&frame);
                sink.dequeued();
                written
            }
            Stdout::Own(stdout) => stdout.write_all(&frame).and_then(|_| stdout.flush()),
        };
        if let Err(e) = written {
            tracing::error!("cannot write the output: {e}");
            return;
        }
    }
}

/// The only writer of the output: whole frames, one at a time.
async fn write_output<W: AsyncWrite + Unpin>(mut queue: Queue, mut writer: W) {
    while let Some(frame) = queue.next().await {
        let written = async {
            writer.write_all(&frame).await?;
            writer.flush().await
        };
        if let Err(e) = written.await {
            tracing::error!("cannot write the output: {e}");
            return;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The events `input` gives once the server is initialized.
    fn events(input: &[u8]) -> Vec<Event> {
        let mut decoder = Decoder::new();
        decoder.set_initialized(true);
        decoder.push(input);
        std::iter::from_fn(|| decoder.next_event()).collect()
    }

    fn message(body: &str) -> Vec<u8> {
        frame(body.as_bytes())
    }

    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;
    /// An `initialize` the server accepts.
    const INIT_OK: &str =
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;

    /// A message as JSON with sorted keys, to compare with what was sent.
    fn canonical(json: &str) -> String {
        serde_json::from_str::<Value>(json).unwrap().to_string()
    }

    /// `json` as the session takes it (see [`validate`]).
    pub(crate) fn parsed(json: &str) -> Message {
        match validate(json.as_bytes().to_vec(), true) {
            Event::Message(message) => message,
            other => panic!("not a message: {other:?}"),
        }
    }

    fn kinds(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Message(Message::Request(r)) => {
                    format!("message {}", serde_json::to_value(r).unwrap())
                }
                Event::Message(Message::Response(r)) => {
                    format!("message {}", serde_json::to_value(r).unwrap())
                }
                Event::Message(Message::Change(c)) => {
                    format!("change {}", serde_json::to_value(c).unwrap())
                }
                Event::Reply { id, code, .. } => format!("reply {id} {code}"),
                Event::Skipped(_) => "skipped".to_string(),
            })
            .collect()
    }

    #[test]
    fn well_formed_messages_pass_whole_even_byte_by_byte() {
        let mut input = message(INIT);
        input.extend(message(
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        let mut decoder = Decoder::new();
        let mut got = Vec::new();
        for b in &input {
            decoder.push(&[*b]);
            got.extend(std::iter::from_fn(|| decoder.next_event()));
        }
        assert_eq!(got.len(), 2, "{:?}", kinds(&got));
        assert_eq!(got[0], Event::Message(parsed(INIT)));
        assert!(decoder.at_boundary());
    }

    #[test]
    fn header_variants() {
        let body = INIT;
        let input = format!(
            "content-length:{}\nContent-Type: application/vscode-jsonrpc; charset=utf8\n\n{body}",
            body.len()
        );
        assert_eq!(
            kinds(&events(input.as_bytes())),
            [format!("message {}", canonical(body))]
        );
    }

    #[test]
    fn bad_bodies_are_answered_when_the_id_is_known() {
        let cases = [
            ("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\",", "skipped"),
            ("not json", "skipped"),
            ("[1,2]", "skipped"),
            ("42", "skipped"),
            (
                "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"x\"}",
                "reply 7 -32600",
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":5}",
                "reply \"a\" -32600",
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
                "skipped",
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":1,\"error\":{}} x",
                "skipped",
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\"} trailing",
                "reply 3 -32700",
            ),
            (
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"$/unknown\"}",
                "reply 4 -32601",
            ),
            ("", "skipped"),
        ];
        for (body, want) in cases {
            assert_eq!(kinds(&events(&message(body))), [want], "{body:?}");
        }
        let mut invalid = br#"{"jsonrpc":"2.0","id":9,"method":"x","params":""#.to_vec();
        invalid.extend([0xff, 0xfe, b'"', b'}']);
        assert_eq!(kinds(&events(&frame(&invalid))), ["reply 9 -32700"]);
    }

    #[test]
    fn before_initialize_only_initialize_requests_pass() {
        let mut decoder = Decoder::new();
        let mut input = Vec::new();
        for body in [
            r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"unknown/method"}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"$/unknown"}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"shutdown","params":{"x":1}}"#,
            r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{}}"#,
            r#"{"jsonrpc":"2.0","method":"exit"}"#,
            r#"{"jsonrpc":"2.0","id":"x","result":null}"#,
            r#"{"jsonrpc":"2.0","id":6,"method":"x"} trailing"#,
            INIT,
        ] {
            input.extend(message(body));
        }
        decoder.push(&input);
        let got: Vec<Event> = std::iter::from_fn(|| decoder.next_event()).collect();
        assert_eq!(
            kinds(&got),
            [
                "reply 2 -32002",
                "reply 3 -32002",
                "reply 4 -32002",
                "reply 5 -32002",
                &format!(
                    "message {}",
                    canonical(r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{}}"#)
                ),
                &format!(
                    "message {}",
                    canonical(r#"{"jsonrpc":"2.0","method":"exit"}"#)
                ),
                &format!(
                    "message {}",
                    canonical(r#"{"jsonrpc":"2.0","id":"x","result":null}"#)
                ),
                "reply 6 -32700",
                &format!("message {}", canonical(INIT)),
            ]
        );
    }

    #[test]
    fn valid_messages_of_every_kind_pass() {
        for body in [
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":"x","result":null}"#,
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"m"}}"#,
            r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#,
            r#"{"jsonrpc":"2.0","method":"$/unknownNotification"}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"unknown/method"}"#,
        ] {
            assert_eq!(
                kinds(&events(&message(body))),
                [format!("message {}", canonical(body))],
                "{body}"
            );
        }
    }

    /// A change tower-lsp would deliver is typed at once; anything else that looks like one
    /// takes the general path, and is refused or delivered as tower-lsp would.
    #[test]
    fn changes_are_typed_when_tower_lsp_would_deliver_them() {
        let params = r#"{"textDocument":{"uri":"file:///a.md","version":2},"contentChanges":[{"text":"\ud83d x"}]}"#;
        let with = |head: &str| format!(r#"{{"jsonrpc":"2.0",{head}"params":{params}}}"#);
        let mut input = Vec::new();
        for head in [
            r#""method":"textDocument/didChange","#,
            // An id makes it a request, even a null one.
            r#""id":null,"method":"textDocument/didChange","#,
            r#""id":4,"method":"textDocument/didChange","#,
            r#""method":"textDocument/didChangeWatchedFiles","#,
            r#""jsonrpc":"1.0","method":"textDocument/didChange","#,
        ] {
            input.extend(message(&with(head)));
        }
        // No version: tower-lsp would refuse the parameters.
        input.extend(message(
            r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///a.md"},"contentChanges":[]}}"#,
        ));
        expect_test::expect![[r#"
            [
                "change {\"contentChanges\":[{\"text\":\"� x\"}],\"textDocument\":{\"uri\":\"file:///a.md\",\"version\":2}}",
                "message {\"id\":null,\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{\"contentChanges\":[{\"text\":\"� x\"}],\"textDocument\":{\"uri\":\"file:///a.md\",\"version\":2}}}",
                "message {\"id\":4,\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{\"contentChanges\":[{\"text\":\"� x\"}],\"textDocument\":{\"uri\":\"file:///a.md\",\"version\":2}}}",
                "message {\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChangeWatchedFiles\",\"params\":{\"contentChanges\":[{\"text\":\"� x\"}],\"textDocument\":{\"uri\":\"file:///a.md\",\"version\":2}}}",
                "skipped",
                "message {\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{\"contentChanges\":[],\"textDocument\":{\"uri\":\"file:///a.md\"}}}",
            ]
        "#]]
        .assert_debug_eq(&kinds(&events(&input)));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""a\ud83d""#), r#""a\uFFFD""#);
        assert_eq!(replace_lone_surrogates(r#""\ude00b""#), r#""\uFFFDb""#);
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ud83d\ude00""#),
            r#""\uFFFD\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\\ud83d""#), r#""\\ud83d""#);
        assert_eq!(replace_lone_surrogates(r#""é\\\ud83d""#), r#""é\\\uFFFD""#);
        assert_eq!(
            replace_lone_surrogates(r#""\u00e9\ud8""#),
            r#""\u00e9\ud8""#
        );
        // A backslash at the very end (not JSON; the parse then says so).
        assert_eq!(replace_lone_surrogates("\"a\\"), "\"a\\");
        assert_eq!(replace_lone_surrogates("\\"), "\\");
        assert_eq!(replace_lone_surrogates(r#""\ud83d\"#), r#""\uFFFD\"#);
        let body = r#"{"jsonrpc":"2.0","method":"x","params":{"text":"\ud83d"}}"#;
        let [Event::Message(Message::Request(got))] = &events(&message(body))[..] else {
            panic!("not forwarded");
        };
        assert_eq!(got.params().unwrap()["text"], "\u{fffd}");
    }

    /// Every position looked at, one byte after another: what the scan that jumps from one
    /// backslash to the next must agree with.
    fn lone_surrogates_replaced_byte_by_byte(json: &str) -> String {
        let bytes = json.as_bytes();
        let unit_at = |i: usize| -> Option<u16> {
            let hex = json
                .get(i + 2..i + 6)
                .filter(|_| json[i..].starts_with("\\u"))?;
            u16::from_str_radix(hex, 16).ok()
        };
        let surrogate = |u: u16| (0xD800..0xE000).contains(&u);
        let (mut out, mut i) = (String::new(), 0);
        while i < bytes.len() {
            if bytes[i] != b'\\' {
                let c = json[i..].chars().next().expect("a char boundary");
                out.push(c);
                i += c.len_utf8();
                continue;
            }
            match unit_at(i) {
                Some(high @ 0xD800..0xDC00)
                    if unit_at(i + 6).is_some_and(|l| (0xDC00..0xE000).contains(&l)) =>
                {
                    let _ = high;
                    out.push_str(&json[i..i + 12]);
                    i += 12;
                }
                Some(u) if surrogate(u) => {
                    out.push_str("\\uFFFD");
                    i += 6;
                }
                Some(_) => {
                    out.push_str(&json[i..i + 6]);
                    i += 6;
                }
                None => {
                    let end = (i + 2).min(bytes.len());
                    let end = (end..=bytes.len())
                        .find(|&e| json.is_char_boundary(e))
                        .unwrap_or(bytes.len());
                    out.push_str(&json[i..end]);
                    i = end;
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn lone_surrogates_are_found_wherever_they_are(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\\", "u", "\"", "d", "D", "8", "e", "c", "0", "f", "9", "a", "é",
                    r"\ud83d", r"\uD800", r"\ude00", r"\uDFFF", r"\udc0a", r"\u00e9",
                ]),
                0..24,
            )
        ) {
            let json = pieces.concat();
            proptest::prop_assert_eq!(
                replace_lone_surrogates(&json).into_owned(),
                lone_surrogates_replaced_byte_by_byte(&json)
            );
        }
    }

    #[test]
    fn bad_headers_are_skipped_and_the_next_message_is_read() {
        let good = message(INIT);
        let cases: Vec<Vec<u8>> = vec![
            // No Content-Length, body glued to the next header.
            format!("Content-Type: x\r\n\r\n{INIT}").into_bytes(),
            // Not a number.
            format!("Content-Length: abc\r\n\r\n{INIT}").into_bytes(),
            // Too large: not read, the stream resynchronises on the next header.
            format!("Content-Length: 99999999999999\r\n\r\n{INIT}").into_bytes(),
            format!("Content-Length: {}\r\n\r\n{INIT}", usize::MAX).into_bytes(),
            // Garbage lines, an over-long line, binary.
            b"garbage\r\nmore garbage\r\n".to_vec(),
            vec![b'x'; 3 * MAX_HEADER_LINE],
            vec![0, 159, 146, 150, b'\n'],
            // A length shorter than the body: the rest is garbage until the next header.
            format!("Content-Length: 10\r\n\r\n{INIT}").into_bytes(),
            // A header block broken by garbage.
            b"Content-Length: 5\r\nnot a header\r\n\r\n12345".to_vec(),
        ];
        for mut input in cases {
            let shown = String::from_utf8_lossy(&input[..input.len().min(80)]).into_owned();
            input.extend(&good);
            let got = events(&input);
            assert!(
                got.iter().any(|e| matches!(e, Event::Skipped(_))),
                "{shown:?}: {:?}",
                kinds(&got)
            );
            assert_eq!(
                got.last(),
                Some(&Event::Message(parsed(INIT))),
                "{shown:?}: {:?}",
                kinds(&got)
            );
        }
    }

    #[test]
    fn a_huge_length_allocates_nothing() {
        let mut decoder = Decoder::new();
        decoder.push(b"Content-Length: 68719476736\r\n\r\n");
        assert!(matches!(decoder.next_event(), Some(Event::Skipped(_))));
        for _ in 0..100 {
            decoder.push(&[b'x'; 4096]);
            assert_eq!(decoder.next_event(), None);
            assert!(decoder.buf.len() - decoder.start <= MAX_HEADER_LINE + 4096);
        }
    }

    /// A session of the real server over in-memory pipes: the client's write end, the
    /// client's read end, and the session's task.
    fn session() -> (
        tokio::io::DuplexStream,
        tokio::io::DuplexStream,
        JoinHandle<()>,
    ) {
        let (client, server_stdin) = tokio::io::duplex(4096);
        let (server_stdout, client_out) = tokio::io::duplex(64 * 1024);
        let transport = Transport::new(server_stdin, server_stdout);
        let outbox = transport.outbox();
        let (service, socket) = tower_lsp_server::LspService::new(|client| {
            super::super::server::Backend::new(client, outbox)
        });
        let changes = service.inner().clone();
        let serving =
            tokio::spawn(transport.serve(service, changes, socket, Duration::from_secs(5)));
        (client, client_out, serving)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_frames_are_answered_and_good_ones_served() {
        let (mut client, mut client_out, serving) = session();
        let mut input = message(r#"{"jsonrpc":"2.0","id":1,"method":"x"} oops"#);
        input.extend(message(INIT_OK));
        client.write_all(&input).await.unwrap();
        assert!(next_body(&mut client_out)
            .await
            .contains(r#""code":-32700"#));
        assert!(next_body(&mut client_out)
            .await
            .contains(r#""capabilities""#));
        // The end of input ends the session.
        drop(client);
        serving.await.unwrap();
    }

    /// The outbox of a session whose output is a pipe of `capacity` bytes, and the client's
    /// end of that pipe.
    fn outbox(capacity: usize) -> (Outbox, tokio::io::DuplexStream) {
        let (_, server_stdin) = tokio::io::duplex(1);
        let (server_stdout, client_out) = tokio::io::duplex(capacity);
        (
            Transport::new(server_stdin, server_stdout).outbox(),
            client_out,
        )
    }

    #[tokio::test]
    async fn the_outbox_writes_notifications_as_frames() {
        let (outbox, mut client_out) = outbox(1024);
        assert!(outbox.notify("a/b", &json!({ "x": "é\n" })).await);
        assert!(outbox.notify("c", &[1, 2]).await);
        assert_eq!(
            next_body(&mut client_out).await,
            r#"{"jsonrpc":"2.0","method":"a/b","params":{"x":"é\n"}}"#
        );
        assert_eq!(
            next_body(&mut client_out).await,
            r#"{"jsonrpc":"2.0","method":"c","params":[1,2]}"#
        );
    }

    /// A publish queued while the writer is held up (the client is not reading) is replaced by
    /// a later one under the same key: the client reads the newest only, in the place of the
    /// first; the other frames keep their order. One that is stale when the writer comes to
    /// it is dropped.
    #[tokio::test]
    async fn a_slow_reader_gets_the_newest_publish_only() {
        let (outbox, mut client_out) = outbox(64);
        // More than the pipe holds: the writer waits for the client.
        assert!(outbox.notify("first", &"x".repeat(1000)).await);
        let publish = |n: i32| Outbox::frame("publish", &n).unwrap();
        assert!(outbox.latest("a", publish(1), None).await);
        assert!(outbox.notify("between", &0).await);
        assert!(outbox.latest("a", publish(2), None).await);
        assert!(outbox.latest("b", publish(10), None).await);
        assert!(outbox.latest("a", publish(3), None).await);
        // Superseded before the writer comes to it: dropped.
        let stale = Arc::new(AtomicBool::new(false));
        assert!(outbox.latest("c", publish(20), Some(stale.clone())).await);
        stale.store(true, Ordering::Relaxed);
        assert!(outbox.notify("last", &0).await);
        let mut bodies = Vec::new();
        for _ in 0..5 {
            let body: Value = serde_json::from_str(&next_body(&mut client_out).await).unwrap();
            bodies.push(format!("{} {}", body["method"], body["params"]).replace('x', ""));
        }
        expect_test::expect![[r#"
            [
                "\"first\" \"\"",
                "\"publish\" 3",
                "\"between\" 0",
                "\"publish\" 10",
                "\"last\" 0",
            ]
        "#]]
        .assert_debug_eq(&bodies);
    }

    /// While input is unread (a change on its way), the stdio writer holds a publish that
    /// may be superseded: dropped when the change makes it stale, written after
    /// [`MAX_HOLD`] at the latest; without unread input, written at once.
    #[test]
    fn a_publish_waits_briefly_for_unread_input() {
        let publish = |n: i32| Outbox::frame("publish", &n).unwrap();
        let unread = Arc::new(Unread::default());
        let (outbox, mut queue) = output(Some(unread.clone()), None);
        let stale = Arc::new(AtomicBool::new(false));
        unread.bytes.store(100, Ordering::Release);
        use futures::executor::block_on;
        assert!(block_on(outbox.latest(
            "a",
            publish(1),
            Some(stale.clone())
        )));
        assert!(block_on(outbox.notify("next", &0)));
        queue.max_hold = Duration::from_secs(60);
        let writer = std::thread::spawn(move || {
            let first = queue.next_blocking();
            (first, queue)
        });
        // The change is applied: the publish is stale.
        std::thread::sleep(Duration::from_micros(300));
        stale.store(true, Ordering::Release);
        let (first, mut queue) = writer.join().unwrap();
        assert_eq!(first, Some(Outbox::frame("next", &0).unwrap()));
        queue.max_hold = MAX_HOLD;
        // Never stale: written once the wait is over.
        assert!(block_on(outbox.latest(
            "a",
            publish(2),
            Some(Arc::default())
        )));
        let started = Instant::now();
        assert_eq!(queue.next_blocking(), Some(publish(2)));
        assert!(started.elapsed() >= MAX_HOLD);
        // Nothing unread: no wait.
        unread.bytes.store(0, Ordering::Release);
        assert!(block_on(outbox.latest(
            "a",
            publish(3),
            Some(Arc::default())
        )));
        assert_eq!(queue.next_blocking(), Some(publish(3)));
    }

    /// A notification's frame is the body serde writes behind its length, in a buffer with
    /// the room asked for.
    #[test]
    fn a_frame_is_measured_then_written_once() {
        let params = json!({ "text": "😀 中\r\n\"quoted\" \u{1}", "n": [1, 2.5, null] });
        let framed = Outbox::frame_with_room("m", &params, 100).unwrap();
        let body = json!({ "jsonrpc": "2.0", "method": "m", "params": params });
        assert_eq!(framed, frame(&serde_json::to_vec(&body).unwrap()));
        assert!(framed.capacity() >= framed.len() + 100);
        assert_eq!(Outbox::frame("m", &params).unwrap(), framed);
    }

    /// The outline pass's wait before it publishes: none without unread input; with some,
    /// until the session has applied it all (each time it says so, the input is looked at
    /// again) or the version is superseded; at most the limit.
    #[tokio::test]
    async fn a_publish_to_be_made_waits_for_input_not_yet_applied() {
        use futures::FutureExt;
        let unread = Arc::new(Unread::default());
        let (mut outbox, _queue) = output(Some(unread.clone()), None);
        outbox.max_wait = Duration::from_secs(60);
        let superseded = AtomicBool::new(false);
        assert!(outbox
            .until_input_applied(&superseded)
            .now_or_never()
            .is_some());

        unread.changes.store(2, Ordering::Release);
        let mut waiting = Box::pin(outbox.until_input_applied(&superseded));
        assert!(futures::poll!(&mut waiting).is_pending());
        // One of two applied: still waiting.
        unread.changes.store(1, Ordering::Release);
        unread.applied.notify_waiters();
        assert!(futures::poll!(&mut waiting).is_pending());
        // Nothing left: done, without waiting for the limit.
        unread.changes.store(0, Ordering::Release);
        unread.applied.notify_waiters();
        assert!(futures::poll!(&mut waiting).is_ready());
        drop(waiting);

        // Superseded by a change it applied, with input still unread.
        unread.bytes.store(100, Ordering::Release);
        let mut waiting = Box::pin(outbox.until_input_applied(&superseded));
        assert!(futures::poll!(&mut waiting).is_pending());
        superseded.store(true, Ordering::Release);
        unread.applied.notify_waiters();
        assert!(futures::poll!(&mut waiting).is_ready());
        drop(waiting);

        // Never applied: over after the limit.
        superseded.store(false, Ordering::Release);
        outbox.max_wait = MAX_HOLD;
        let started = Instant::now();
        outbox.until_input_applied(&superseded).await;
        assert!(started.elapsed() >= MAX_HOLD);
    }

    /// Bytes in a pipe that no one has read count as unread input.
    #[cfg(unix)]
    #[test]
    fn bytes_left_in_a_pipe_are_unread_input() {
        let mut fds = [0; 2];
        // SAFETY: `pipe` fills the two descriptors it is given; they are closed below.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let [read_end, write_end] = fds;
        let unread = Unread {
            in_pipe: Some(read_end),
            ..Unread::default()
        };
        assert!(!unread.any());
        // SAFETY: writes the 3 bytes of a 3-byte buffer to the pipe's open write end.
        let written = unsafe { libc::write(write_end, b"abc".as_ptr().cast(), 3) };
        assert_eq!(written, 3);
        assert!(unread.any());
        let mut buf = [0u8; 3];
        // SAFETY: reads at most 3 bytes into a 3-byte buffer from the pipe's open read end.
        let read = unsafe { libc::read(read_end, buf.as_mut_ptr().cast(), 3) };
        assert_eq!(read, 3);
        assert!(!unread.any());
        // SAFETY: both descriptors are open and closed once.
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        // No descriptor: nothing to read (and no error).
        assert!(!pending(-1));
    }

    /// The next frame's body from `from`.
    async fn next_body(from: &mut tokio::io::DuplexStream) -> String {
        let mut headers = Vec::new();
        while !headers.ends_with(b"\r\n\r\n") {
            headers.push(from.read_u8().await.unwrap());
        }
        let len: usize = std::str::from_utf8(&headers)
            .unwrap()
            .trim()
            .strip_prefix("Content-Length: ")
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0; len];
        from.read_exact(&mut body).await.unwrap();
        String::from_utf8(body).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_wait_for_a_successful_initialize() {
        let (mut client, mut client_out, serving) = session();
        let unknown = r#"{"jsonrpc":"2.0","id":2,"method":"joint/unknown"}"#;

        // Answered here, not served.
        client.write_all(&message(unknown)).await.unwrap();
        assert!(next_body(&mut client_out)
            .await
            .contains(r#""code":-32002"#));
        // A failed `initialize` (its parameters are not an object) changes nothing.
        let bad_init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":5}"#;
        client.write_all(&message(bad_init)).await.unwrap();
        assert!(next_body(&mut client_out).await.contains(r#""error""#));
        client.write_all(&message(unknown)).await.unwrap();
        assert!(next_body(&mut client_out)
            .await
            .contains(r#""code":-32002"#));
        // A successful one: requests are served from then on (this one is unknown to
        // tower-lsp).
        client.write_all(&message(INIT_OK)).await.unwrap();
        assert!(next_body(&mut client_out)
            .await
            .contains(r#""capabilities""#));
        client.write_all(&message(unknown)).await.unwrap();
        assert!(next_body(&mut client_out)
            .await
            .contains(r#""code":-32601"#));
        // `exit` ends the session though the input stays open.
        let exit = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        client.write_all(&message(exit)).await.unwrap();
        serving.await.unwrap();
    }

    /// [`session`] after a successful `initialize`.
    async fn initialized_session() -> (
        tokio::io::DuplexStream,
        tokio::io::DuplexStream,
        JoinHandle<()>,
    ) {
        let (mut client, mut client_out, serving) = session();
        client.write_all(&message(INIT_OK)).await.unwrap();
        next_body(&mut client_out).await;
        (client, client_out, serving)
    }

    /// A framed `didOpen` of `text` as version 1.
    fn did_open(uri: &str, text: &str) -> Vec<u8> {
        message(
            &json!({
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": { "textDocument": {
                    "uri": uri, "languageId": "markdown", "version": 1, "text": text
                } }
            })
            .to_string(),
        )
    }

    /// More requests in one read than may run at once: each is answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_requests_is_answered_in_full() {
        let (mut client, mut client_out, serving) = initialized_session().await;
        let uri = "file:///review.md";
        let mut input = did_open(uri, "# T\n\n## Goals\n");
        let n = 3 * MAX_IN_FLIGHT;
        for id in 0..n {
            input.extend(message(
                &json!({
                    "jsonrpc": "2.0",
                    "id": 100 + id,
                    "method": "textDocument/hover",
                    "params": { "textDocument": { "uri": uri }, "position": { "line": 2, "character": 4 } }
                })
                .to_string(),
            ));
        }
        client.write_all(&input).await.unwrap();
        let mut answered = std::collections::BTreeSet::new();
        let all = async {
            while answered.len() < n {
                let body: Value = serde_json::from_str(&next_body(&mut client_out).await).unwrap();
                if let Some(id) = body["id"].as_u64() {
                    assert!(body.get("result").is_some(), "{body}");
                    answered.insert(id);
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), all)
            .await
            .expect("every request answered");
        assert_eq!(answered.len(), n);
        drop(client);
        serving.await.unwrap();
    }

    /// Changes read together are applied in order, as one: what a request after them sees
    /// is the text all of them made.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_changes_is_applied_in_order() {
        let (mut client, mut client_out, serving) = initialized_session().await;
        let uri = "file:///review.md";
        let mut input = did_open(uri, "# T\n\n## \n");
        for (i, c) in "Goals".chars().enumerate() {
            let at = json!({ "line": 2, "character": 3 + i });
            input.extend(message(
                &json!({
                    "jsonrpc": "2.0",
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": { "uri": uri, "version": 2 + i },
                        "contentChanges": [{ "range": { "start": at, "end": at }, "text": c.to_string() }]
                    }
                })
                .to_string(),
            ));
        }
        input.extend(message(
            &json!({
                "jsonrpc": "2.0",
                "id": 9,
                "method": "textDocument/documentSymbol",
                "params": { "textDocument": { "uri": uri } }
            })
            .to_string(),
        ));
        client.write_all(&input).await.unwrap();
        let answer = loop {
            let body = next_body(&mut client_out).await;
            if body.contains(r#""id":9"#) {
                break body;
            }
        };
        assert!(answer.contains(r#""name":"Goals""#), "{answer}");
        drop(client);
        serving.await.unwrap();
    }
}
