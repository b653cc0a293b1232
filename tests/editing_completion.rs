//! Completion and the hover extras seen from outside: the compiled server over stdio (see
//! `support/mod.rs`). Positions sent and checked are computed by the test's own conversion, in
//! the negotiated encoding, including after an incremental edit that put an emoji before the
//! cursor on the same line.

mod support;

use serde_json::{json, Value};
use support::{position, Doc, Encoding, Server};

const URI: &str = "file:///work/docs/joint-review.md";

/// The document part of the joint-review template without its `## Threat Model` section
/// (LF line endings).
fn template_without_threat_model() -> String {
    let path = support::workspace_root().join("grammars/joint-review.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = &text[text.find("# Joint-review of [Project]\n").expect("title")..];
    let start = text.find("## Threat Model\n").expect("Threat Model");
    let end = text
        .find("## Secure Development Practices\n")
        .expect("Secure Development Practices");
    format!("{}{}", &text[..start], &text[end..])
}

/// A short document: a table of contents, Intended Use naming a persona, a Metadata table.
const SHORT: &str = "# Joint-review of Flibble\n\n\
* [Intended Use](#in)\n\n\
## Metadata\n\n\
| | |\n| -- | -- |\n| Software | https://example.com/flibble |\n| Security Provider | No |\n\n\
## Intended Use\n\n\
* Developers run Flibble.\n\
* Comp\n\n\
## Threat Model\n\nNone yet.\n";

/// `initialize` parameters offering one position encoding, with or without snippet support.
fn init(encoding: Encoding, snippets: bool) -> Value {
    let mut params = Server::init_params(Some(&[encoding.name()]), None);
    params["capabilities"]["textDocument"]["completion"] = json!({
        "completionItem": {
            "snippetSupport": snippets,
            "documentationFormat": ["markdown", "plaintext"]
        }
    });
    params
}

fn start(encoding: Encoding, snippets: bool, text: &str) -> (Server, Doc) {
    let (mut server, result) = Server::initialized(init(encoding, snippets));
    assert_eq!(result["capabilities"]["positionEncoding"], encoding.name());
    let triggers = &result["capabilities"]["completionProvider"]["triggerCharacters"];
    for c in ["#", "("] {
        assert!(
            triggers.as_array().is_some_and(|t| t.contains(&json!(c))),
            "trigger {c:?} in {result}"
        );
    }
    let doc = Doc::new(URI, text, encoding);
    server.did_open(URI, doc.version, &doc.text);
    server.wait_publish(URI, doc.version);
    (server, doc)
}

/// The completion items at byte `offset`, sorted by `sortText` (as a client shows them before
/// filtering).
fn complete(server: &mut Server, doc: &Doc, offset: usize, trigger: Option<&str>) -> Vec<Value> {
    let mut params = json!({
        "textDocument": { "uri": doc.uri },
        "position": position(&doc.text, offset, doc.encoding),
    });
    params["context"] = match trigger {
        Some(c) => json!({ "triggerKind": 2, "triggerCharacter": c }),
        None => json!({ "triggerKind": 1 }),
    };
    let result = server
        .request("textDocument/completion", params)
        .unwrap_or_else(|e| server.fail(&format!("completion failed: {e}")));
    let items = result
        .get("items")
        .or(Some(&result))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut items = items;
    items.sort_by(|a, b| {
        let key = |i: &Value| i["sortText"].as_str().unwrap_or("").to_string();
        key(a).cmp(&key(b))
    });
    items
}

fn hover(server: &mut Server, doc: &Doc, offset: usize) -> Value {
    server
        .request(
            "textDocument/hover",
            json!({
                "textDocument": { "uri": doc.uri },
                "position": position(&doc.text, offset, doc.encoding),
            }),
        )
        .unwrap_or_else(|e| server.fail(&format!("hover failed: {e}")))
}

/// The range `start..end` (byte offsets) as the protocol gives it in the document's encoding.
fn range(doc: &Doc, start: usize, end: usize) -> Value {
    json!({
        "start": position(&doc.text, start, doc.encoding),
        "end": position(&doc.text, end, doc.encoding),
    })
}

fn item<'a>(items: &'a [Value], label: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no item {label:?} in {items:#?}"))
}

#[test]
fn threat_model_first_at_a_heading_being_typed() {
    let text = template_without_threat_model().replace(
        "## Secure Development Practices\n",
        "## Thr\n\n## Secure Development Practices\n",
    );
    for snippets in [false, true] {
        let (mut server, doc) = start(Encoding::Utf16, snippets, &text);
        let line = doc.find("## Thr\n");
        let cursor = line + "## Thr".len();
        let items = complete(&mut server, &doc, cursor, None);
        let first = &items[0];
        assert_eq!(first["label"], "Threat Model", "{items:#?}");
        assert_eq!(first["textEdit"]["range"], range(&doc, line, cursor));
        assert_eq!(first["filterText"], "## Threat Model");
        assert_eq!(first["kind"], 9, "a section is a module");
        let documentation = first["documentation"]["value"].as_str().unwrap();
        assert!(
            documentation.contains("example threat model table"),
            "{documentation}"
        );
        assert!(documentation.contains("CC BY 4.0"), "{documentation}");
        if snippets {
            // Its sub-sections are examples, not required: a placeholder for the text only.
            assert_eq!(first["insertTextFormat"], 2);
            let new_text = first["textEdit"]["newText"].as_str().unwrap();
            assert!(
                new_text.starts_with("## Threat Model\n\n${1:"),
                "{new_text}"
            );
        } else {
            assert_eq!(first["insertTextFormat"], 1);
            assert_eq!(first["textEdit"]["newText"], "## Threat Model");
        }
        assert!(server.shutdown_and_exit().success());
    }
}

/// A client that resolves documentation lazily (as VS Code and Helix say they do) gets section
/// items without it, and `completionItem/resolve` fills in what an eager client got in the list.
#[test]
fn section_documentation_on_resolve_for_a_client_that_asks_for_it_later() {
    let text = template_without_threat_model().replace(
        "## Secure Development Practices\n",
        "## Thr\n\n## Secure Development Practices\n",
    );
    let (mut eager, doc) = start(Encoding::Utf16, true, &text);
    let cursor = doc.find("## Thr\n") + "## Thr".len();
    let eager_items = complete(&mut eager, &doc, cursor, None);
    assert!(
        eager_items[0].get("data").is_none(),
        "{:#?}",
        eager_items[0]
    );
    assert!(eager.shutdown_and_exit().success());

    let mut params = init(Encoding::Utf16, true);
    params["capabilities"]["textDocument"]["completion"]["completionItem"]["resolveSupport"] =
        json!({ "properties": ["documentation", "detail"] });
    let (mut server, result) = Server::initialized(params);
    assert_eq!(
        result["capabilities"]["completionProvider"]["resolveProvider"],
        true
    );
    server.did_open(URI, doc.version, &doc.text);
    server.wait_publish(URI, doc.version);
    let items = complete(&mut server, &doc, cursor, None);
    assert_eq!(items.len(), eager_items.len());
    for (lazy, eager) in items.iter().zip(&eager_items) {
        assert_eq!(lazy["label"], eager["label"]);
        assert_eq!(lazy["textEdit"], eager["textEdit"]);
        assert!(lazy.get("documentation").is_none(), "{lazy:#?}");
        let resolved = server
            .request("completionItem/resolve", lazy.clone())
            .unwrap_or_else(|e| server.fail(&format!("resolve failed: {e}")));
        assert_eq!(resolved["documentation"], eager["documentation"]);
        assert_eq!(resolved["label"], eager["label"]);
    }
    let first = server
        .request("completionItem/resolve", items[0].clone())
        .unwrap();
    let documentation = first["documentation"]["value"].as_str().unwrap();
    assert!(
        documentation.contains("example threat model table"),
        "{documentation}"
    );

    // Items the server did not make, or whose data names nothing it knows, come back as sent.
    for data in [
        json!(null),
        json!({ "outline": "joint-review", "section": 100000 }),
        json!({ "outline": "no-such-outline", "section": 0 }),
        json!({ "outline": "joint-review", "section": -1 }),
        json!("section 3"),
    ] {
        let item = json!({ "label": "Threat Model", "data": data });
        let resolved = server
            .request("completionItem/resolve", item.clone())
            .unwrap();
        assert_eq!(resolved["label"], item["label"]);
        assert_eq!(resolved["data"], item["data"]);
        assert!(resolved.get("documentation").is_none(), "{resolved}");
    }
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn anchor_completion_after_hash() {
    let (mut server, doc) = start(Encoding::Utf16, false, SHORT);
    let target = doc.find("](#in)") + "](#".len();
    let cursor = target + "in".len();
    let items = complete(&mut server, &doc, cursor, Some("#"));
    let intended = item(&items, "Intended Use");
    assert_eq!(intended["textEdit"]["newText"], "intended-use");
    assert_eq!(intended["textEdit"]["range"], range(&doc, target, cursor));
    assert_eq!(intended["detail"], "#intended-use");
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    assert_eq!(
        labels,
        [
            "Joint-review of Flibble",
            "Metadata",
            "Intended Use",
            "Threat Model"
        ]
    );
    // `#` typed in prose asks for nothing.
    let prose = doc.find("run Flibble") + "run".len();
    assert!(complete(&mut server, &doc, prose, Some("#")).is_empty());
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn persona_completion_in_intended_use() {
    let (mut server, doc) = start(Encoding::Utf16, false, SHORT);
    let typed = doc.find("* Comp\n") + "* ".len();
    let cursor = typed + "Comp".len();
    let items = complete(&mut server, &doc, cursor, None);
    assert_eq!(items.len(), 9, "{items:#?}");
    let first = &items[0];
    assert_eq!(first["label"], "Compliance Officer / Auditor");
    assert_eq!(first["textEdit"]["range"], range(&doc, typed, cursor));
    assert_eq!(first["textEdit"]["newText"], "Compliance Officer / Auditor");
    let documentation = first["documentation"]["value"].as_str().unwrap();
    assert!(
        documentation.contains("certify access to resources"),
        "{documentation}"
    );
    for name in [
        "Enterprise Operator",
        "Quota Operator",
        "Network Operator",
        "Security Administrator",
        "Developer",
        "Third Party Security Product/System",
        "End user",
        "Platform Implementer",
    ] {
        item(&items, name);
    }
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn metadata_values_in_the_value_cell() {
    let (mut server, doc) = start(Encoding::Utf16, false, SHORT);
    let value = doc.find("| No |") + "| ".len();
    let items = complete(&mut server, &doc, value + 1, None);
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    assert_eq!(labels, ["Yes", "No"]);
    assert_eq!(items[0]["textEdit"]["range"], range(&doc, value, value + 2));
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn hover_on_a_persona() {
    let (mut server, doc) = start(Encoding::Utf16, false, SHORT);
    let name = doc.find("Developers run");
    let found = hover(&mut server, &doc, name + 3);
    assert_eq!(found["range"], range(&doc, name, name + "Developers".len()));
    let value = found["contents"]["value"].as_str().unwrap();
    assert!(
        value.starts_with("**Developer** — standard persona"),
        "{value}"
    );
    assert!(value.contains("perform an access check"), "{value}");
    assert!(value.contains("CC BY 4.0"), "{value}");
    assert!(server.shutdown_and_exit().success());
}

/// After an incremental edit that put an emoji before the cursor on the same line, completion
/// and hover ranges are still right, in the negotiated encoding.
fn emoji_before_the_cursor(encoding: Encoding) {
    let (mut server, mut doc) = start(encoding, false, SHORT);

    // Anchor completion: "* [😀 Intended Use](#in)".
    let at = doc.find("[Intended Use](#in)") + 1;
    let change = doc.edit(at, at, "😀 ");
    let v = doc.send(&mut server, vec![change]);
    server.wait_publish(URI, v);
    let target = doc.find("](#in)") + "](#".len();
    let cursor = target + "in".len();
    let items = complete(&mut server, &doc, cursor, None);
    let intended = item(&items, "Intended Use");
    assert_eq!(intended["textEdit"]["range"], range(&doc, target, cursor));

    // Hover on the link after the emoji: its whole range.
    let link = doc.find("[😀 Intended Use](#in)");
    let found = hover(&mut server, &doc, cursor);
    assert_eq!(
        found["range"],
        range(&doc, link, link + "[😀 Intended Use](#in)".len())
    );
    let value = found["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("probably means the heading 'Intended Use'"),
        "{value}"
    );

    // Persona completion and hover: "* 😀 Developers run Flibble." and "* 😀 Comp".
    let at = doc.find("Developers run");
    let change = doc.edit(at, at, "😀 ");
    let at = doc.find("Comp\n");
    let second = doc.edit(at, at, "😀 ");
    let v = doc.send(&mut server, vec![change, second]);
    server.wait_publish(URI, v);
    let name = doc.find("Developers run");
    let found = hover(&mut server, &doc, name + "Developers".len());
    assert_eq!(found["range"], range(&doc, name, name + "Developers".len()));
    let typed = doc.find("Comp\n");
    let cursor = typed + "Comp".len();
    let items = complete(&mut server, &doc, cursor, None);
    assert_eq!(items[0]["label"], "Compliance Officer / Auditor");
    assert_eq!(items[0]["textEdit"]["range"], range(&doc, typed, cursor));

    // A heading being typed after an emoji: "## 😀 Thr" replaced as a whole.
    let at = doc.find("## Threat Model");
    let change = doc.edit(at, at + "## Threat Model".len(), "## 😀 Thr");
    let v = doc.send(&mut server, vec![change]);
    server.wait_publish(URI, v);
    let line = doc.find("## 😀 Thr");
    let cursor = line + "## 😀 Thr".len();
    let items = complete(&mut server, &doc, cursor, None);
    let threat = item(&items, "Threat Model");
    assert_eq!(threat["textEdit"]["range"], range(&doc, line, cursor));
    assert_eq!(threat["textEdit"]["newText"], "## Threat Model");
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn emoji_before_the_cursor_in_utf16() {
    emoji_before_the_cursor(Encoding::Utf16);
}

#[test]
fn emoji_before_the_cursor_in_utf8() {
    emoji_before_the_cursor(Encoding::Utf8);
}
