//! Navigation and structure over stdio: document symbols, folding ranges, go to definition,
//! references, rename (with prepareRename) and document links, as an editor asks for them.
//!
//! Documents are built from the joint-review template (`grammars/joint-review.md`, from its
//! `# Joint-review of [Project]` line on). Positions are computed by the test's own conversion
//! (`support::position` / `support::offset`) in the negotiated encoding, and the server's edits
//! are applied to the test's copy of the document, then sent back as changes.

mod support;

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

/// `initialize` parameters of a client that takes everything the navigation features can
/// answer with (nested symbols, line folds, location links, prepareRename), or nothing of it.
fn init_params(encodings: Option<&[&str]>, rich_client: bool) -> Value {
    let mut params = Server::init_params(encodings, None);
    if rich_client {
        let text = &mut params["capabilities"]["textDocument"];
        text["documentSymbol"] = json!({ "hierarchicalDocumentSymbolSupport": true });
        text["foldingRange"] = json!({ "lineFoldingOnly": true });
        text["definition"] = json!({ "linkSupport": true });
        text["rename"] = json!({ "prepareSupport": true });
    }
    params
}

fn start(encodings: Option<&[&str]>, rich_client: bool) -> Server {
    let (server, result) = Server::initialized(init_params(encodings, rich_client));
    let caps = &result["capabilities"];
    for provider in [
        "documentSymbolProvider",
        "foldingRangeProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "documentLinkProvider",
    ] {
        assert!(
            !caps[provider].is_null() && caps[provider] != false,
            "{provider}: {result}"
        );
    }
    let prepare = caps["renameProvider"]["prepareProvider"] == true;
    assert_eq!(
        prepare, rich_client,
        "prepareProvider only if offered: {result}"
    );
    server
}

fn text_position(doc: &Doc, offset: usize) -> Value {
    json!({ "textDocument": { "uri": doc.uri }, "position": position(&doc.text, offset, doc.encoding) })
}

fn request(server: &mut Server, method: &str, params: Value) -> Value {
    server
        .request(method, params)
        .unwrap_or_else(|e| server.fail(&format!("{method} failed: {e}")))
}

/// The 0-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    position(text, offset, Encoding::Utf8)["line"]
        .as_u64()
        .unwrap()
}

/// The text an LSP range covers, in the document's encoding (which must hit char boundaries).
fn covered<'a>(doc: &'a Doc, range: &Value) -> &'a str {
    let start = support::offset(&doc.text, &range["start"], doc.encoding)
        .unwrap_or_else(|| panic!("start of {range} is not a position of the text"));
    let end = support::offset(&doc.text, &range["end"], doc.encoding)
        .unwrap_or_else(|| panic!("end of {range} is not a position of the text"));
    &doc.text[start..end]
}

/// Applies a rename's `WorkspaceEdit` to the test's copy, as incremental changes (last edit
/// first, so every range is still valid when applied), and sends them as the next version.
fn apply(server: &mut Server, doc: &mut Doc, edit: &Value) -> i64 {
    let edits = edit["changes"][&doc.uri]
        .as_array()
        .unwrap_or_else(|| panic!("no edits for {} in {edit}", doc.uri));
    let mut byte_edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let start = support::offset(&doc.text, &e["range"]["start"], doc.encoding);
            let end = support::offset(&doc.text, &e["range"]["end"], doc.encoding);
            match (start, end) {
                (Some(s), Some(t)) => (s, t, e["newText"].as_str().unwrap().to_string()),
                _ => panic!("edit range is not at character boundaries: {e}"),
            }
        })
        .collect();
    byte_edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for pair in byte_edits.windows(2) {
        assert!(pair[1].1 <= pair[0].0, "overlapping edits: {edit}");
    }
    let changes = byte_edits
        .iter()
        .map(|(s, e, t)| doc.edit(*s, *e, t))
        .collect();
    doc.send(server, changes)
}

fn toc_links(published: &Value) -> Vec<&Value> {
    with_code(published, "toc-link")
}

#[test]
fn document_symbols_are_the_heading_tree() {
    let mut server = start(None, true);
    let doc = Doc::new(URI, &template(), Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let symbols = request(
        &mut server,
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    let roots = symbols.as_array().expect("an array of symbols");
    assert_eq!(roots.len(), 1, "the title holds everything: {symbols}");
    let title = &roots[0];
    // A shortcut link with no definition shows as written, as GitHub renders it.
    assert_eq!(title["name"], "Joint-review of [Project]");
    assert_eq!(title["detail"], "title: joint-review outline");
    let children = title["children"].as_array().unwrap();
    let names: Vec<&str> = children
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..3],
        ["Table of Contents", "Metadata", "Overview"],
        "{names:?}"
    );
    let overview = &children[2];
    assert_eq!(overview["detail"], "template: Overview");
    let goal = overview["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Goal")
        .unwrap_or_else(|| panic!("Goal under Overview: {overview}"));
    assert_eq!(goal["detail"], "template: Goal");
    // The selection is the heading line; the range is the section, up to its last text.
    let goal_at = doc.find("### Goal\n");
    assert_eq!(
        goal["selectionRange"]["start"],
        position(&doc.text, goal_at, doc.encoding)
    );
    assert_eq!(covered(&doc, &goal["selectionRange"]), "### Goal");
    let section = covered(&doc, &goal["range"]);
    assert!(
        section.starts_with("### Goal\n") && !section.ends_with('\n'),
        "{section:?}"
    );
    assert!(doc.text[goal_at + section.len()..]
        .trim_start()
        .starts_with("### Non-goals"));

    // A client without nested symbols gets a flat list, each naming its parent.
    let mut flat_server = start(None, false);
    flat_server.did_open(URI, 1, &doc.text);
    let flat = request(
        &mut flat_server,
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    let flat = flat.as_array().unwrap();
    let goal = flat.iter().find(|s| s["name"] == "Goal").expect("Goal");
    assert_eq!(goal["containerName"], "Overview");
    assert!(goal["location"]["range"].is_object(), "{goal}");
    assert_eq!(
        flat.len(),
        doc.text.lines().filter(|l| l.starts_with('#')).count()
    );
    assert!(server.shutdown_and_exit().success());
    assert!(flat_server.shutdown_and_exit().success());
}

#[test]
fn folding_ranges_for_sections_lists_and_comments() {
    let text = template().replace(
        "## Overview\n",
        "## Overview\n\n<!-- a comment\nover two lines -->\n\n```\ncode\n```\n",
    );
    for (rich_client, encoding) in [(true, Encoding::Utf16), (false, Encoding::Utf8)] {
        let mut server = start(Some(&[encoding.name()]), rich_client);
        let doc = Doc::new(URI, &text, encoding);
        server.did_open(URI, 1, &doc.text);
        let folds = request(
            &mut server,
            "textDocument/foldingRange",
            json!({ "textDocument": { "uri": URI } }),
        );
        let folds = folds.as_array().expect("an array of folds");
        let starting = |line: u64| -> Vec<&Value> {
            folds.iter().filter(|f| f["startLine"] == line).collect()
        };
        // The Threat Model section: from its heading to its last text, not the blank line.
        let threat = line_of(&text, doc.find("## Threat Model\n"));
        let next = line_of(&text, doc.find("## Secure Development Practices\n"));
        let f = starting(threat);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["endLine"], next - 2, "{}", f[0]);
        assert!(f[0].get("kind").is_none(), "{}", f[0]);
        assert_eq!(
            f[0].get("endCharacter").is_some(),
            !rich_client,
            "columns only without lineFoldingOnly: {}",
            f[0]
        );
        // The table of contents' list, the comment (kind comment) and the code block.
        let toc = line_of(&text, doc.find("* [Metadata](#metadata)"));
        let toc_end = line_of(&text, doc.find("* [Appendix](#appendix)"));
        assert!(
            starting(toc).iter().any(|f| f["endLine"] == toc_end),
            "{:?}",
            starting(toc)
        );
        let comment = line_of(&text, doc.find("<!-- a comment"));
        assert_eq!(starting(comment)[0]["kind"], "comment");
        assert_eq!(starting(comment)[0]["endLine"], comment + 1);
        let code = line_of(&text, doc.find("```\ncode"));
        assert_eq!(starting(code)[0]["endLine"], code + 2);
        assert!(folds
            .iter()
            .all(|f| f["startLine"].as_u64() < f["endLine"].as_u64()));
        assert!(server.shutdown_and_exit().success());
    }
}

#[test]
fn definition_from_a_toc_link_and_references_back() {
    let mut server = start(None, true);
    let doc = Doc::new(URI, &template(), Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let link = doc.find("[Overview](#overview)");
    let heading = doc.find("## Overview\n");
    for cursor in [link, link + 3, link + "[Overview](#over".len()] {
        let found = request(
            &mut server,
            "textDocument/definition",
            text_position(&doc, cursor),
        );
        let found = found.as_array().expect("location links");
        assert_eq!(found.len(), 1, "{found:?}");
        let l = &found[0];
        assert_eq!(l["targetUri"], URI);
        assert_eq!(
            covered(&doc, &l["originSelectionRange"]),
            "[Overview](#overview)"
        );
        assert_eq!(covered(&doc, &l["targetSelectionRange"]), "## Overview");
        assert!(covered(&doc, &l["targetRange"]).starts_with("## Overview\n\n"));
    }
    // A broken link (the template's TOC says #goals; the heading is "Goal") goes nowhere.
    let broken = doc.find("(#goals)") + 2;
    let found = request(
        &mut server,
        "textDocument/definition",
        text_position(&doc, broken),
    );
    assert_eq!(found, Value::Null);

    // References from the heading line.
    let mut refs = |include: bool| {
        let mut params = text_position(&doc, heading + 5);
        params["context"] = json!({ "includeDeclaration": include });
        let found = request(&mut server, "textDocument/references", params);
        found
            .as_array()
            .expect("locations")
            .iter()
            .map(|l| {
                assert_eq!(l["uri"], URI);
                covered(&doc, &l["range"]).to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(refs(false), ["[Overview](#overview)"]);
    assert_eq!(refs(true), ["## Overview", "[Overview](#overview)"]);

    // A client without location links gets the heading's location.
    let mut plain = start(None, false);
    plain.did_open(URI, 1, &doc.text);
    let found = request(
        &mut plain,
        "textDocument/definition",
        text_position(&doc, link),
    );
    assert_eq!(found["uri"], URI, "{found}");
    assert_eq!(covered(&doc, &found["range"]), "## Overview");
    assert!(server.shutdown_and_exit().success());
    assert!(plain.shutdown_and_exit().success());
}

#[test]
fn document_links_go_to_the_heading_line() {
    let mut server = start(None, true);
    let doc = Doc::new(URI, &template(), Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let links = request(
        &mut server,
        "textDocument/documentLink",
        json!({ "textDocument": { "uri": URI } }),
    );
    let links = links.as_array().expect("links");
    let overview = links
        .iter()
        .find(|l| covered(&doc, &l["range"]) == "#overview")
        .unwrap_or_else(|| panic!("a link on #overview: {links:?}"));
    let line = line_of(&doc.text, doc.find("## Overview\n")) + 1;
    assert_eq!(overview["target"], format!("{URI}#L{line}"));
    assert_eq!(overview["tooltip"], "Go to 'Overview'");
    // Only links that resolve: the template's #goals does not.
    assert!(links.iter().all(|l| covered(&doc, &l["range"]) != "#goals"));
    let toc_entries = doc.text.matches("](#").count();
    assert_eq!(links.len(), toc_entries - 1, "{links:?}");
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn renaming_a_heading_leaves_no_toc_link_diagnostic() {
    let mut server = start(None, true);
    let mut doc = Doc::new(URI, &template(), Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let published = server.wait_publish(URI, 1);
    assert_eq!(
        toc_links(&published).len(),
        1,
        "the template's #goals: {published}"
    );

    // "Goal" -> "Goals": the TOC's #goals now resolves.
    let goal = doc.find("### Goal\n") + 5;
    let prepared = request(
        &mut server,
        "textDocument/prepareRename",
        text_position(&doc, goal),
    );
    assert_eq!(prepared["placeholder"], "Goal", "{prepared}");
    assert_eq!(covered(&doc, &prepared["range"]), "Goal");
    let mut params = text_position(&doc, goal);
    params["newName"] = json!("Goals");
    let edit = request(&mut server, "textDocument/rename", params);
    let v = apply(&mut server, &mut doc, &edit);
    let published = server.wait_publish(URI, v);
    assert!(toc_links(&published).is_empty(), "{published}");

    // "Project Design" -> "Architecture": the TOC entry follows.
    let design = doc.find("## Project Design\n") + 3;
    let mut params = text_position(&doc, design);
    params["newName"] = json!("Architecture");
    let edit = request(&mut server, "textDocument/rename", params);
    let v = apply(&mut server, &mut doc, &edit);
    assert!(
        doc.text.contains("* [Project design](#architecture)\n"),
        "{}",
        doc.text
    );
    assert!(doc.text.contains("\n## Architecture\n"));
    let published = server.wait_publish(URI, v);
    assert!(toc_links(&published).is_empty(), "{published}");

    // Not on a heading's text: no rename there, and a rename request is refused.
    let marker = doc.find("## Overview\n");
    let prepared = request(
        &mut server,
        "textDocument/prepareRename",
        text_position(&doc, marker),
    );
    assert_eq!(prepared, Value::Null);
    let mut params = text_position(&doc, marker);
    params["newName"] = json!("X");
    let error = server
        .request("textDocument/rename", params)
        .expect_err("rename on a heading marker");
    assert!(
        error["message"].as_str().unwrap().contains("heading"),
        "{error}"
    );
    let mut params = text_position(&doc, marker + 4);
    params["newName"] = json!("  ");
    let error = server
        .request("textDocument/rename", params)
        .expect_err("rename to empty text");
    assert!(
        error["message"].as_str().unwrap().contains("empty"),
        "{error}"
    );
    assert!(server.shutdown_and_exit().success());
}

/// Emoji and CJK before the heading (on other lines) and in it, CRLF line breaks, UTF-16.
#[test]
fn rename_in_a_utf16_session_with_emoji_and_cjk() {
    let text = "# Joint-review of Wïdget 😀\r\n\r\n## Table of Contents\r\n\r\n\
        * [Metadata](#metadata)\r\n* [Überblick 😀 中文](#überblick--中文)\r\n\r\n\
        ## Metadata\r\n\r\n😀 中文 before the heading, 🚀 again.\r\n\r\n\
        ## Überblick 😀 中文\r\n\r\nSee [the overview 🚀](#überblick--中文) 中文.\r\n";
    let mut server = start(Some(&["utf-16"]), true);
    let mut doc = Doc::new(URI, text, Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let published = server.wait_publish(URI, 1);
    assert!(toc_links(&published).is_empty(), "{published}");

    // The cursor after the emoji in the heading's text.
    let heading = doc.find("## Überblick");
    let cursor = heading + "## Überblick 😀 中".len();
    let prepared = request(
        &mut server,
        "textDocument/prepareRename",
        text_position(&doc, cursor),
    );
    assert_eq!(prepared["placeholder"], "Überblick 😀 中文", "{prepared}");
    let content = heading + 3;
    assert_eq!(
        prepared["range"],
        json!({
            "start": position(&doc.text, content, Encoding::Utf16),
            "end": position(&doc.text, content + "Überblick 😀 中文".len(), Encoding::Utf16),
        })
    );

    let mut params = text_position(&doc, cursor);
    params["newName"] = json!("Übersicht 🚀 概要");
    let edit = request(&mut server, "textDocument/rename", params);
    let v = apply(&mut server, &mut doc, &edit);
    let expected = text
        .replace(
            "[Überblick 😀 中文](#überblick--中文)",
            "[Übersicht 🚀 概要](#übersicht--概要)",
        )
        .replace("## Überblick 😀 中文", "## Übersicht 🚀 概要")
        .replace("(#überblick--中文)", "(#übersicht--概要)");
    assert_eq!(doc.text, expected);
    let published = server.wait_publish(URI, v);
    assert!(toc_links(&published).is_empty(), "{published}");

    // After the change, the link leads to the renamed heading, in UTF-16 positions.
    let link = doc.find("[the overview 🚀]") + "[the overview 🚀](#übersicht".len();
    let found = request(
        &mut server,
        "textDocument/definition",
        text_position(&doc, link),
    );
    let found = &found[0];
    assert_eq!(
        covered(&doc, &found["targetSelectionRange"]),
        "## Übersicht 🚀 概要"
    );
    assert_eq!(
        covered(&doc, &found["originSelectionRange"]),
        "[the overview 🚀](#übersicht--概要)"
    );
    assert!(server.shutdown_and_exit().success());
}

#[test]
fn code_lens_counts_sections_and_template_text() {
    let mut server = start(None, true);
    let mut doc = Doc::new(URI, &template(), Encoding::Utf16);
    server.did_open(URI, 1, &doc.text);
    let lens_title = |server: &mut Server| {
        let lenses = request(
            server,
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": URI } }),
        );
        assert_eq!(lenses[0]["range"]["start"]["line"], 0, "{lenses}");
        lenses[0]["command"]["title"].as_str().unwrap().to_string()
    };
    let title = lens_title(&mut server);
    assert_eq!(
        title,
        "joint-review outline (detected from the title): 28/28 sections, 28 still template text"
    );
    // Replace the Roadmap's guidance with the project's own text: one section fewer.
    let start = doc.find("## Roadmap\n") + "## Roadmap\n".len();
    let end = doc.find("## Appendix\n");
    let change = doc.edit(start, end, "\nWe plan to ship 2.0.\n\n");
    doc.send(&mut server, vec![change]);
    let title = lens_title(&mut server);
    assert!(
        title.ends_with("28/28 sections, 27 still template text"),
        "{title}"
    );
    assert!(server.shutdown_and_exit().success());
}
