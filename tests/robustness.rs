//! Robustness: nothing a client or a document sends crashes, hangs, corrupts or leaks. The
//! compiled server is driven over stdio (see `support/mod.rs`), with raw bytes where a test
//! needs malformed frames.
//!
//! Sections follow the issue: the protocol lifecycle and error codes, malformed frames,
//! documents and positions, pathological Markdown (timed: the bound is a hang detector; the
//! real timings are printed, see `--nocapture`), memory after 1000 documents.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{framed, position, with_code, Doc, Encoding, Server};

const URI: &str = "file:///work/docs/joint-review.md";

/// A small document with one `[Project]` placeholder on line 2 (a template-text diagnostic).
const SMALL: &str = "# Joint-review of Widget\n\nSee [Project] here.\n\n## Metadata\n\ntext\n";

/// Any single request that proves the server still reads and answers: hover on a document
/// that is not open gets an error, but an answer.
fn assert_alive(server: &mut Server) {
    let answer = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nowhere.md" }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(answer.is_err(), "hover on a closed document: {answer:?}");
}

fn code(error: &Value) -> i64 {
    error["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {error}"))
}

fn hover_params(uri: &str, line: u64, character: u64) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// A request body with a chosen id, as text.
fn request_text(id: i64, method: &str, params: &Value) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string()
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Protocol
// ---------------------------------------------------------------------------------------------

#[test]
fn requests_before_initialize_get_not_initialized_and_notifications_are_dropped() {
    let mut server = Server::spawn();
    // Every request, known, unknown, `$/` or malformed in its parameters.
    let requests = [
        ("textDocument/hover", hover_params(URI, 0, 0)),
        (
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": URI } }),
        ),
        ("joint/unknown", json!({})),
        ("$/unknownRequest", json!(null)),
        ("textDocument/hover", json!({ "textDocument": 5 })),
        ("shutdown", Value::Null),
        ("shutdown", json!({ "unexpected": true })),
    ];
    for (method, params) in &requests {
        let error = server.request(method, params.clone()).unwrap_err();
        assert_eq!(code(&error), -32002, "{method} {params}: {error}");
    }
    server.notify("joint/unknownNotification", json!({}));
    server.notify("$/setTrace", json!({ "value": "verbose" }));
    server.did_open(URI, 1, SMALL);
    // The session applies changes itself: it drops them as tower-lsp would.
    server.did_change(URI, 2, vec![json!({ "text": "# T\n" })]);
    server.wait_stderr("the early change dropped", |e| e.contains("change dropped"));
    // A failed initialize (wrong parameter types) leaves the server uninitialized ...
    let error = server
        .request("initialize", json!({ "capabilities": "none" }))
        .unwrap_err();
    assert_eq!(code(&error), -32602, "{error}");
    let error = server.request("joint/unknown", json!({})).unwrap_err();
    assert_eq!(code(&error), -32002, "after a failed initialize: {error}");
    // ... and a good one then works.
    server
        .request("initialize", Server::init_params(None, None))
        .unwrap_or_else(|e| server.fail(&format!("initialize after a failed one: {e}")));
    server.notify("initialized", json!({}));
    let error = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": URI } }),
        )
        .unwrap_err();
    assert_eq!(
        code(&error),
        -32602,
        "the early didOpen was dropped: {error}"
    );
    assert!(server.publishes(URI).is_empty());
    // Now unknown requests are unknown.
    for method in ["joint/unknown", "$/unknownRequest"] {
        let error = server.request(method, json!({})).unwrap_err();
        assert_eq!(code(&error), -32601, "{method}: {error}");
    }
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn a_second_initialize_is_refused() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let error = server
        .request("initialize", Server::init_params(None, None))
        .unwrap_err();
    assert_eq!(code(&error), -32600, "{error}");
    assert_alive(&mut server);
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn requests_after_shutdown_are_invalid_and_exit_ends_with_zero() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, SMALL);
    server.wait_publish(URI, 1);
    assert_eq!(server.request("shutdown", Value::Null), Ok(Value::Null));
    let error = server
        .request("textDocument/hover", hover_params(URI, 0, 2))
        .unwrap_err();
    assert_eq!(code(&error), -32600, "{error}");
    // A change after `shutdown` is dropped, as tower-lsp drops notifications then.
    server.did_change(URI, 2, vec![json!({ "text": "# T\n" })]);
    server.wait_stderr("the late change dropped", |e| e.contains("change dropped"));
    let error = server.request("shutdown", Value::Null).unwrap_err();
    assert_eq!(code(&error), -32600, "{error}");
    // Unknown methods stay unknown.
    for method in ["joint/unknown", "$/unknownRequest"] {
        let error = server.request(method, json!({})).unwrap_err();
        assert_eq!(code(&error), -32601, "{method}: {error}");
    }
    // stdin stays open: `exit` alone must end the process.
    server.notify("exit", Value::Null);
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

#[test]
fn exit_without_shutdown_ends_with_one_even_before_initialize() {
    let mut server = Server::spawn();
    server.notify("exit", Value::Null);
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{}", server.stderr());

    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, SMALL);
    server.notify("exit", Value::Null);
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{}", server.stderr());
}

#[test]
fn end_of_input_ends_the_process_even_inside_a_message() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.send_raw(b"Content-Length: 100\r\n\r\n{\"jsonrpc\":");
    server.close_stdin();
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{}", server.stderr());
}

#[test]
fn unknown_methods_get_method_not_found_and_unknown_notifications_are_ignored() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    for method in [
        "joint/unknown",
        "$/unknownRequest",
        "textDocument/noSuchThing",
    ] {
        let error = server.request(method, json!({})).unwrap_err();
        assert_eq!(code(&error), -32601, "{method}: {error}");
    }
    server.notify("joint/unknownNotification", json!({ "x": 1 }));
    server.notify("$/unknownNotification", json!(null));
    server.notify("$/setTrace", json!({ "value": "verbose" }));
    server.notify("$/cancelRequest", json!({ "id": 12345 }));
    assert_alive(&mut server);
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn cancelled_requests_still_get_a_response() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let big = format!(
        "{SMALL}{}",
        "## Heading\n\ntext [x](#heading)\n\n".repeat(5000)
    );
    server.did_open(URI, 1, &big);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = server.fresh_id();
        let body = request_text(
            id,
            "textDocument/codeLens",
            &json!({ "textDocument": { "uri": URI } }),
        );
        server.send_raw(&framed(body.as_bytes()));
        server.notify("$/cancelRequest", json!({ "id": id }));
        ids.push(id);
    }
    for id in ids {
        match server.response(id) {
            Ok(result) => assert!(result.is_array(), "{result}"),
            Err(error) => assert_eq!(code(&error), -32800, "{error}"),
        }
    }
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn wrong_parameter_types_get_invalid_params() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, SMALL);
    server.wait_publish(URI, 1);
    let cases = [
        ("textDocument/hover", json!({ "textDocument": 5 })),
        (
            "textDocument/hover",
            json!({ "textDocument": { "uri": URI }, "position": { "line": -1, "character": 0 } }),
        ),
        (
            "textDocument/hover",
            json!({ "textDocument": { "uri": URI }, "position": { "line": "0", "character": 0 } }),
        ),
        ("textDocument/codeLens", json!([1, 2, 3])),
        ("textDocument/codeLens", json!(null)),
        // Refused without shutting down: the server keeps serving.
        ("shutdown", json!({ "unexpected": true })),
    ];
    for (method, params) in cases {
        match server.request(method, params.clone()) {
            Err(error) => assert_eq!(code(&error), -32602, "{method} {params}: {error}"),
            Ok(result) => server.fail(&format!("{method} {params} succeeded: {result}")),
        }
    }
    // Notifications with wrong types are dropped, not fatal.
    server.notify("textDocument/didOpen", json!({ "textDocument": { "uri": URI, "languageId": "markdown", "version": "1", "text": 5 } }));
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI }, "contentChanges": "x" }),
    );
    server.notify("textDocument/didClose", json!({}));
    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "jointReview": { "outline": 5, "severity": [] } } }),
    );
    let lens = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": URI } }),
        )
        .unwrap_or_else(|e| server.fail(&format!("codeLens after bad notifications: {e}")));
    assert!(lens.is_array(), "{lens}");
    assert!(server.shutdown_and_exit().success());
}

// ---------------------------------------------------------------------------------------------
// Malformed frames
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_frames_are_answered_or_skipped_and_the_connection_keeps_serving() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, SMALL);
    server.wait_publish(URI, 1);

    // Bodies whose id can be read get an error response.
    let id = server.fresh_id();
    let body = format!(
        "{} trailing",
        request_text(id, "textDocument/hover", &hover_params(URI, 0, 0))
    );
    server.send_raw(&framed(body.as_bytes()));
    assert_eq!(
        code(&server.response(id).unwrap_err()),
        -32700,
        "JSON then garbage"
    );

    let id = server.fresh_id();
    let mut body = br#"{"jsonrpc":"2.0","id":"#.to_vec();
    body.extend(format!(r#"{id},"method":"textDocument/hover","params":{{"x":""#).bytes());
    body.extend([0xC3, 0x28, 0xFF]);
    body.extend(br#""}}"#);
    server.send_raw(&framed(&body));
    assert_eq!(
        code(&server.response(id).unwrap_err()),
        -32700,
        "invalid UTF-8"
    );

    let id = server.fresh_id();
    let body = json!({ "jsonrpc": "1.0", "id": id, "method": "textDocument/hover" }).to_string();
    server.send_raw(&framed(body.as_bytes()));
    assert_eq!(
        code(&server.response(id).unwrap_err()),
        -32600,
        "wrong jsonrpc version"
    );

    let id = server.fresh_id();
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": ["not", "a", "string"] }).to_string();
    server.send_raw(&framed(body.as_bytes()));
    assert_eq!(
        code(&server.response(id).unwrap_err()),
        -32600,
        "method not a string"
    );

    // Bodies without a readable id are logged and skipped; each is followed by a check that
    // the server still answers.
    let skipped: Vec<Vec<u8>> = vec![
        framed(b"this is not JSON"),
        framed(b"[1, 2, 3]"),
        framed(b"42"),
        framed(b"\"a string\""),
        framed(b"null"),
        framed(b"{\"jsonrpc\":\"2.0\",\"id\":1"),
        framed(&[0xFF, 0xFE, 0xFD]),
        framed(b""),
        framed(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes()),
        // Header problems: no Content-Length, a non-numeric one, a negative one.
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"initialized\"}".to_vec(),
        b"Content-Length: twelve\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}".to_vec(),
        b"Content-Length: -5\r\n\r\n".to_vec(),
        b"garbage without any header at all\r\n\r\n".to_vec(),
        vec![b'z'; 100_000],
        b"\r\n".to_vec(),
    ];
    for (i, bytes) in skipped.iter().enumerate() {
        server.send_raw(bytes);
        let id = server.fresh_id();
        // A newline first, so a request glued to garbage is still found.
        let body = request_text(
            id,
            "textDocument/codeLens",
            &json!({ "textDocument": { "uri": URI } }),
        );
        let mut next = b"\r\n".to_vec();
        next.extend(framed(body.as_bytes()));
        server.send_raw(&next);
        let lens = server.response(id).unwrap_or_else(|e| {
            server.fail(&format!("case {i}: codeLens after a skipped frame: {e}"))
        });
        assert!(lens.is_array(), "case {i}: {lens}");
    }
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn a_huge_content_length_allocates_nothing_and_the_next_message_is_read() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    assert_alive(&mut server);
    let before = vm_rss_kib(server.pid());
    for length in [
        "68719476736",
        "18446744073709551615",
        "99999999999999999999999",
    ] {
        server.send_raw(format!("Content-Length: {length}\r\n\r\n").as_bytes());
        server.send_raw(&vec![b'x'; 1 << 20]);
        server.send_raw(b"\r\n");
        assert_alive(&mut server);
    }
    let after = vm_rss_kib(server.pid());
    eprintln!("memory: huge Content-Length: VmRSS {before} KiB before, {after} KiB after");
    assert!(
        after < before + 64 * 1024,
        "VmRSS grew from {before} KiB to {after} KiB"
    );
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn a_lone_surrogate_escape_is_one_replacement_character() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    // `x\ud83d [Project]`: the client counts the lone surrogate as one UTF-16 unit.
    let text_json = r#"# Joint-review of Widget\n\nx\ud83d [Project] here.\n"#;
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{URI}","languageId":"markdown","version":1,"text":"{text_json}"}}}}}}"#
    );
    server.send_raw(&framed(body.as_bytes()));
    let published = server.wait_publish(URI, 1);
    let placeholder = with_code(&published, "template-text");
    assert_eq!(placeholder.len(), 1, "{published}");
    assert_eq!(
        placeholder[0]["range"]["start"],
        json!({ "line": 2, "character": 3 }),
        "{published}"
    );
    // A surrogate pair split over two changes: each half becomes U+FFFD, still one unit each,
    // so the placeholder moves by two units as it does in the client.
    let change = |character: u64, text: &str| {
        format!(
            r#"{{"range":{{"start":{{"line":2,"character":{character}}},"end":{{"line":2,"character":{character}}}}},"text":"{text}"}}"#
        )
    };
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{URI}","version":2}},"contentChanges":[{},{}]}}}}"#,
        change(0, r"\ud83d"),
        change(1, r"\ude00")
    );
    server.send_raw(&framed(body.as_bytes()));
    let published = server.wait_publish(URI, 2);
    let placeholder = with_code(&published, "template-text");
    assert_eq!(
        placeholder[0]["range"]["start"],
        json!({ "line": 2, "character": 5 }),
        "{published}"
    );
    assert!(server.shutdown_and_exit().success());
}

// ---------------------------------------------------------------------------------------------
// Documents and positions
// ---------------------------------------------------------------------------------------------

#[test]
fn positions_past_the_end_clamp() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, SMALL);
    server.wait_publish(URI, 1);
    // Past the end of the title line: clamped to its end, still on the title.
    let hover = server
        .request("textDocument/hover", hover_params(URI, 0, 10_000))
        .unwrap_or_else(|e| server.fail(&format!("{e}")));
    assert!(hover["contents"]["value"].is_string(), "{hover}");
    for (line, character) in [(10_000, 0), (u32::MAX as u64, u32::MAX as u64), (6, 99)] {
        let answer = server.request("textDocument/hover", hover_params(URI, line, character));
        assert!(answer.is_ok(), "{line}:{character}: {answer:?}");
    }
    assert!(server.shutdown_and_exit().success());
}

/// What a client that validates ranges the way VS Code does (`TextDocument.validateRange`)
/// makes of an edit: positions clamped to the document, start and end swapped if reversed.
fn client_range(text: &str, range: &Value, encoding: Encoding) -> (usize, usize) {
    let clamp = |pos: &Value| {
        let want_line = pos["line"].as_u64().unwrap();
        let want_col = pos["character"].as_u64().unwrap();
        let mut line_start = 0;
        let mut line = 0;
        loop {
            let rest = &text[line_start..];
            let Some(brk) = rest.find(['\r', '\n']) else {
                break;
            };
            if line == want_line {
                break;
            }
            let len = if rest[brk..].starts_with("\r\n") {
                2
            } else {
                1
            };
            line_start += brk + len;
            line += 1;
        }
        if line < want_line {
            return text.len();
        }
        let rest = &text[line_start..];
        let content = &rest[..rest.find(['\r', '\n']).unwrap_or(rest.len())];
        let mut units = 0;
        for (i, c) in content.char_indices() {
            let w = match encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
                Encoding::Utf32 => 1,
            } as u64;
            if units + w > want_col {
                return line_start + i;
            }
            units += w;
        }
        line_start + content.len()
    };
    let (a, b) = (clamp(&range["start"]), clamp(&range["end"]));
    (a.min(b), a.max(b))
}

#[test]
fn out_of_bounds_edits_are_clamped_as_the_client_does() {
    for encoding in [Encoding::Utf16, Encoding::Utf8, Encoding::Utf32] {
        let (mut server, _) =
            Server::initialized(Server::init_params(Some(&[encoding.name()]), None));
        let mut doc = Doc::new(
            URI,
            "# Joint-review of 😀 Widget\r\n\r\nSee [Project] 中文.\r\n\r\n## Metadata\r\ntext",
            encoding,
        );
        server.did_open(URI, 1, &doc.text);
        server.wait_publish(URI, 1);
        let ranges = [
            // Past the end of a line, past the end of the document, reversed, both.
            json!({ "start": { "line": 0, "character": 500 }, "end": { "line": 0, "character": 900 } }),
            json!({ "start": { "line": 99, "character": 0 }, "end": { "line": 120, "character": 7 } }),
            json!({ "start": { "line": 2, "character": 6 }, "end": { "line": 2, "character": 4 } }),
            json!({ "start": { "line": 4, "character": 99 }, "end": { "line": 1, "character": 0 } }),
            // Inside the emoji (UTF-16: between its surrogates; UTF-8: inside its bytes).
            json!({ "start": { "line": 0, "character": 19 }, "end": { "line": 0, "character": 19 } }),
        ];
        for (i, range) in ranges.iter().enumerate() {
            let (start, end) = client_range(&doc.text, range, encoding);
            // Round down into a character as the server does (a client would never send it).
            let floor = |mut o: usize| {
                while !doc.text.is_char_boundary(o) {
                    o -= 1;
                }
                o
            };
            let inserted = format!("<{i}>");
            doc.text.replace_range(floor(start)..floor(end), &inserted);
            doc.version += 1;
            server.did_change(
                URI,
                doc.version,
                vec![json!({ "range": range, "text": inserted })],
            );
            let published = server.wait_publish(URI, doc.version);
            assert_same_as_fresh(&mut server, &doc, &published);
        }
        assert!(server.shutdown_and_exit().success());
    }
}

/// The diagnostics published after changes equal those of the client's text opened afresh.
fn assert_same_as_fresh(server: &mut Server, doc: &Doc, published: &Value) {
    let fresh = format!("file:///work/fresh-{}/joint-review.md", doc.version);
    server.did_open(&fresh, 1, &doc.text);
    let expected = server.wait_publish(&fresh, 1);
    server.did_close(&fresh);
    let expected: Value = serde_json::from_str(
        &expected["diagnostics"]
            .to_string()
            .replace(&fresh, &doc.uri),
    )
    .unwrap();
    assert_eq!(
        published["diagnostics"], expected,
        "{:?} version {}: the server's text differs from the client's {:?}",
        doc.encoding, doc.version, doc.text
    );
}

#[test]
fn unopened_documents_duplicate_opens_and_versions_going_back() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    // A change for a document never opened: ignored.
    server.did_change("file:///never/opened.md", 3, vec![json!({ "text": "# x" })]);
    server.did_close("file:///never/opened.md");
    assert_alive(&mut server);
    // Opened twice: the second text wins.
    server.did_open(URI, 5, SMALL);
    server.wait_publish(URI, 5);
    server.did_open(URI, 6, "# Joint-review of Widget\n\nno placeholder\n");
    let published = server.wait_publish(URI, 6);
    assert!(
        with_code(&published, "template-text").is_empty(),
        "{published}"
    );
    // A version lower than the last: taken as the client's current one.
    server.did_change(URI, 2, vec![json!({ "text": SMALL })]);
    let published = server.wait_publish(URI, 2);
    assert_eq!(
        with_code(&published, "template-text").len(),
        1,
        "{published}"
    );
    // Closed twice, changed after close: ignored.
    server.did_close(URI);
    server.did_close(URI);
    server.did_change(URI, 9, vec![json!({ "text": "# x" })]);
    let error = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": URI } }),
        )
        .unwrap_err();
    assert_eq!(code(&error), -32602, "{error}");
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn non_file_uris_are_served_and_malformed_ones_do_not_crash() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let uris = [
        "untitled:Untitled-1",
        "untitled:/home/me/joint-review.md",
        "vscode-notebook-cell:/a.ipynb#W0sZmlsZQ%3D%3D",
        "https://example.com/review.md?x=1#frag",
        "file:///C%3A/Users/me/joint%20review.md",
        "file:///tmp/%F0%9F%98%80.md",
        "git:/repo/review.md?%7B%22ref%22%3A%22HEAD%22%7D",
    ];
    for uri in uris {
        server.did_open(uri, 1, SMALL);
        let published = server.wait_publish(uri, 1);
        assert_eq!(
            with_code(&published, "template-text").len(),
            1,
            "{uri}: {published}"
        );
        let lens = server
            .request(
                "textDocument/codeLens",
                json!({ "textDocument": { "uri": uri } }),
            )
            .unwrap_or_else(|e| server.fail(&format!("{uri}: {e}")));
        assert!(lens.is_array(), "{uri}: {lens}");
    }
    for uri in [
        "",
        "not a uri",
        "file:///a b.md",
        "http://[::1",
        "%%%",
        "file:///\u{0}",
    ] {
        server.did_open(uri, 1, SMALL);
        let answer = server.request("textDocument/hover", hover_params(uri, 0, 0));
        if let Err(error) = &answer {
            assert_eq!(code(error), -32602, "{uri:?}: {error}");
        }
    }
    assert_alive(&mut server);
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn only_cr_lf_and_crlf_break_lines_in_every_encoding() {
    // U+2028, U+0085 and form feed inside lines; a BOM first; emoji, CJK, a combining mark
    // and a ZWJ sequence before the placeholder.
    let text = "\u{feff}# Joint-review of Widget\r\n\r\na\u{2028}b\u{85}c\u{c}d é 👩‍👩‍👧 中 [Project] x\r\n\rtail\n";
    for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
        let (mut server, _) =
            Server::initialized(Server::init_params(Some(&[encoding.name()]), None));
        server.did_open(URI, 1, text);
        let published = server.wait_publish(URI, 1);
        let placeholder = with_code(&published, "template-text");
        let at = text.find("[Project]").unwrap();
        assert_eq!(placeholder.len(), 1, "{published}");
        assert_eq!(
            placeholder[0]["range"],
            json!({ "start": position(text, at, encoding), "end": position(text, at + 9, encoding) }),
            "{encoding:?}"
        );
        // The title is a heading despite the BOM: hover on it answers.
        let hover = server
            .request("textDocument/hover", hover_params(URI, 0, 3))
            .unwrap_or_else(|e| server.fail(&format!("{e}")));
        assert!(
            hover["contents"]["value"].is_string(),
            "{encoding:?}: {hover}"
        );
        assert!(server.shutdown_and_exit().success());
    }
}

// ---------------------------------------------------------------------------------------------
// Pathological Markdown
// ---------------------------------------------------------------------------------------------

/// Any single answer taking longer than this is a hang (the goal is well under a second; the
/// measured times are printed).
const HANG: Duration = Duration::from_secs(10);

fn pathological() -> Vec<(&'static str, String)> {
    let mut cases = vec![
        (
            "300 nested block quotes",
            format!("{} deep\n", ">".repeat(300)),
        ),
        (
            "300 nested quotes, spaced",
            format!("{} deep\n\n## Metadata\n", "> ".repeat(300)),
        ),
        (
            "quotes deepening over 600 lines",
            (1..600).map(|i| format!("{} l\n", ">".repeat(i))).collect(),
        ),
        (
            "list nested 1000 deep",
            (0..1000)
                .map(|i| format!("{}- item\n", "  ".repeat(i)))
                .collect(),
        ),
        (
            "list markers 1000 deep on a line",
            format!("{}x\n", "- ".repeat(1000)),
        ),
        ("1 MB single line", "word ".repeat(210_000)),
        (
            "1.2 MB document",
            format!(
                "# Joint-review of Widget\n\n{}",
                "## Heading\n\nSome *text* with a [link](#heading) and `code`.\n\n".repeat(20_000)
            ),
        ),
        ("`*` bomb", "*".repeat(200_000)),
        ("`*a **b` bomb", "*a **b ".repeat(30_000)),
        ("`_` bomb", "_".repeat(200_000)),
        ("`[` bomb", "[".repeat(200_000)),
        ("`[a](` bomb", "[a](".repeat(50_000)),
        (
            "`![` bomb in a heading",
            format!("## {}\n", "![".repeat(50_000)),
        ),
        ("backtick bomb", "`".repeat(200_000)),
        ("backtick pairs", "`a``".repeat(50_000)),
        ("`~` bomb", "~".repeat(200_000)),
        ("`~~~` lines", "~~~\n".repeat(50_000)),
        ("`<` bomb", "<a ".repeat(60_000)),
        (
            "unterminated fence",
            format!("# T\n\n```\n{}", "code\n".repeat(100_000)),
        ),
        (
            "unterminated HTML block",
            format!("# T\n\n<div>\n{}", "text\n".repeat(100_000)),
        ),
        (
            "unterminated comment",
            format!("# T\n\n<!--\n{}", "text\n".repeat(100_000)),
        ),
        (
            "front matter",
            "---\ntitle: x\n---\n# Joint-review of Widget\n".to_string(),
        ),
        (
            "unterminated front matter",
            format!("---\n{}", "key: value\n".repeat(50_000)),
        ),
        ("20 000 duplicate headings", "## Metadata\n".repeat(20_000)),
        ("setext headings", "a\n=\n".repeat(20_000)),
        (
            "empty table rows",
            format!("| a | b |\n| - | - |\n{}", "| | |\n".repeat(20_000)),
        ),
        ("pipes", format!("|{}\n", "|".repeat(200_000))),
        (
            "a 300 KB heading",
            format!("## {}\n", "word ".repeat(60_000)),
        ),
        (
            "placeholders",
            format!(
                "# Joint-review of [Project]\n\n{}",
                "[Project] ".repeat(30_000)
            ),
        ),
        ("a TOC of 10 000 links", "* [x](#nowhere)\n".repeat(10_000)),
    ];
    // Over the parsing limit (2 MiB): only its outline is checked (from the headings, no tree).
    cases.push(("3 MB document", "## Heading\n\ntext\n".repeat(170_000)));
    cases
}

/// Every diagnostic range lies inside `text` (lines and columns in `encoding`).
fn assert_ranges_inside(name: &str, text: &str, published: &Value, encoding: Encoding) {
    let mut lengths = Vec::new();
    let mut rest = text;
    loop {
        let brk = rest.find(['\r', '\n']);
        let content = &rest[..brk.unwrap_or(rest.len())];
        lengths.push(match encoding {
            Encoding::Utf8 => content.len() as u64,
            Encoding::Utf16 => content.encode_utf16().count() as u64,
            Encoding::Utf32 => content.chars().count() as u64,
        });
        let Some(brk) = brk else { break };
        let len = if rest[brk..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[brk + len..];
    }
    for d in published["diagnostics"].as_array().unwrap() {
        for end in ["start", "end"] {
            let line = d["range"][end]["line"].as_u64().unwrap() as usize;
            let character = d["range"][end]["character"].as_u64().unwrap();
            assert!(
                line < lengths.len() && character <= lengths[line],
                "{name}: {end} {line}:{character} outside the document: {d}"
            );
        }
    }
}

#[test]
fn pathological_markdown_is_answered_quickly_with_ranges_inside() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    for (i, (name, text)) in pathological().into_iter().enumerate() {
        let uri = format!("file:///work/patho/{i}/joint-review.md");
        let started = Instant::now();
        server.did_open(&uri, 1, &text);
        // A request right behind the open waits for its parse and analysis.
        let lens = server.request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": uri } }),
        );
        let first_request = started.elapsed();
        assert!(lens.is_ok(), "{name}: {lens:?}");
        if text.len() > 2 << 20 {
            let message =
                server.wait_notification("window/showMessage", "for a too large document", |p| {
                    p["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(uri.as_str()))
                });
            assert_eq!(message["type"], 2, "a warning: {message}");
        }
        let published = server.wait_publish(&uri, 1);
        let open = started.elapsed();
        if text.len() > 2 << 20 {
            // Too large to parse: only the outline (from the headings) is checked.
            let codes: Vec<&str> = published["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|d| d["code"].as_str())
                .collect();
            let outline = [
                "missing-section",
                "section-order",
                "heading-level",
                "duplicate-section",
            ];
            assert!(
                codes.iter().all(|c| outline.contains(c)),
                "{name}: outline only: {codes:?}"
            );
        }
        assert_ranges_inside(name, &text, &published, Encoding::Utf16);

        let at = (text.len() / 2..)
            .find(|&o| text.is_char_boundary(o))
            .unwrap();
        let middle = position(&text, at, Encoding::Utf16);
        let started = Instant::now();
        let hover = server.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": middle }),
        );
        let hover_time = started.elapsed();
        assert!(hover.is_ok(), "{name}: {hover:?}");
        let started = Instant::now();
        let lens = server.request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": uri } }),
        );
        let lens_time = started.elapsed();
        assert!(lens.is_ok(), "{name}: {lens:?}");

        // A keystroke in the middle, then the publish for it.
        let started = Instant::now();
        server.did_change(
            &uri,
            2,
            vec![json!({ "range": { "start": middle, "end": middle }, "text": "x" })],
        );
        let mut edited = text.clone();
        edited.insert(at, 'x');
        let published = server.wait_publish(&uri, 2);
        let change = started.elapsed();
        assert_ranges_inside(name, &edited, &published, Encoding::Utf16);
        server.did_close(&uri);

        for (what, took) in [
            ("first request", first_request),
            ("open", open),
            ("hover", hover_time),
            ("codeLens", lens_time),
            ("change", change),
        ] {
            assert!(took < HANG, "{name}: {what} took {took:?}");
        }
        eprintln!(
            "timing: {name:32} {:>8} B  request after open {first_request:>9.1?}  publish {open:>9.1?}  hover {hover_time:>9.1?}  codeLens {lens_time:>9.1?}  keystroke to publish {change:>9.1?}",
            text.len()
        );
    }
    assert!(server.shutdown_and_exit().success());
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/// The number of closed documents the server reports having freed so far (its `debug` log).
fn documents_freed(stderr: &str) -> usize {
    stderr
        .lines()
        .filter_map(|l| l.split_once("freed ")?.1.split_once(" closed documents"))
        .filter_map(|(n, _)| n.parse::<usize>().ok())
        .sum()
}

#[test]
fn memory_returns_after_1000_documents_are_opened_and_closed() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let text = format!(
        "{SMALL}{}",
        "## Goals\n\ntext with [a link](#goals)\n\n".repeat(40)
    );
    let mut closed = 0;
    // Opens `count` documents, closes them, and waits until the server has freed them and
    // given the memory back; VmRSS with the documents open and after.
    let mut cycle = |server: &mut Server, round: usize, count: usize| {
        let uri = |i: usize| format!("file:///work/mem/{round}/{i}/joint-review.md");
        // In batches, each waited for, so that no single wait is long on a busy machine.
        for batch in (0..count).step_by(100) {
            let end = count.min(batch + 100);
            for i in batch..end {
                server.did_open(&uri(i), 1, &text);
            }
            server.wait_publish(&uri(end - 1), 1);
        }
        let open = vm_rss_kib(server.pid());
        for i in 0..count {
            server.did_close(&uri(i));
        }
        closed += count;
        server.wait_stderr(&format!("{closed} closed documents freed"), |e| {
            documents_freed(e) >= closed
        });
        (open, vm_rss_kib(server.pid()))
    };
    let start = vm_rss_kib(server.pid());
    // The first cycle warms the server up: its threads, their allocator caches, the tables.
    let warm = cycle(&mut server, 0, 1000);
    let rounds: Vec<(u64, u64)> = (1..=2).map(|r| cycle(&mut server, r, 1000)).collect();
    eprintln!(
        "memory: VmRSS {start} KiB at start; (1000 documents open, after closing them) warm-up {warm:?} KiB, then {rounds:?} KiB"
    );
    for &(open, after) in &rounds {
        // The documents were held (about 290 KiB each) ...
        assert!(
            open > warm.1 + 100 * 1024,
            "{open} KiB with 1000 documents open"
        );
        // ... and closing them gave it back: 2000 documents later, no more than after the
        // first 1000 (even a small allocation kept per document would show). The margin is for the
        // allocator's per-thread caches of freed chunks, bounded by the number of threads.
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(
                after <= warm.1 + 3 * 1024,
                "VmRSS did not come back: {start} KiB at start, {warm:?} after the warm-up, then {rounds:?}"
            );
        }
    }
    assert_alive(&mut server);
    assert!(server.shutdown_and_exit().success());
}
