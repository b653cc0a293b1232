//! Code actions seen from outside: the compiled server is asked for actions over stdio, the
//! returned workspace edit is applied to the test's own copy of the text (positions converted
//! by the test, in the negotiated encoding) and sent back as incremental changes, and the
//! diagnostics published for the new version are compared with those before.

mod support;

use serde_json::{json, Value};
use support::{offset, Doc, Encoding, Server};

/// The document part of the joint-review template (LF line endings).
fn template() -> String {
    let path = support::workspace_root().join("grammars/joint-review.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text
        .find("# Joint-review of [Project]\n")
        .expect("the template's title line");
    text[start..].to_string()
}

/// `text` without the sections whose `##` headings are given (each up to the next `##`).
fn cut(text: &str, headings: &[&str]) -> String {
    let mut out = text.to_string();
    for heading in headings {
        let line = format!("## {heading}\n");
        let start = out.find(&line).unwrap_or_else(|| panic!("no {heading:?}"));
        let end = out[start + line.len()..]
            .find("\n## ")
            .map_or(out.len(), |e| start + line.len() + e + 1);
        out.replace_range(start..end, "");
    }
    out
}

/// A session in `encoding` with `text` open as version 1; returns its first publish.
fn open(encoding: Encoding, uri: &str, text: &str) -> (Server, Doc, Value) {
    let (mut server, result) =
        Server::initialized(Server::init_params(Some(&[encoding.name()]), None));
    assert_eq!(
        result["capabilities"]["positionEncoding"],
        encoding.name(),
        "{result}"
    );
    let kinds = &result["capabilities"]["codeActionProvider"]["codeActionKinds"];
    for kind in ["quickfix", "source.fixAll", "refactor.rewrite"] {
        assert!(
            kinds.as_array().is_some_and(|k| k.contains(&json!(kind))),
            "{kind} not advertised: {result}"
        );
    }
    let doc = Doc::new(uri, text, encoding);
    server.did_open(uri, 1, text);
    let published = server.wait_publish(uri, 1);
    (server, doc, published)
}

/// `textDocument/codeAction` over `range`, with the given diagnostics and `only` kinds.
fn code_actions(
    server: &mut Server,
    uri: &str,
    range: &Value,
    diagnostics: Vec<Value>,
    only: Option<&[&str]>,
) -> Vec<Value> {
    let mut context = json!({ "diagnostics": diagnostics });
    if let Some(only) = only {
        context["only"] = json!(only);
    }
    let result = server
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": range, "context": context }),
        )
        .unwrap_or_else(|e| server.fail(&format!("codeAction failed: {e}")));
    let actions = result
        .as_array()
        .unwrap_or_else(|| panic!("codeAction result is not an array: {result}"))
        .clone();
    for a in &actions {
        assert!(
            a["title"].is_string() && a["kind"].is_string(),
            "action shape: {a}"
        );
        assert!(a["edit"]["changes"][uri].is_array(), "edit for {uri}: {a}");
    }
    actions
}

/// The action with this title (which must be there).
fn titled<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| {
            let titles: Vec<&Value> = actions.iter().map(|a| &a["title"]).collect();
            panic!("no action {title:?} among {titles:?}")
        })
}

/// Applies an action's workspace edit to the test's copy and sends it as the next version, as
/// incremental changes (last edit first, so each range is still valid when it applies); returns
/// the publish for that version.
fn apply(server: &mut Server, doc: &mut Doc, action: &Value) -> Value {
    let edits = action["edit"]["changes"][doc.uri.as_str()]
        .as_array()
        .unwrap_or_else(|| panic!("no edits for {}: {action}", doc.uri));
    let mut ranges: Vec<(usize, usize, usize, String)> = edits
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |end: &str| {
                offset(&doc.text, &e["range"][end], doc.encoding).unwrap_or_else(|| {
                    panic!("{end} of {e} is not a character position of the text")
                })
            };
            let new_text = e["newText"].as_str().expect("newText").to_string();
            (at("start"), at("end"), i, new_text)
        })
        .collect();
    ranges.sort_by_key(|&(start, end, i, _)| (start, end, i));
    for pair in ranges.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping edits: {edits:?}");
    }
    let changes: Vec<Value> = ranges
        .iter()
        .rev()
        .map(|(start, end, _, new_text)| doc.edit(*start, *end, new_text))
        .collect();
    let version = doc.send(server, changes);
    server.wait_publish(&doc.uri, version)
}

/// A diagnostic's identity, independent of where edits moved it. A broken link is the same
/// problem whichever heading it is thought to mean (inserting that heading changes the hint).
fn key(d: &Value) -> String {
    let message = d["message"].as_str().unwrap_or_default();
    if d["code"] == "toc-link" {
        let target = message
            .split(" matches no heading")
            .next()
            .unwrap_or(message);
        return format!("\"toc-link\" | {target}");
    }
    format!("{} | {message} | {}", d["code"], d["data"]["section"])
}

fn keys(publish: &Value) -> Vec<String> {
    let mut keys: Vec<String> = publish["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    keys.sort();
    keys
}

fn codes_in(publish: &Value, code: &str) -> usize {
    support::with_code(publish, code).len()
}

/// The missing-section diagnostic for a section.
fn missing(publish: &Value, section: &str) -> Value {
    support::with_code(publish, "missing-section")
        .into_iter()
        .find(|d| d["data"]["section"] == section)
        .unwrap_or_else(|| panic!("no missing-section for {section}: {publish}"))
        .clone()
}

/// The quick fix for a missing section, applied: that diagnostic goes, nothing else changes.
fn missing_section_fix(encoding: Encoding, text: &str) {
    let uri = "file:///work/docs/joint-review.md";
    let (mut server, mut doc, before) = open(encoding, uri, text);
    let diagnostic = missing(&before, "Threat Model");
    let actions = code_actions(
        &mut server,
        uri,
        &diagnostic["range"],
        vec![diagnostic.clone()],
        None,
    );
    let fix = titled(&actions, "Insert section 'Threat Model'");
    assert_eq!(fix["kind"], "quickfix", "{fix}");
    assert_eq!(fix["isPreferred"], true, "{fix}");
    assert_eq!(
        fix["diagnostics"]
            .as_array()
            .map(|d| d.iter().map(key).collect::<Vec<_>>()),
        Some(vec![key(&diagnostic)]),
        "{fix}"
    );
    let after = apply(&mut server, &mut doc, fix);
    let mut expected = keys(&before);
    expected.retain(|k| *k != key(&diagnostic));
    assert_eq!(keys(&after), expected, "only the fixed diagnostic went");
    assert!(doc.text.contains("## Threat Model"), "{}", doc.text);
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn missing_section_fix_removes_exactly_its_diagnostic() {
    missing_section_fix(Encoding::Utf8, &cut(&template(), &["Threat Model"]));
}

/// The same in UTF-16 over CRLF text with emoji and CJK before every edit, on the lines the
/// edits touch too (the table of contents' line the new entry follows).
#[test]
fn missing_section_fix_in_utf16_with_emoji_cjk_and_crlf() {
    let text = cut(&template(), &["Threat Model"])
        .replace("# Joint-review of [Project]", "# Joint-review of 😀 项目")
        .replace(
            "* [Security analysis](#security-analysis)",
            "* [Security analysis 🛡️ 安全](#security-analysis)",
        )
        .replace(
            "### Compensating Mechanisms\n",
            "### Compensating Mechanisms\n\n👩‍👩‍👧 中文 text before the insertion.\n",
        )
        .replace('\n', "\r\n");
    missing_section_fix(Encoding::Utf16, &text);
}

#[test]
fn insert_all_missing_sections() {
    let uri = "file:///work/docs/joint-review.md";
    let text = cut(
        &template(),
        &[
            "Overview",
            "Threat Model",
            "Secure Development Practices",
            "Roadmap",
        ],
    );
    let (mut server, mut doc, before) = open(Encoding::Utf32, uri, &text);
    let diagnostic = missing(&before, "Roadmap");
    let actions = code_actions(
        &mut server,
        uri,
        &diagnostic["range"],
        vec![],
        Some(&["quickfix"]),
    );
    assert!(
        actions.iter().all(|a| a["kind"] == "quickfix"),
        "only quick fixes: {actions:?}"
    );
    let all = titled(&actions, "Insert all 7 missing sections");
    let fixed = all["diagnostics"].as_array().unwrap().len();
    assert_eq!(fixed, codes_in(&before, "missing-section"), "{all}");
    let after = apply(&mut server, &mut doc, all);
    assert_eq!(codes_in(&after, "missing-section"), 0, "{after}");
    // Nothing new; links to the cut sections work again.
    let before_keys = keys(&before);
    for k in keys(&after) {
        assert!(before_keys.contains(&k), "new diagnostic {k}");
    }
    assert!(codes_in(&after, "toc-link") < codes_in(&before, "toc-link"));
    // Template order where several went in at one place.
    let order: Vec<usize> = ["## Threat Model", "## Secure Development Practices"]
        .iter()
        .map(|h| doc.find(h))
        .collect();
    assert!(order[0] < order[1], "{}", doc.text);
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn table_of_contents_update_leaves_no_toc_problem() {
    let uri = "file:///work/docs/joint-review.md";
    // The template's table lacks Threat Model and links "#goals" for "Goal"; add a heading with
    // emoji and a duplicate, and break another link.
    let text = template()
        .replace("(#metadata)", "(#meta-data)")
        .replace(
            "## Roadmap\n",
            "## Roadmap 🚀 路线图\n\n### Notes\n\nn\n\n## Appendix\n\n### Notes\n\nn\n",
        )
        .replacen("## Appendix\n", "## Extra\n", 1);
    let (mut server, mut doc, before) = open(Encoding::Utf16, uri, &text);
    assert!(codes_in(&before, "toc-link") >= 2, "{before}");
    assert!(codes_in(&before, "toc-entry") >= 1, "{before}");
    let start = json!({ "line": 0, "character": 0 });
    let actions = code_actions(
        &mut server,
        uri,
        &json!({ "start": start, "end": start }),
        vec![],
        Some(&["source"]),
    );
    assert!(
        actions
            .iter()
            .all(|a| a["kind"].as_str().unwrap().starts_with("source")),
        "only source actions: {actions:?}"
    );
    let update = titled(&actions, "Update the table of contents");
    assert_eq!(update["kind"], "source.joint-review.toc");
    let after = apply(&mut server, &mut doc, update);
    assert_eq!(codes_in(&after, "toc-link"), 0, "{after}");
    assert_eq!(codes_in(&after, "toc-entry"), 0, "{after}");
    assert!(
        doc.text.contains("* [Roadmap 🚀 路线图](#roadmap--路线图)"),
        "{}",
        doc.text
    );
    assert!(doc.text.contains("(#notes-1)"), "{}", doc.text);
    // Up to date now: no second update.
    let actions = code_actions(
        &mut server,
        uri,
        &json!({ "start": start, "end": start }),
        vec![],
        Some(&["source.joint-review.toc"]),
    );
    assert_eq!(actions, Vec::<Value>::new());
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn fix_all_and_a_new_document() {
    let uri = "file:///work/docs/joint-review.md";
    let text = cut(&template(), &["Threat Model", "Roadmap"]).replace("(#goals)", "(#goal-s)");
    let (mut server, mut doc, before) = open(Encoding::Utf16, uri, &text);
    let start = json!({ "line": 0, "character": 0 });
    let range = json!({ "start": start, "end": start });
    let actions = code_actions(&mut server, uri, &range, vec![], Some(&["source.fixAll"]));
    assert_eq!(actions.len(), 1, "{actions:?}");
    let after = apply(&mut server, &mut doc, &actions[0]);
    for code in ["missing-section", "toc-link", "toc-entry"] {
        assert_eq!(codes_in(&after, code), 0, "{code}: {after}");
    }
    let before_keys = keys(&before);
    for k in keys(&after) {
        assert!(before_keys.contains(&k), "new diagnostic {k}");
    }

    // An empty file: start from a template; only the Metadata values are left to fill in.
    let empty = "file:///work/docs/new-self-assessment.md";
    let mut doc = Doc::new(empty, "", Encoding::Utf16);
    server.did_open(empty, 1, "");
    server.wait_publish(empty, 1);
    let actions = code_actions(&mut server, empty, &range, vec![], None);
    let start = titled(&actions, "Start a self-assessment from the template");
    assert_eq!(
        start["isPreferred"], true,
        "outline from the file name: {start}"
    );
    let after = apply(&mut server, &mut doc, start);
    let left: Vec<String> = keys(&after)
        .into_iter()
        .filter(|k| !k.contains("has no value"))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "{}", doc.text);
    assert!(server.shutdown_and_exit().success());
}
