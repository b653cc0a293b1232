//! Completion from the outline: section headings (the missing ones that belong at the cursor
//! first, at the level they go at, with a skeleton of their required sub-sections), standard
//! persona names where a document names its users, Metadata table rows and fixed values, and
//! heading anchors after `](#`.
//!
//! What is offered depends on the place the cursor query (`cursor.rs`) finds.

use super::cursor::{self, Cursor, MetadataCell, Place};
use super::diagnostics::Edit;
use super::document::Document;
use super::outline::{push_attribution, Requirement, Section, ValueKind};
use super::personas::{self, PERSONA_SECTIONS};
use super::text::TextRange;
use super::{Analysis, Context};

/// What an item completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Section,
    Persona,
    MetadataRow,
    MetadataValue,
    Anchor,
}

/// One completion item, in byte offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    pub sort_text: String,
    /// What the client filters on (the label when `None`).
    pub filter_text: Option<String>,
    /// Replaces a range that holds the cursor.
    pub edit: Edit,
    /// `edit.new_text` is a snippet (`${1:...}` placeholders).
    pub snippet: bool,
    /// The outline section a section item inserts: its documentation is
    /// [`section_documentation`] of it, which a client may ask for later.
    pub section: Option<usize>,
}

/// What the client can take and why it asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The client accepts snippets.
    pub snippets: bool,
    /// The character whose typing asked for completion, if one did.
    pub trigger: Option<char>,
    /// Section items leave their documentation out: the client asks for the one it shows
    /// (`completionItem/resolve`), and the list it waits for is a third of the size.
    pub lazy_documentation: bool,
}

/// The completion items at `offset`, best first by `sort_text`.
pub fn completion(
    analysis: &Analysis,
    doc: &Document,
    offset: usize,
    options: Options,
) -> Vec<CompletionItem> {
    let cursor = cursor::at(analysis, doc, offset);
    let ctx = cursor::context(analysis, doc);
    let before = &cursor.text[..cursor.offset - cursor.line.start];
    // A trigger character asks only where it means something, not on every `#` or space.
    let wanted = match (options.trigger, &cursor.place) {
        (None, _) => true,
        (Some('#' | ' '), Place::Heading { hashes, .. }) => {
            *hashes > 0 && before.trim().trim_end_matches('#').is_empty()
        }
        (Some('#' | '('), Place::AnchorTarget { .. }) => true,
        _ => false,
    };
    if !wanted {
        return Vec::new();
    }
    let in_persona_section = cursor.section.is_some_and(|s| {
        let outline = ctx.outline;
        std::iter::successors(Some(s), |&p| outline.sections[p].parent)
            .any(|p| PERSONA_SECTIONS.contains(&outline.sections[p].title.as_str()))
    });
    match &cursor.place {
        Place::Heading {
            existing,
            hashes,
            writable: true,
        } => {
            let mut items = headings(&ctx, &cursor, *existing, *hashes, options);
            if in_persona_section && cursor.text.trim().is_empty() {
                items.extend(persona_items(&cursor));
            }
            items
        }
        Place::AnchorTarget { hash, replace, .. } => anchors(&ctx, *hash, *replace),
        Place::MetadataCell(cell) => metadata(&ctx, &cursor, cell),
        Place::Text | Place::Persona { .. } if in_persona_section => persona_items(&cursor),
        _ => Vec::new(),
    }
}

/// Missing sections as headings: those that belong at the cursor first (required ones at the
/// level typed, other required ones, optional ones), then the others in template order.
/// Sections present elsewhere are not offered. (Personas, where offered too, sort between.)
fn headings(
    ctx: &Context,
    cursor: &Cursor,
    existing: Option<usize>,
    hashes: usize,
    options: Options,
) -> Vec<CompletionItem> {
    let outline = ctx.outline;
    let indent = cursor.text.len() - cursor.text.trim_start().len();
    let range = TextRange::new(cursor.line.start + indent, cursor.line.end);
    let line_break = line_break(ctx.doc);
    // The heading being written on this line is not "present".
    let present = |s: usize| ctx.alignment.heading_of(s).filter(|&h| Some(h) != existing);
    let mut items = Vec::new();
    for (s, section) in outline.sections.iter().enumerate() {
        if present(s).is_some() {
            continue;
        }
        let fits = fits_here(ctx, cursor, existing, s);
        let level = ctx.expected_level(s) as usize;
        // Sections typed at their level first ("## " asks for a top-level section).
        let group = match (fits, section.requirement) {
            (true, Requirement::Required) if hashes == 0 || hashes == level => 0,
            (true, Requirement::Required) => 1,
            (true, _) => 2,
            (false, _) => 4,
        };
        let mut detail = format!("{} {}", "#".repeat(level), section.title);
        let status = match (section.requirement, &section.why) {
            (Requirement::Required, _) => "missing".to_string(),
            (_, Some(why)) => format!("optional ({why})"),
            (_, None) => "optional".to_string(),
        };
        match (fits, ctx.present_predecessor(s)) {
            (true, _) => detail.push_str(&format!(" — {status}, belongs here")),
            (false, Some(p)) => detail.push_str(&format!(
                " — {status}, belongs after '{}'",
                outline.sections[p].title
            )),
            (false, None) => detail.push_str(&format!(" — {status}")),
        }
        let new_text = skeleton(ctx, s, options.snippets, line_break, &present);
        let filter_text = match hashes {
            0 => section.title.clone(),
            n => format!("{} {}", "#".repeat(n), section.title),
        };
        let documentation = (!options.lazy_documentation).then(|| section_documentation(section));
        items.push(CompletionItem {
            label: section.title.clone(),
            kind: CompletionKind::Section,
            detail: Some(detail),
            documentation,
            sort_text: format!("{group}{s:03}"),
            filter_text: Some(filter_text),
            edit: Edit { range, new_text },
            snippet: options.snippets,
            section: Some(s),
        });
    }
    items
}

/// A section item's documentation (Markdown): the template's guidance for the section, then
/// its attribution.
pub fn section_documentation(section: &Section) -> String {
    let mut documentation = section.guidance.clone();
    push_attribution(&mut documentation);
    documentation
}

/// Whether missing section `s` belongs at the cursor: the nearest present sections before and
/// after it in template order are before and after the cursor, and its parent (if it has one)
/// is present and the cursor is inside the parent's section.
fn fits_here(ctx: &Context, cursor: &Cursor, existing: Option<usize>, s: usize) -> bool {
    let sections = &ctx.outline.sections;
    let headings = &ctx.syntax.headings;
    let here = cursor.line.start;
    let placed = |t: usize| {
        ctx.alignment
            .heading_of(t)
            .filter(|&h| Some(h) != existing && !ctx.alignment.out_of_order.contains(&t))
    };
    let before = (0..s).rev().find_map(placed);
    let after = (s + 1..sections.len()).find_map(placed);
    if before.is_some_and(|h| headings[h].range.start >= here)
        || after.is_some_and(|h| headings[h].range.start < here)
    {
        return false;
    }
    let Some(parent) = sections[s].parent else {
        return true;
    };
    let Some(ph) = ctx
        .alignment
        .heading_of(parent)
        .filter(|&h| Some(h) != existing)
    else {
        return false;
    };
    let level = headings[ph].level;
    // No heading at the parent's level or above between it and the cursor.
    headings[ph].range.start < here
        && !headings[ph + 1..]
            .iter()
            .enumerate()
            .take_while(|(_, h)| h.range.start < here)
            .any(|(i, h)| Some(ph + 1 + i) != existing && h.level <= level)
}

/// The text a section's completion inserts: its heading at the level it goes at and, as a
/// snippet, a placeholder for its text and the required sub-sections not present, each with
/// its own placeholder. Without snippets, the headings alone.
fn skeleton(
    ctx: &Context,
    s: usize,
    snippets: bool,
    line_break: &str,
    present: &dyn Fn(usize) -> Option<usize>,
) -> String {
    let sections = &ctx.outline.sections;
    let mut parts = Vec::new();
    let mut stop = 0;
    let mut add = |t: usize, parts: &mut Vec<String>| {
        let heading = format!(
            "{} {}",
            "#".repeat(ctx.expected_level(t) as usize),
            sections[t].title
        );
        if snippets {
            parts.push(escape_snippet(&heading));
            stop += 1;
            parts.push(format!(
                "${{{stop}:{}}}",
                escape_snippet(&sections[t].text_placeholder)
            ));
        } else {
            parts.push(heading);
        }
    };
    add(s, &mut parts);
    // Required descendants in template order (they follow `s` while deeper than it).
    for t in (s + 1..sections.len()).take_while(|&t| sections[t].depth > sections[s].depth) {
        let required_chain = std::iter::successors(Some(t), |&p| sections[p].parent)
            .take_while(|&p| p != s)
            .all(|p| sections[p].requirement == Requirement::Required);
        if required_chain && present(t).is_none() {
            add(t, &mut parts);
        }
    }
    parts.join(&format!("{line_break}{line_break}"))
}

/// `$`, `}` and `\` escaped for a snippet.
fn escape_snippet(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '$' | '}' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The document's line break (that of its first line), `\n` when it has none.
fn line_break(doc: &Document) -> &'static str {
    let first = doc.rope().line(0);
    let n = first.len_chars();
    match (n >= 2).then(|| (first.char(n - 2), first.char(n - 1))) {
        Some(('\r', '\n')) => "\r\n",
        _ if n >= 1 && first.char(n - 1) == '\r' => "\r",
        _ => "\n",
    }
}

/// The standard personas, each replacing what was typed of its name.
fn persona_items(cursor: &Cursor) -> Vec<CompletionItem> {
    let col = cursor.offset - cursor.line.start;
    let before = &cursor.text[..col];
    let word = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    personas::all()
        .iter()
        .enumerate()
        .map(|(p, persona)| {
            let typed = personas::typed_prefix(before, persona);
            let (start, insert) = match typed {
                Some(len) => {
                    let typed = before[col - len..].to_ascii_lowercase().replace('-', " ");
                    let name = persona
                        .names
                        .iter()
                        .find(|n| n.to_ascii_lowercase().replace('-', " ").starts_with(&typed))
                        .unwrap_or(&persona.name);
                    (col - len, name.clone())
                }
                None => (word, persona.name.clone()),
            };
            CompletionItem {
                label: persona.name.clone(),
                kind: CompletionKind::Persona,
                detail: Some(match &persona.group {
                    Some(group) => format!("standard persona ({group})"),
                    None => "standard persona".to_string(),
                }),
                documentation: Some(persona.documentation()),
                // Those whose name was typed first.
                sort_text: format!("3{}{p:02}", if typed.is_some() { 0 } else { 1 }),
                filter_text: Some(insert.clone()),
                edit: Edit {
                    range: TextRange::new(cursor.line.start + start, cursor.offset),
                    new_text: insert,
                },
                snippet: false,
                section: None,
            }
        })
        .collect()
}

/// Missing row names in a first cell; the fixed values of the row in its value cell.
fn metadata(ctx: &Context, cursor: &Cursor, cell: &MetadataCell) -> Vec<CompletionItem> {
    let rows = &ctx.outline.metadata;
    // Text beside a `|` gets a space between.
    let pad = |text: &str| {
        let line = &cursor.text;
        let start = cell.content.start - cursor.line.start;
        let end = cell.content.end - cursor.line.start;
        let mut out = String::new();
        if line[..start].ends_with('|') {
            out.push(' ');
        }
        out.push_str(text);
        if line[end..].starts_with('|') {
            out.push(' ');
        } else if cell.column == 0 && !line[end..].contains('|') {
            // A row being started: on to its value cell.
            out.push_str(" | ");
        }
        out
    };
    let item = |label: &str, kind, r: usize, sort: usize| CompletionItem {
        label: label.to_string(),
        kind,
        detail: Some(format!("{} row", rows[r].row)),
        documentation: cursor::template_metadata_text(ctx.outline, r).map(|mut text| {
            push_attribution(&mut text);
            text
        }),
        sort_text: format!("{sort:03}"),
        filter_text: None,
        edit: Edit {
            range: cell.content,
            new_text: pad(label),
        },
        snippet: false,
        section: None,
    };
    if cell.column == 0 {
        return (0..rows.len())
            .filter(|r| !cell.present.contains(r))
            .map(|r| item(&rows[r].row, CompletionKind::MetadataRow, r, r))
            .collect();
    }
    let Some(r) = cell.row else {
        return Vec::new();
    };
    let values: Vec<String> = match &rows[r].kind {
        ValueKind::YesNo => vec!["Yes".to_string(), "No".to_string()],
        ValueKind::OneOf(choices) => choices.clone(),
        ValueKind::Link | ValueKind::Text => Vec::new(),
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| item(v, CompletionKind::MetadataValue, r, i))
        .collect()
}

/// Every heading's anchor, labelled with its heading, in document order.
fn anchors(ctx: &Context, hash: bool, replace: TextRange) -> Vec<CompletionItem> {
    let rope = ctx.doc.rope();
    ctx.syntax
        .headings
        .iter()
        .enumerate()
        .filter(|(h, _)| !ctx.anchors[*h].is_empty())
        .map(|(h, heading)| {
            let anchor = &ctx.anchors[h];
            let new_text = if hash {
                anchor.clone()
            } else {
                format!("#{anchor}")
            };
            let line = rope.byte_to_line(heading.range.start) + 1;
            CompletionItem {
                label: heading.text.to_string(),
                kind: CompletionKind::Anchor,
                detail: Some(format!("#{anchor}")),
                documentation: Some(format!(
                    "Heading '{}' (line {line}, level {}).",
                    heading.text, heading.level
                )),
                sort_text: format!("{h:04}"),
                filter_text: Some(new_text.clone()),
                edit: Edit {
                    range: replace,
                    new_text,
                },
                snippet: false,
                section: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::{analysis, template_without};
    use expect_test::expect;

    /// The items, one per line: sort text, label, replaced text -> new text, detail.
    fn check_with(fixture: &str, options: Options, limit: usize, expect: expect_test::Expect) {
        let offset = fixture.find("$0").expect("fixture has a $0 cursor");
        let text = fixture.replace("$0", "");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        let mut items = completion(&analysis, &doc, offset, options);
        items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
        let mut out = String::new();
        for item in items.iter().take(limit) {
            assert!(
                item.edit.range.touches(offset),
                "{item:?} does not hold the cursor"
            );
            out.push_str(&format!(
                "{} {:?} {:?} -> {:?} | {}\n",
                item.sort_text,
                item.label,
                doc.slice(item.edit.range),
                item.edit.new_text,
                item.detail.as_deref().unwrap_or("")
            ));
        }
        if items.len() > limit {
            out.push_str(&format!("... {} more\n", items.len() - limit));
        }
        expect.assert_eq(&out);
    }

    fn check(fixture: &str, limit: usize, expect: expect_test::Expect) {
        check_with(fixture, Options::default(), limit, expect);
    }

    /// The document and analysis of `fixture` (named `file_name`), and the items at its `$0`.
    fn items_at(
        fixture: &str,
        file_name: &str,
        options: Options,
    ) -> (Document, Analysis, Vec<CompletionItem>) {
        let offset = fixture.find("$0").expect("fixture has a $0 cursor");
        let (doc, analysis) = analysis(&fixture.replace("$0", ""), file_name);
        let items = completion(&analysis, &doc, offset, options);
        (doc, analysis, items)
    }

    #[test]
    fn missing_section_that_belongs_here_comes_first() {
        let text = template_without(&["Threat Model"]).replace(
            "## Secure Development Practices",
            "## Thr$0\n\n## Secure Development Practices",
        );
        check(
            &text,
            3,
            expect![[r####"
                0022 "Threat Model" "## Thr" -> "## Threat Model" | ## Threat Model — missing, belongs here
                4023 "Identity Theft" "## Thr" -> "### Identity Theft" | ### Identity Theft — optional (an example attack area of the threat model), belongs after 'Compensating Mechanisms'
                4024 "Compromise" "## Thr" -> "### Compromise" | ### Compromise — optional (an example attack area of the threat model), belongs after 'Compensating Mechanisms'
                ... 1 more
            "####]],
        );
    }

    #[test]
    fn sub_sections_at_their_level_under_their_parent() {
        let text =
            "# Joint-review of X\n\n## Overview\n\n### Background\n\nb\n\n$0\n\n## Roadmap\n";
        check(
            text,
            6,
            expect![[r####"
            0005 "Goal" "" -> "### Goal" | ### Goal — missing, belongs here
            0006 "Non-goals" "" -> "### Non-goals" | ### Non-goals — missing, belongs here
            0007 "Joint-review use" "" -> "## Joint-review use" | ## Joint-review use — missing, belongs here
            0008 "Intended Use" "" -> "## Intended Use" | ## Intended Use — missing, belongs here
            0009 "Project Design" "" -> "## Project Design\n\n### Functions and features\n\n#### Security functions and features" | ## Project Design — missing, belongs here
            0012 "Configuration and Set-Up" "" -> "## Configuration and Set-Up" | ## Configuration and Set-Up — missing, belongs here
            ... 24 more
        "####]],
        );
    }

    #[test]
    fn snippet_skeleton_with_required_sub_sections() {
        let text = "# Joint-review of X\n\n## Intended Use\n\nu\n\n## $0\n";
        let options = Options {
            snippets: true,
            trigger: Some(' '),
            ..Options::default()
        };
        check_with(
            text,
            options,
            1,
            expect![[r###"
            0009 "Project Design" "## " -> "## Project Design\n\n${1:A description of the system design that discusses how it works.}\n\n### Functions and features\n\n${2:A listing with brief description of functions and features that are critical to the project's ability to meet its intended use.}\n\n#### Security functions and features\n\n${3:This section should be pulled from the self-assessment.}" | ## Project Design — missing, belongs here
            ... 31 more
        "###]],
        );
    }

    #[test]
    fn crlf_documents_get_crlf_skeletons() {
        let text = "# Joint-review of X\r\n\r\n## Intended Use\r\n\r\nu\r\n\r\n##$0\r\n";
        check(
            text,
            1,
            expect![[r###"
            0009 "Project Design" "##" -> "## Project Design\r\n\r\n### Functions and features\r\n\r\n#### Security functions and features" | ## Project Design — missing, belongs here
            ... 31 more
        "###]],
        );
    }

    #[test]
    fn triggers_ask_only_where_they_mean_something() {
        let options = |c| Options {
            snippets: false,
            trigger: Some(c),
            ..Options::default()
        };
        check_with(
            "# Joint-review of X\n\nIssue #$0\n",
            options('#'),
            3,
            expect![[""]],
        );
        check_with(
            "# Joint-review of X\n\n## Intended Use\n\nThe $0\n",
            options(' '),
            3,
            expect![[""]],
        );
        check_with(
            "# Joint-review of X\n\n## Intended Use\n\nSee [x]($0\n",
            options('('),
            3,
            expect![[r##"
            0000 "Joint-review of X" "" -> "#joint-review-of-x" | #joint-review-of-x
            0001 "Intended Use" "" -> "#intended-use" | #intended-use
        "##]],
        );
    }

    #[test]
    fn personas_in_intended_use() {
        check(
            "# Joint-review of X\n\n## Intended Use\n\n* Compliance Off$0\n",
            3,
            expect![[r#"
            3003 "Compliance Officer / Auditor" "Compliance Off" -> "Compliance Officer / Auditor" | standard persona (Administrator)
            3100 "Enterprise Operator" "Off" -> "Enterprise Operator" | standard persona (Operator)
            3101 "Quota Operator" "Off" -> "Quota Operator" | standard persona (Operator)
            ... 6 more
        "#]],
        );
        check(
            "# Joint-review of X\n\n## Intended Use\n\n* audi$0 and\n",
            4,
            expect![[r#"
            3003 "Compliance Officer / Auditor" "audi" -> "Auditor" | standard persona (Administrator)
            3100 "Enterprise Operator" "audi" -> "Enterprise Operator" | standard persona (Operator)
            3101 "Quota Operator" "audi" -> "Quota Operator" | standard persona (Operator)
            3102 "Network Operator" "audi" -> "Network Operator" | standard persona (Operator)
            ... 5 more
        "#]],
        );
        check(
            "# Joint-review of X\n\n## Goal\n\n* Dev$0\n",
            3,
            expect![[""]],
        );
    }

    #[test]
    fn lazy_documentation_is_left_out_of_section_items_only() {
        let text = "# Joint-review of X\n\n## Intended Use\n\n$0\n";
        let (_, analysis, eager) = items_at(text, "joint-review.md", Options::default());
        let lazy = Options {
            lazy_documentation: true,
            ..Options::default()
        };
        let (_, _, lazy) = items_at(text, "joint-review.md", lazy);
        assert_eq!(eager.len(), lazy.len());
        let sections = &analysis.outline().sections;
        let mut kinds = (0, 0);
        for (eager, lazy) in eager.iter().zip(&lazy) {
            assert_eq!(eager.label, lazy.label);
            match (eager.kind, eager.section) {
                (CompletionKind::Section, Some(s)) => {
                    kinds.0 += 1;
                    assert_eq!(lazy.section, Some(s));
                    assert_eq!(lazy.documentation, None);
                    let resolved = section_documentation(&sections[s]);
                    assert_eq!(eager.documentation.as_ref(), Some(&resolved));
                }
                (kind, section) => {
                    kinds.1 += 1;
                    assert_eq!((kind, section), (CompletionKind::Persona, None));
                    assert_eq!(eager.documentation, lazy.documentation);
                    assert!(lazy.documentation.is_some());
                }
            }
        }
        assert!(
            kinds.0 > 0 && kinds.1 > 0,
            "sections and personas: {kinds:?}"
        );
    }

    #[test]
    fn personas_in_self_assessment_actors() {
        let text = "# Flibble Self Assessment\n\n## Overview\n\n### Actors\n\n* Dev$0\n";
        let (doc, _, items) = items_at(text, "x-self-assessment.md", Options::default());
        assert_eq!(items.len(), 9, "{items:?}");
        assert_eq!(items[5].label, "Developer");
        assert_eq!(doc.slice(items[5].edit.range), "Dev");
    }

    #[test]
    fn metadata_rows_and_values() {
        let table = "# Joint-review of X\n\n## Metadata\n\n| | |\n| -- | -- |\n| Software | x |\nROW\n\n## Overview\n";
        check(
            &table.replace("ROW", "| $0"),
            5,
            expect![[r#"
            001 "Security Provider" "" -> "Security Provider | " | Security Provider row
            002 "Languages" "" -> "Languages | " | Languages row
            003 "SBOM" "" -> "SBOM | " | SBOM row
        "#]],
        );
        check(
            &table.replace("ROW", "|La$0| |"),
            5,
            expect![[r#"
            001 "Security Provider" "La" -> " Security Provider " | Security Provider row
            002 "Languages" "La" -> " Languages " | Languages row
            003 "SBOM" "La" -> " SBOM " | SBOM row
        "#]],
        );
        check(
            &table.replace("ROW", "| Security Provider | $0 |"),
            5,
            expect![[r#"
            000 "Yes" "" -> "Yes" | Security Provider row
            001 "No" "" -> "No" | Security Provider row
        "#]],
        );
        check(
            &table.replace("ROW", "| Languages | $0 |"),
            5,
            expect![[""]],
        );
    }

    #[test]
    fn self_assessment_stage_values() {
        let text = "# Flibble Self Assessment\n\n## Metadata\n\n|||\n| -- | -- |\n| Assessment Stage | In$0 |\n";
        let (doc, _, items) = items_at(text, "x-self-assessment.md", Options::default());
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["Incomplete", "Complete", "Obsolete"]);
        assert_eq!(doc.slice(items[0].edit.range), "In");
    }

    #[test]
    fn anchors_after_hash_and_paren() {
        let text = "# Joint-review of X\n\n* [Goal](#go$0al)\n\n## Q & A\n\n### Goal\n";
        check(
            text,
            5,
            expect![[r#"
            0000 "Joint-review of X" "goal" -> "joint-review-of-x" | #joint-review-of-x
            0001 "Q & A" "goal" -> "q--a" | #q--a
            0002 "Goal" "goal" -> "goal" | #goal
        "#]],
        );
        check(
            "# Joint-review of X\n\n* [Goal]($0\n\n## Goal\n",
            5,
            expect![[r##"
            0000 "Joint-review of X" "" -> "#joint-review-of-x" | #joint-review-of-x
            0001 "Goal" "" -> "#goal" | #goal
        "##]],
        );
    }

    #[test]
    fn nothing_in_code() {
        check("# Joint-review of X\n\n```\n$0\n```\n", 5, expect![[""]]);
    }

    #[test]
    fn any_offset_of_awkward_text_answers_without_panicking() {
        let texts = [
            "# Joint-review of X\r\n\r\n## Metadata\r\n\r\n|😀|中 |\r\n| -- | -- |\r\n| Software |\r\n|\r\n\r\n## Intended Use\r\n\r\n* 😀 End-users [a](#😀\r\n## \r\n",
            "# T\rtext](#x) ](# ]( [x](#) `|` \\| |\n## Overview\n\n```\n## \n",
            "",
            "#",
        ];
        for text in texts {
            let (doc, analysis) = analysis(text, "x-joint-review.md");
            for offset in 0..=text.len() + 1 {
                for trigger in [None, Some('#'), Some(' '), Some('(')] {
                    let options = Options {
                        snippets: true,
                        trigger,
                        ..Options::default()
                    };
                    for item in completion(&analysis, &doc, offset, options) {
                        assert!(item.edit.range.end <= text.len(), "{item:?}");
                    }
                }
                crate::analysis::hover::hover(&analysis, &doc, offset);
            }
        }
    }
}
