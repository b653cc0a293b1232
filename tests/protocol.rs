//! The language server seen from outside: the compiled binary is spawned and spoken to over
//! stdio with hand-framed JSON-RPC (see `support/mod.rs`), as an editor would.
//!
//! Documents are built from the joint-review template (`grammars/joint-review.md`, from its
//! `# Joint-review of [Project]` line on); positions sent and checked are computed by the test's
//! own conversion, in the negotiated encoding.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{position, with_code, Doc, Encoding, Server};

const URI: &str = "file:///work/docs/joint-review.md";

/// The document part of the joint-review template (LF line endings).
fn template() -> String {
    let path = support::workspace_root().join("grammars/joint-review.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text
        .find("# Joint-review of [Project]\n")
        .expect("the template's title line");
    text[start..].to_string()
}

/// The template without its `## Threat Model` section.
fn cut_threat_model(text: &str) -> String {
    let start = text
        .find("## Threat Model\n")
        .expect("Threat Model heading");
    let end = text
        .find("## Secure Development Practices\n")
        .expect("Secure Development Practices heading");
    format!("{}{}", &text[..start], &text[end..])
}

fn fixture(name: &str) -> String {
    let path = support::workspace_root()
        .join("tests/fixtures/protocol")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn codes(params: &Value) -> Vec<String> {
    params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// The missing-section diagnostics for 'Threat Model' in a publish.
fn threat_model_missing(params: &Value) -> Vec<&Value> {
    with_code(params, "missing-section")
        .into_iter()
        .filter(|d| d["data"]["section"] == "Threat Model")
        .collect()
}

fn code_lens_title(server: &mut Server, uri: &str) -> String {
    let lenses = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": uri } }),
        )
        .unwrap_or_else(|e| server.fail(&format!("codeLens failed: {e}")));
    let lenses = lenses
        .as_array()
        .unwrap_or_else(|| panic!("codeLens result is not an array: {lenses}"));
    assert_eq!(lenses.len(), 1, "{lenses:?}");
    lenses[0]["command"]["title"]
        .as_str()
        .unwrap_or_else(|| panic!("lens without a title: {lenses:?}"))
        .to_string()
}

/// `N/M sections` in a lens title, as (N, M).
fn section_count(title: &str) -> (u32, u32) {
    let before = &title[..title
        .find(" sections")
        .unwrap_or_else(|| panic!("no ' sections' in {title:?}"))];
    let count = before.rsplit(' ').next().unwrap();
    let (n, m) = count
        .split_once('/')
        .unwrap_or_else(|| panic!("no N/M in {title:?}"));
    (
        n.parse().unwrap_or_else(|_| panic!("{title:?}")),
        m.parse().unwrap_or_else(|_| panic!("{title:?}")),
    )
}

// 1. initialize

#[test]
fn initialize_negotiates_position_encoding() {
    let cases: [(Option<&[&str]>, &str); 5] = [
        (Some(&["utf-8", "utf-16"]), "utf-8"),
        (Some(&["utf-16", "utf-8"]), "utf-8"),
        (Some(&["utf-16"]), "utf-16"),
        (None, "utf-16"),
        (Some(&["utf-32"]), "utf-32"),
    ];
    for (offered, expected) in cases {
        let (mut server, result) = Server::initialized(Server::init_params(offered, None));
        let caps = &result["capabilities"];
        assert_eq!(
            caps["positionEncoding"], expected,
            "offered {offered:?}: {result}"
        );
        let change = caps["textDocumentSync"]["change"]
            .as_i64()
            .or_else(|| caps["textDocumentSync"].as_i64());
        assert_eq!(change, Some(2), "incremental sync: {result}");
        assert_eq!(result["serverInfo"]["name"], "joint-review-lsp", "{result}");
        assert!(server.shutdown_and_exit().success());
    }
}

// 2, 3, 6. diagnostics on open, the missing section, close

#[test]
fn open_publishes_versioned_diagnostics_and_close_clears_them() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let full = template();
    let cut = cut_threat_model(&full);

    server.did_open(URI, 7, &cut);
    let published = server.wait_publish(URI, 7);
    let missing = threat_model_missing(&published);
    assert_eq!(missing.len(), 1, "{published}");
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("Threat Model"),
        "{}",
        missing[0]
    );
    assert!(
        codes(&published).contains(&"template-text".to_string()),
        "{published}"
    );

    let uri_full = "file:///work/docs/full/joint-review.md";
    server.did_open(uri_full, 3, &full);
    let published = server.wait_publish(uri_full, 3);
    assert!(
        with_code(&published, "missing-section").is_empty(),
        "{published}"
    );

    server.did_close(URI);
    let closed = server.wait_notification(
        "textDocument/publishDiagnostics",
        "clearing the closed document",
        |p| p["uri"] == URI,
    );
    assert_eq!(closed["diagnostics"], json!([]), "{closed}");
    assert!(server.shutdown_and_exit().success());
}

/// The outline pass publishes first, with every outline diagnostic already; the full
/// analysis follows as the last publish of the version. After an edit, the outline pass
/// carries the tree-based diagnostics the edit did not touch, moved to the new text.
#[test]
fn outline_pass_first_then_full_analysis_with_carried_diagnostics() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let cut = cut_threat_model(&template());
    let mut doc = Doc::new(URI, &cut, Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let first = server.wait_first_publish(URI, 1);
    let pass = server.wait_notification("$/jointReview/analysed", "for version 1", |p| {
        p["uri"] == URI && p["version"] == 1
    });
    assert_eq!(pass["pass"], "outline", "{pass}");
    assert_eq!(pass["last"], false, "{pass}");
    assert_eq!(threat_model_missing(&first).len(), 1, "{first}");
    let outline_codes = [
        "missing-section",
        "section-order",
        "heading-level",
        "duplicate-section",
    ];
    assert!(
        codes(&first)
            .iter()
            .all(|c| outline_codes.contains(&c.as_str())),
        "the first publish of an open has only outline diagnostics: {first}"
    );
    let full = server.wait_publish(URI, 1);
    let key = |d: &Value| format!("{} {} {}", d["code"], d["range"], d["message"]);
    let full_keys: Vec<String> = full["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    for d in first["diagnostics"].as_array().unwrap() {
        assert!(
            full_keys.contains(&key(d)),
            "{d} is in the full analysis too"
        );
    }
    assert!(
        codes(&full).contains(&"template-text".to_string()),
        "{full}"
    );

    // Type a line at the top: every diagnostic below moves one line down in the outline pass.
    let change = doc.edit(0, 0, "Hello.\n\n");
    let v = doc.send(&mut server, vec![change]);
    let moved = server.wait_first_publish(URI, v);
    let shifted = |d: &Value| {
        let mut d = d.clone();
        for end in ["start", "end"] {
            let line = d["range"][end]["line"].as_i64().unwrap();
            d["range"][end]["line"] = json!(line + 2);
        }
        key(&d)
    };
    let moved_keys: Vec<String> = moved["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    for d in full["diagnostics"].as_array().unwrap() {
        if d["code"] == "template-text" && d["range"]["start"]["line"] != 0 {
            assert!(moved_keys.contains(&shifted(d)), "carried and moved: {d}");
        }
    }
    let settled = server.wait_publish(URI, v);
    let settled_keys: Vec<String> = settled["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    assert_eq!(
        moved_keys, settled_keys,
        "the full analysis agrees with what was carried"
    );
    assert!(server.shutdown_and_exit().success());
}

// 4. incremental changes in the negotiated encoding, positions after emoji, CJK and CRLF

/// The line inserted before `## Overview`: a CJK line ended by a lone CR, then a line with an
/// emoji and CJK before a `[Project]` placeholder.
const UNICODE_LINES: &str = "中文 lone CR\r😀 中文 [Project] 中文\r\n\r\n";

fn crlf_cut_document() -> String {
    let cut = cut_threat_model(&template()).replace('\n', "\r\n");
    let at = cut.find("## Overview\r\n").unwrap();
    format!("{}{UNICODE_LINES}{}", &cut[..at], &cut[at..])
}

/// The template-text diagnostic on our `[Project]` placeholder must sit exactly where the
/// test's own conversion puts it.
fn assert_placeholder_position(doc: &Doc, published: &Value) {
    let start = doc.find("[Project] 中文");
    let expected = json!({
        "start": position(&doc.text, start, doc.encoding),
        "end": position(&doc.text, start + "[Project]".len(), doc.encoding),
    });
    let on_line: Vec<&Value> = with_code(published, "template-text")
        .into_iter()
        .filter(|d| d["range"]["start"]["line"] == expected["start"]["line"])
        .collect();
    assert_eq!(
        on_line.len(),
        1,
        "one placeholder diagnostic on line {}: {published}",
        expected["start"]["line"]
    );
    assert_eq!(
        on_line[0]["range"], expected,
        "{:?} position of the placeholder: {}",
        doc.encoding, on_line[0]
    );
    assert!(
        on_line[0]["message"]
            .as_str()
            .unwrap()
            .contains("[Project]"),
        "{}",
        on_line[0]
    );
}

/// The diagnostics published after incremental changes must be those of the same text opened
/// afresh (under another URI, in the same directory layout so the outline is chosen alike).
fn assert_same_as_fresh_open(server: &mut Server, doc: &Doc, published: &Value) {
    let fresh = format!("file:///work/fresh-{}/joint-review.md", doc.version);
    server.did_open(&fresh, 1, &doc.text);
    let expected = server.wait_publish(&fresh, 1);
    server.did_close(&fresh);
    // Related information points into the document itself, by its URI.
    let expected: Value = serde_json::from_str(
        &expected["diagnostics"]
            .to_string()
            .replace(&fresh, &doc.uri),
    )
    .unwrap();
    assert_eq!(
        published["diagnostics"], expected,
        "version {} after incremental changes differs from the same text opened afresh",
        doc.version
    );
}

fn incremental_session(encoding: Encoding) {
    let (mut server, result) =
        Server::initialized(Server::init_params(Some(&[encoding.name()]), None));
    assert_eq!(result["capabilities"]["positionEncoding"], encoding.name());
    let mut doc = Doc::new(URI, &crlf_cut_document(), encoding);

    server.did_open(URI, doc.version, &doc.text);
    let published = server.wait_publish(URI, 1);
    assert_eq!(threat_model_missing(&published).len(), 1, "{published}");
    assert_placeholder_position(&doc, &published);
    assert_same_as_fresh_open(&mut server, &doc, &published);

    // Put the section back: no missing section in the publish for that version.
    let section = "## Threat Model\r\n\r\ntext\r\n\r\n";
    let at = doc.find("## Secure Development Practices\r\n");
    let change = doc.edit(at, at, section);
    let v = doc.send(&mut server, vec![change]);
    let published = server.wait_publish(URI, v);
    assert!(
        with_code(&published, "missing-section").is_empty(),
        "{published}"
    );
    assert_placeholder_position(&doc, &published);
    assert_same_as_fresh_open(&mut server, &doc, &published);

    // An edit after the emoji on the placeholder's line (range in the negotiated encoding).
    let at = doc.find("[Project] 中文");
    let change = doc.edit(at, at, "😀中");
    let v = doc.send(&mut server, vec![change]);
    let published = server.wait_publish(URI, v);
    assert!(
        with_code(&published, "missing-section").is_empty(),
        "{published}"
    );
    assert_placeholder_position(&doc, &published);
    assert_same_as_fresh_open(&mut server, &doc, &published);

    // Delete the section again (a range spanning several CRLF lines): missing again.
    let at = doc.find(section);
    let change = doc.edit(at, at + section.len(), "");
    let v = doc.send(&mut server, vec![change]);
    let published = server.wait_publish(URI, v);
    assert_eq!(threat_model_missing(&published).len(), 1, "{published}");
    assert_placeholder_position(&doc, &published);
    assert_same_as_fresh_open(&mut server, &doc, &published);

    // A burst of 20 changes sent back to back: type the section in, one character at a time
    // (CR and LF separately), then its text in one change.
    let first_of_burst = doc.version + 1;
    let end_of_previous = doc.find("defective.\r\n") + "defective.".len();
    let mut at = end_of_previous;
    for c in "\r\n\r\n## Threat Model".chars() {
        let change = doc.edit(at, at, &c.to_string());
        doc.send(&mut server, vec![change]);
        at += c.len_utf8();
    }
    let change = doc.edit(at, at, "\r\n\r\nModel text.");
    let last = doc.send(&mut server, vec![change]);
    assert_eq!(last - first_of_burst + 1, 20);
    assert!(doc
        .text
        .contains("defective.\r\n\r\n## Threat Model\r\n\r\nModel text.\r\n\r\n## Secure"));

    let published = server.wait_publish(URI, last);
    assert!(
        with_code(&published, "missing-section").is_empty(),
        "{published}"
    );
    assert_placeholder_position(&doc, &published);
    assert_same_as_fresh_open(&mut server, &doc, &published);
    server.drain_for(Duration::from_millis(300));
    let publishes = server.publishes(URI);
    let versions: Vec<i64> = publishes
        .iter()
        .map(|p| p["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions.last(),
        Some(&last),
        "the last publish is for the last version: {versions:?}"
    );
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]),
        "publishes went back in version: {versions:?}"
    );
    for p in &publishes {
        support::check_publish_shape(p);
    }

    assert!(server.shutdown_and_exit().success());
}

#[test]
fn incremental_changes_in_utf16() {
    incremental_session(Encoding::Utf16);
}

#[test]
fn incremental_changes_in_utf8() {
    incremental_session(Encoding::Utf8);
}

#[test]
fn incremental_changes_in_utf32() {
    incremental_session(Encoding::Utf32);
}

/// Every range of a publish (diagnostics and their related information) as byte offsets, by
/// the test's own inverse conversion; each position must be a valid one in `encoding`.
fn byte_ranges(
    text: &str,
    published: &Value,
    encoding: Encoding,
) -> Vec<(String, String, usize, usize)> {
    let to_bytes = |range: &Value, what: &Value| {
        let at = |end: &str| {
            support::offset(text, &range[end], encoding).unwrap_or_else(|| {
                panic!("{encoding:?}: {end} of {what} is not a position in the text")
            })
        };
        (at("start"), at("end"))
    };
    let mut out = Vec::new();
    for d in published["diagnostics"].as_array().unwrap() {
        let (start, end) = to_bytes(&d["range"], d);
        out.push((d["code"].to_string(), d["message"].to_string(), start, end));
        for r in d["relatedInformation"].as_array().into_iter().flatten() {
            let (start, end) = to_bytes(&r["location"]["range"], r);
            out.push(("related".to_string(), r["message"].to_string(), start, end));
        }
    }
    out.sort();
    out
}

#[test]
fn diagnostic_ranges_agree_across_encodings() {
    let text = crlf_cut_document()
        .replace("* [Goals](#goals)", "* 😀 [Goals](#goals)")
        .replace("### Background\r\n", "### Background 中文\r\n")
        .replace("## Roadmap\r\n", "## 😀 Roadmap\r\n")
        .replace("Use previous table outline", "中文 Flibble 😀 [project]");
    let mut seen = Vec::new();
    for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
        let (mut server, _) =
            Server::initialized(Server::init_params(Some(&[encoding.name()]), None));
        server.did_open(URI, 1, &text);
        let published = server.wait_publish(URI, 1);
        seen.push((encoding, byte_ranges(&text, &published, encoding)));
        assert!(server.shutdown_and_exit().success());
    }
    let (_, utf8) = &seen[0];
    assert!(utf8.len() > 20, "{utf8:?}");
    for (encoding, ranges) in &seen[1..] {
        assert_eq!(ranges, utf8, "{encoding:?} ranges differ from utf-8 ones");
    }
}

// 5. several changes in one notification; full-text changes

#[test]
fn changes_apply_in_order_and_full_text_replaces() {
    let (mut server, _) = Server::initialized(Server::init_params(Some(&["utf-16"]), None));
    let full = template();
    let mut doc = Doc::new(URI, &cut_threat_model(&full), Encoding::Utf16);
    server.did_open(URI, doc.version, &doc.text);
    let published = server.wait_publish(URI, 1);
    assert_eq!(threat_model_missing(&published).len(), 1, "{published}");

    // Two changes in one notification; the second's range is only right after the first.
    let at = doc.find("## Secure Development Practices\n");
    let first = doc.edit(at, at, "## Threat Model\n\n😀 text\n\n");
    let roadmap = doc.find("## Roadmap\n\n");
    let second = doc.edit(roadmap, roadmap + "## Roadmap\n\n".len(), "");
    let v = doc.send(&mut server, vec![first, second]);
    let published = server.wait_publish(URI, v);
    assert_same_as_fresh_open(&mut server, &doc, &published);
    let missing: Vec<&Value> = with_code(&published, "missing-section");
    let sections: Vec<&Value> = missing.iter().map(|d| &d["data"]["section"]).collect();
    assert_eq!(sections, [&json!("Roadmap")], "{published}");

    // A full-text change: the whole template, then the cut one.
    let change = doc.replace_all(&full);
    let v = doc.send(&mut server, vec![change]);
    let published = server.wait_publish(URI, v);
    assert_same_as_fresh_open(&mut server, &doc, &published);
    assert!(
        with_code(&published, "missing-section").is_empty(),
        "{published}"
    );

    // Full text then an incremental change in the same notification.
    let full_change = doc.replace_all(&cut_threat_model(&full));
    let at = doc.find("## Roadmap\n");
    let edit = doc.edit(at, at + "## Roadmap".len(), "## Roadmap 中文");
    let v = doc.send(&mut server, vec![full_change, edit]);
    let published = server.wait_publish(URI, v);
    assert_same_as_fresh_open(&mut server, &doc, &published);
    assert_eq!(threat_model_missing(&published).len(), 1, "{published}");

    assert!(server.shutdown_and_exit().success());
}

#[test]
fn close_during_a_burst_leaves_no_stale_diagnostics() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let full = template();
    let cut = cut_threat_model(&full);
    let mut doc = Doc::new(URI, &full, Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    for round in 0..10 {
        let change = doc.replace_all(if round % 2 == 0 { &cut } else { &full });
        doc.send(&mut server, vec![change]);
    }
    server.did_close(URI);
    server.wait_notification(
        "textDocument/publishDiagnostics",
        "clearing the closed document",
        |p| p["uri"] == URI && p["diagnostics"] == json!([]),
    );
    server.drain_for(Duration::from_millis(300));
    let publishes = server.publishes(URI);
    let last = publishes.last().unwrap();
    assert_eq!(
        last["diagnostics"],
        json!([]),
        "a publish came after the clearing one: {last}"
    );
    assert!(server.shutdown_and_exit().success());
}

// 7, 8. code lens and outline selection

#[test]
fn code_lens_reports_outline_and_section_count() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let full = template();
    server.did_open(URI, 1, &cut_threat_model(&full));
    server.wait_publish(URI, 1);
    let title = code_lens_title(&mut server, URI);
    assert!(title.contains("joint-review outline"), "{title:?}");
    let (present, required) = section_count(&title);
    assert!(
        required > 0 && present + 1 == required,
        "one required section is missing: {title:?}"
    );

    let uri_full = "file:///work/docs/full/joint-review.md";
    server.did_open(uri_full, 1, &full);
    server.wait_publish(uri_full, 1);
    let title = code_lens_title(&mut server, uri_full);
    let (present, required) = section_count(&title);
    assert_eq!(present, required, "{title:?}");

    // A request right after a change sees that change, without waiting for its diagnostics.
    let mut doc = Doc::new(uri_full, &full, Encoding::Utf16);
    for round in 0..5 {
        let change = doc.replace_all(&if round % 2 == 0 {
            cut_threat_model(&full)
        } else {
            full.clone()
        });
        doc.send(&mut server, vec![change]);
        let title = code_lens_title(&mut server, uri_full);
        let (now_present, now_required) = section_count(&title);
        let expected = if round % 2 == 0 {
            required - 1
        } else {
            required
        };
        assert_eq!(
            (now_present, now_required),
            (expected, required),
            "round {round}: {title:?}"
        );
    }

    // A code lens for a document that is not open is an error, not a hang.
    let error = server
        .request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": "file:///not/open.md" } }),
        )
        .expect_err("codeLens for a closed document");
    assert!(error["code"].is_i64(), "{error}");
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn outline_comment_selects_the_self_assessment_outline() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let mut doc = Doc::new(
        "file:///work/docs/widget.md",
        &fixture("outline-comment.md"),
        Encoding::Utf16,
    );
    server.did_open(&doc.uri, 1, &doc.text);
    server.wait_publish(&doc.uri, 1);
    let title = code_lens_title(&mut server, &doc.uri);
    assert!(title.contains("self-assessment outline"), "{title:?}");

    // Without the comment, the title decides: a joint review.
    let comment_end = doc.find("\n") + 1;
    let change = doc.edit(0, comment_end, "");
    let v = doc.send(&mut server, vec![change]);
    server.wait_publish(&doc.uri, v);
    let title = code_lens_title(&mut server, &doc.uri);
    assert!(title.contains("joint-review outline"), "{title:?}");
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn settings_from_initialization_options_and_configuration_changes() {
    let options = json!({ "jointReview": { "severity": { "template-text": "off" } } });
    let (mut server, _) = Server::initialized(Server::init_params(None, Some(options)));
    server.did_open(URI, 1, &cut_threat_model(&template()));
    let published = server.wait_publish(URI, 1);
    assert!(
        with_code(&published, "template-text").is_empty(),
        "{published}"
    );
    let missing = threat_model_missing(&published);
    assert_eq!(missing.len(), 1, "{published}");
    assert_eq!(
        missing[0]["severity"], 1,
        "missing-section is an error by default: {}",
        missing[0]
    );

    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "jointReview": { "severity": { "missing-section": "hint" } } } }),
    );
    let published = server.wait_publish(URI, 1);
    let missing = threat_model_missing(&published);
    assert_eq!(missing.len(), 1, "{published}");
    assert_eq!(
        missing[0]["severity"], 4,
        "missing-section as a hint: {}",
        missing[0]
    );

    // Typing in a paragraph then (its outline diagnostics carried from the last outline
    // pass, when that pass is of the same settings) publishes with the new settings at once.
    let mut doc = Doc::new(URI, &cut_threat_model(&template()), Encoding::Utf16);
    let paragraph_end = {
        let start = doc.text.find("\nThe ").expect("a paragraph line") + 1;
        start + doc.text[start..].find('\n').unwrap()
    };
    let change = doc.edit(paragraph_end, paragraph_end, "x");
    let v = doc.send(&mut server, vec![change]);
    let published = server.wait_first_publish(URI, v);
    let missing = threat_model_missing(&published);
    assert_eq!(missing.len(), 1, "{published}");
    assert_eq!(missing[0]["severity"], 4, "after typing: {}", missing[0]);
    assert!(server.shutdown_and_exit().success());
}

// 9. lifecycle

#[test]
fn shutdown_then_exit_exits_with_zero() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    let status = server.shutdown_and_exit();
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

#[test]
fn exit_without_shutdown_exits_with_one() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.notify("exit", Value::Null);
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{}", server.stderr());
}

#[test]
fn end_of_stdin_ends_the_process() {
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, "# Joint-review of Widget\n");
    server.wait_publish(URI, 1);
    server.close_stdin();
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(
        status.code(),
        Some(1),
        "no shutdown came first: {}",
        server.stderr()
    );
}

/// A client that stops reading for a while (the server's stdout pipe fills) still gets every
/// answer, each once and whole, and the diagnostics of its versions in order, the last one
/// last: frames written at once by the thread that made them (when the pipe has room and
/// nothing is queued) never pass those the writer thread holds.
#[test]
fn a_client_that_stops_reading_gets_everything_whole_and_in_order() {
    use std::io::{BufReader, Write};
    use std::process::{Command, Stdio};
    const REQUESTS: i64 = 100;
    let mut child = Command::new(env!("CARGO_BIN_EXE_joint-review-lsp"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn joint-review-lsp");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (frames, received) = std::sync::mpsc::channel();
    let reading = std::sync::Arc::new(std::sync::Barrier::new(2));
    let reader = {
        let reading = reading.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = true;
            while let Some(message) = support::read_frame(&mut reader) {
                if frames.send(message).is_err() {
                    break;
                }
                if std::mem::take(&mut first) {
                    // After `initialize`'s answer, nothing is read until the client is done
                    // writing.
                    reading.wait();
                }
            }
        })
    };
    let next = || {
        received
            .recv_timeout(support::TIMEOUT)
            .expect("a message within the timeout")
    };
    let frame = |message: Value| support::framed(message.to_string().as_bytes());
    let initialize = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "capabilities": {} } });
    stdin.write_all(&frame(initialize)).unwrap();
    assert_eq!(next()["id"], 0);
    // Many diagnostics: a publish is tens of kilobytes, and the pipe holds 64.
    let text = format!("{}{}", template(), "## Duplicate\n\ntext\n\n".repeat(300));
    let line = text.lines().count() as u64 - 1;
    let mut out = frame(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    out.extend(frame(
        json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": { "uri": URI, "languageId": "markdown", "version": 1, "text": text } } }),
    ));
    for id in 1..=REQUESTS {
        out.extend(frame(
            json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": { "uri": URI, "version": id + 1 },
            "contentChanges": [{ "range": {
                "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                "text": "x" }] } }),
        ));
        out.extend(frame(
            json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": {
            "textDocument": { "uri": URI }, "position": { "line": 0, "character": 2 } } }),
        ));
    }
    // From a thread: the server stops reading while its output is full.
    let writer = std::thread::spawn(move || {
        for chunk in out.chunks(4096) {
            stdin.write_all(chunk).expect("write");
            std::thread::sleep(Duration::from_micros(100));
        }
        stdin
    });
    let stdin = writer.join().expect("the writer");
    reading.wait();
    let mut answered = vec![0; REQUESTS as usize + 1];
    answered[0] = 1;
    let mut last_version = 0;
    while answered.contains(&0) || last_version < REQUESTS + 1 {
        let message = next();
        if let Some(id) = message["id"].as_i64() {
            answered[id as usize] += 1;
        } else if message["method"] == "textDocument/publishDiagnostics" {
            let version = message["params"]["version"].as_i64().expect("a version");
            assert!(
                version >= last_version,
                "version {version} published after {last_version}"
            );
            last_version = version;
        }
    }
    assert!(answered.iter().all(|&n| n == 1), "{answered:?}");
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
}

/// The slice the kernel reports for a thread (`se.slice` in `/proc/.../sched`, nanoseconds),
/// where it reports one.
#[cfg(target_os = "linux")]
fn scheduler_slice(sched: &std::path::Path) -> Option<u64> {
    let text = std::fs::read_to_string(sched).ok()?;
    let line = text.lines().find(|l| l.starts_with("se.slice"))?;
    line.split(':').nth(1)?.trim().parse().ok()
}

/// Every thread of the server runs with the short scheduler slice it asks for at start
/// (`lsp/slice.rs`): the stdin thread, the runtime's workers, and the blocking threads that
/// ran the document's analyses, all started after the request.
#[cfg(target_os = "linux")]
#[test]
fn every_server_thread_runs_with_a_short_scheduler_slice() {
    let ours = std::path::Path::new("/proc/thread-self/sched");
    let Some(default) = scheduler_slice(ours) else {
        eprintln!("this kernel reports no se.slice: not checked");
        return;
    };
    assert_ne!(
        default, 100_000,
        "the default slice is already the short one"
    );
    let (mut server, _) = Server::initialized(Server::init_params(None, None));
    server.did_open(URI, 1, &template());
    server.wait_publish(URI, 1);
    let tasks = std::fs::read_dir(format!("/proc/{}/task", server.pid())).expect("tasks");
    let mut slices = Vec::new();
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if let Some(slice) = scheduler_slice(&task.path().join("sched")) {
            slices.push((name.trim().to_string(), slice));
        }
    }
    assert!(slices.len() >= 3, "too few threads seen: {slices:?}");
    assert!(
        slices.iter().all(|&(_, slice)| slice == 100_000),
        "threads without the short slice: {slices:?}"
    );
    server.shutdown_and_exit();
}
