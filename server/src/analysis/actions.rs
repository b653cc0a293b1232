//! Code actions: the fixes of the diagnostics at a range, "insert all missing sections",
//! renaming a heading to the template's wording, writing the table of contents, starting a
//! document from a template, and every safe fix at once. Plus the small edit helpers they
//! share (line breaks, blank lines around an inserted block, applying edits).
//!
//! Everything is byte offsets into the analysed version; `lsp/` converts.

use super::alignment::MatchKind;
use super::anchors;
use super::config::Config;
use super::diagnostics::{Code, Edit};
use super::document::Document;
use super::markdown::InlineCache;
use super::outline::{self, Outline};
use super::rules::{self, table_of_contents};
use super::skeleton;
use super::text::TextRange;
use super::toc;
use super::{analyze, Analysis, Context};

/// What an action is, for the editor's menus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// Fixes diagnostics.
    QuickFix,
    /// Rewrites text no diagnostic complains about (a heading's wording).
    Rewrite,
    /// Writes the table of contents.
    TableOfContents,
    /// Starts a document from a template.
    StartFromTemplate,
    /// Every safe fix at once.
    FixAll,
}

/// One code action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub kind: ActionKind,
    /// Sorted and non-overlapping; inserts at one offset are merged into one edit.
    pub edits: Vec<Edit>,
    /// The diagnostics it fixes (indices into `Analysis::diagnostics`).
    pub diagnostics: Vec<usize>,
    pub preferred: bool,
}

/// The actions for `range`. `reported` are the diagnostics the editor sent with the request
/// (code and range): they only select ours, which are the ones fixed, so a stale or altered
/// copy cannot change an edit.
pub fn code_actions(
    doc: &Document,
    analysis: &Analysis,
    range: TextRange,
    reported: &[(Code, TextRange)],
) -> Vec<Action> {
    let ctx = context(doc, analysis);
    let mut out: Vec<Action> = Vec::new();
    let selected: Vec<usize> = (0..analysis.diagnostics.len())
        .filter(|&i| {
            let d = &analysis.diagnostics[i];
            (d.range.start <= range.end && range.start <= d.range.end)
                || reported.contains(&(d.code, d.range))
        })
        .collect();
    for &i in &selected {
        let Some(fix) = &analysis.diagnostics[i].fix else {
            continue;
        };
        let Some(edits) = normalize(fix.edits.clone()) else {
            continue;
        };
        // A missing section's fix may be its missing parent's: one action for both.
        if let Some(same) = out.iter_mut().find(|a| a.edits == edits) {
            same.diagnostics.push(i);
            continue;
        }
        out.push(Action {
            title: fix.title.clone(),
            kind: ActionKind::QuickFix,
            edits,
            diagnostics: vec![i],
            preferred: fix.safe,
        });
    }
    let all_missing = insert_all(&ctx, analysis);
    let missing_here = selected
        .iter()
        .any(|&i| analysis.diagnostics[i].code == Code::MissingSection);
    if let Some((count, action)) = all_missing.as_ref().filter(|_| missing_here) {
        if *count > 1 {
            out.push(action.clone());
        }
    }
    out.extend(renames(&ctx, range));
    if let Some((title, edit)) = toc::update(&ctx) {
        out.push(Action {
            title,
            kind: ActionKind::TableOfContents,
            edits: vec![edit],
            diagnostics: Vec::new(),
            preferred: false,
        });
    }
    out.extend(start_from_template(&ctx, analysis));
    out.extend(fix_all(analysis, all_missing.map(|(_, a)| a)));
    out
}

/// The rules' view of an analysed document.
pub(crate) fn context<'a>(doc: &'a Document, analysis: &'a Analysis) -> Context<'a> {
    Context {
        doc,
        syntax: &analysis.syntax,
        outline: analysis.outline(),
        alignment: &analysis.alignment,
        anchors: &analysis.anchors,
        links: &analysis.links,
    }
}

/// Every missing section inserted at once (a section whose parent is missing too comes with
/// the parent's skeleton): the number of skeletons written (more than one: more than any one
/// section's fix does) and the action.
fn insert_all(ctx: &Context, analysis: &Analysis) -> Option<(usize, Action)> {
    let toc = table_of_contents(ctx);
    let mut fixed = Vec::new();
    let mut insertions: Vec<rules::Insertion> = Vec::new();
    for (i, d) in analysis.diagnostics.iter().enumerate() {
        if d.code != Code::MissingSection {
            continue;
        }
        let Some(s) = d
            .section
            .as_deref()
            .and_then(|t| ctx.outline.sections.iter().position(|s| s.title == t))
        else {
            continue;
        };
        fixed.push(i);
        let insertion = rules::insertion(ctx, s, toc.as_ref());
        // `insertion` writes the path to `s`; a required `s` is in its top's skeleton anyway.
        if !insertions.iter().any(|x| x.top == insertion.top) {
            insertions.push(insertion);
        }
    }
    if insertions.is_empty() {
        return None;
    }
    // Template order, so sections inserted at one offset come in the outline's order.
    insertions.sort_by_key(|x| x.top);
    list_inserted_sections_in_new_toc(ctx, &mut insertions);
    let mut edits: Vec<Edit> = insertions
        .iter()
        .flat_map(|x| x.toc_entry.iter().cloned())
        .collect();
    let mut offsets: Vec<usize> = insertions.iter().map(|x| x.offset).collect();
    offsets.dedup();
    offsets.sort();
    offsets.dedup();
    for offset in offsets {
        let blocks: Vec<&str> = insertions
            .iter()
            .filter(|x| x.offset == offset)
            .map(|x| x.block.as_str())
            .collect();
        edits.push(Edit {
            range: TextRange::empty(offset),
            new_text: block_insert(ctx.doc, offset, &blocks.join("\n\n")),
        });
    }
    let edits = normalize(edits)?;
    let count = insertions.len();
    Some((
        count,
        Action {
            title: format!("Insert all {} missing sections", fixed.len()),
            kind: ActionKind::QuickFix,
            edits,
            diagnostics: fixed,
            preferred: false,
        },
    ))
}

/// When the table of contents is among the sections inserted, it lists the others too: its
/// list is read off the document as it will be with them.
fn list_inserted_sections_in_new_toc(ctx: &Context, insertions: &mut [rules::Insertion]) {
    let sections = &ctx.outline.sections;
    let Some(t) = insertions.iter().position(|x| sections[x.top].is_toc) else {
        return;
    };
    if insertions.len() < 2 {
        return;
    }
    let edits: Vec<Edit> = insertions
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != t)
        .map(|(_, x)| Edit {
            range: TextRange::empty(x.offset),
            new_text: block_insert(ctx.doc, x.offset, &x.block),
        })
        .collect();
    let text = apply(&ctx.doc.text(), &edits);
    let doc = Document::new(&text);
    let config = Config {
        outline: Some(ctx.outline.name.to_string()),
        ..Config::default()
    };
    let future = analyze(&doc, None, &config, &mut InlineCache::new());
    let list = toc::new_list(&context(&doc, &future));
    let top = insertions[t].top;
    insertions[t].block =
        skeleton::render(ctx.outline, &[top], |d| ctx.expected_level(d), Some(&list));
}

/// "Rename to the template's 'Goal'" on a heading taken as a section under other wording.
/// Links to the heading follow its new anchor; a link whose text was the heading's takes the
/// new wording too.
fn renames(ctx: &Context, range: TextRange) -> Vec<Action> {
    let mut out = Vec::new();
    for (h, heading) in ctx.syntax.headings.iter().enumerate() {
        if heading.range.start > range.end || range.start > heading.range.end {
            continue;
        }
        let Some(s) = ctx.alignment.heading_section[h] else {
            continue;
        };
        match ctx.alignment.section_match[s].as_ref().map(|m| &m.kind) {
            Some(MatchKind::Reworded | MatchKind::Alias(_) | MatchKind::Contains) => {}
            _ => continue,
        }
        let title = &ctx.outline.sections[s].title;
        let raw = ctx.doc.slice(heading.content);
        let (prefix, inner, suffix) = split_heading_content(&raw);
        if inner == title.as_str() {
            continue;
        }
        let mut edits = vec![Edit {
            range: TextRange::new(
                heading.content.start + prefix.len(),
                heading.content.end - suffix.len(),
            ),
            new_text: title.clone(),
        }];
        // Every anchor after the rename: a duplicate's number may change with it.
        let numbering: String = prefix.chars().filter(|c| !"*_`".contains(*c)).collect();
        let new_text = format!("{numbering}{title}");
        let new_anchors = anchors::anchors(ctx.syntax.headings.iter().enumerate().map(|(i, x)| {
            if i == h {
                new_text.as_str()
            } else {
                &*x.text
            }
        }));
        for link in ctx.links {
            let Ok(target) = rules::toc_link::resolve(ctx, link) else {
                continue;
            };
            if new_anchors[target] != ctx.anchors[target] {
                edits.push(Edit {
                    range: link.target,
                    new_text: new_anchors[target].clone(),
                });
            }
            let opening = TextRange::new(link.target.start.saturating_sub(3), link.target.start);
            if target == h
                && link.text.trim() == heading.text.trim()
                && ctx.doc.slice(opening) == "](#"
                && link.range.start < opening.start
            {
                edits.push(Edit {
                    range: TextRange::new(link.range.start + 1, opening.start),
                    new_text: new_text.clone(),
                });
            }
        }
        let Some(edits) = normalize(edits) else {
            continue;
        };
        out.push(Action {
            title: format!("Rename to the template's '{title}'"),
            kind: ActionKind::Rewrite,
            edits,
            diagnostics: Vec::new(),
            preferred: false,
        });
    }
    out
}

/// A heading's raw content as (what to keep before, the wording, what to keep after): leading
/// numbering (`1.`, `2.3`, `iv.`) and emphasis or code markers around the words are kept.
fn split_heading_content(raw: &str) -> (&str, &str, &str) {
    let wrapper = |s: &str| s.len() - s.trim_start_matches(['*', '_', '`']).len();
    let mut start = 0;
    // Numbering first ("1. **Goals**"), or inside the emphasis ("**1. Goals**").
    for _ in 0..2 {
        start += wrapper(&raw[start..]);
        let rest = &raw[start..];
        let word = rest.split_whitespace().next().unwrap_or("");
        let is_number = !word.is_empty()
            && word.chars().any(|c| c.is_ascii_digit())
            && word
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ')');
        let is_roman = word.len() > 1
            && word.ends_with(['.', ')'])
            && word[..word.len() - 1].chars().all(|c| "ivxIVX".contains(c));
        if (is_number || is_roman) && rest.starts_with(word) && rest.len() > word.len() {
            let after = &rest[word.len()..];
            start += word.len() + (after.len() - after.trim_start().len());
        }
    }
    let end = raw.trim_end_matches(['*', '_', '`']).len().max(start);
    (&raw[..start], &raw[start..end], &raw[end..])
}

/// In an empty or nearly empty document (no heading but perhaps a title): a whole document
/// from each template, the outline in force first. A title the author wrote is kept, and then
/// only the outline in force is offered.
fn start_from_template(ctx: &Context, analysis: &Analysis) -> Vec<Action> {
    let headings = &ctx.syntax.headings;
    let title = ctx.alignment.title;
    let nearly_empty = headings.is_empty() || (headings.len() == 1 && title == Some(0));
    if !nearly_empty {
        return Vec::new();
    }
    let in_force = analysis.outline();
    let mut outlines: Vec<&'static Outline> = vec![in_force];
    if title.is_none() {
        outlines.extend(outline::all().iter().filter(|o| o.name != in_force.name));
    }
    let eol = eol(ctx.doc);
    let blank = ctx
        .doc
        .slice(TextRange::new(0, ctx.doc.len()))
        .trim()
        .is_empty();
    outlines
        .into_iter()
        .map(|o| {
            let edit = match title {
                Some(t) => {
                    let heading = &headings[t];
                    let body = skeleton::document_body(o, &heading.text, heading.level);
                    let end = ctx.doc.len();
                    Edit {
                        range: TextRange::empty(end),
                        new_text: block_insert(ctx.doc, end, &body),
                    }
                }
                None if blank => Edit {
                    range: TextRange::new(0, ctx.doc.len()),
                    new_text: format!("{}{eol}", with_eol(&skeleton::document(o), eol)),
                },
                None => Edit {
                    range: TextRange::empty(ctx.doc.len()),
                    new_text: block_insert(ctx.doc, ctx.doc.len(), &skeleton::document(o)),
                },
            };
            Action {
                title: format!("Start a {} from the template", o.display_name),
                kind: ActionKind::StartFromTemplate,
                edits: vec![edit],
                diagnostics: Vec::new(),
                preferred: o.name == in_force.name,
            }
        })
        .collect()
}

/// Every safe fix that does not overlap another, missing sections all inserted together
/// (`all_missing`, from [`insert_all`]).
fn fix_all(analysis: &Analysis, all_missing: Option<Action>) -> Option<Action> {
    let mut edits: Vec<Edit> = Vec::new();
    let mut fixed: Vec<usize> = Vec::new();
    let safe_missing = analysis
        .diagnostics
        .iter()
        .any(|d| d.code == Code::MissingSection && d.fix.as_ref().is_some_and(|f| f.safe));
    if let Some(all) = all_missing.filter(|_| safe_missing) {
        edits = all.edits;
        fixed = all.diagnostics;
    }
    let mut taken: Vec<&Vec<Edit>> = Vec::new();
    for (i, d) in analysis.diagnostics.iter().enumerate() {
        let Some(fix) = d.fix.as_ref().filter(|f| f.safe) else {
            continue;
        };
        if d.code == Code::MissingSection || taken.contains(&&fix.edits) {
            continue;
        }
        let mut candidate = edits.clone();
        candidate.extend(fix.edits.iter().cloned());
        if let Some(merged) = normalize(candidate) {
            edits = merged;
            fixed.push(i);
            taken.push(&fix.edits);
        }
    }
    if edits.is_empty() {
        return None;
    }
    fixed.sort();
    Some(Action {
        title: "Apply all safe fixes".to_string(),
        kind: ActionKind::FixAll,
        edits,
        diagnostics: fixed,
        preferred: false,
    })
}

// Edit helpers.

/// The document's line break: its first one's kind, `\n` when it has none.
pub fn eol(doc: &Document) -> &'static str {
    let rope = doc.rope();
    if rope.len_lines() < 2 {
        return "\n";
    }
    let first = rope.line(0);
    let n = first.len_chars();
    match (n >= 2 && first.char(n - 2) == '\r', first.char(n - 1)) {
        (true, '\n') => "\r\n",
        (_, '\r') => "\r",
        _ => "\n",
    }
}

/// `text` (with `\n` line breaks) with `eol` line breaks.
pub fn with_eol(text: &str, eol: &str) -> String {
    if eol == "\n" {
        text.to_string()
    } else {
        text.replace('\n', eol)
    }
}

/// The start of the line holding `offset`.
pub fn line_start(doc: &Document, offset: usize) -> usize {
    let rope = doc.rope();
    rope.line_to_byte(rope.byte_to_line(offset.min(rope.len_bytes())))
}

/// The text to insert at `offset` (a line start, or the document's end) so that `block`
/// (`\n` line breaks, no final one) stands as blocks of its own: a blank line before and after
/// it, in the document's line breaks, and a final line break at the end of the document.
pub fn block_insert(doc: &Document, offset: usize, block: &str) -> String {
    let eol = eol(doc);
    let before = doc.slice(TextRange::new(offset.saturating_sub(4), offset));
    let mut out = String::new();
    let blank_before = ["\n\n", "\r\n\r\n", "\r\r"]
        .iter()
        .any(|e| before.ends_with(e));
    if offset > 0 && !blank_before {
        if !before.ends_with(['\n', '\r']) {
            out.push_str(eol);
        }
        out.push_str(eol);
    }
    out.push_str(&with_eol(block, eol));
    out.push_str(eol);
    if offset < doc.len() {
        let rope = doc.rope();
        let line = rope.line(rope.byte_to_line(offset));
        if !line.chars().all(char::is_whitespace) {
            out.push_str(eol);
        }
    }
    out
}

/// Edits sorted by position, inserts at one offset merged (in their order), or `None` when
/// two of them overlap.
pub fn normalize(mut edits: Vec<Edit>) -> Option<Vec<Edit>> {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out: Vec<Edit> = Vec::with_capacity(edits.len());
    for edit in edits {
        if let Some(last) = out.last_mut() {
            if last.range.is_empty() && edit.range == last.range {
                last.new_text.push_str(&edit.new_text);
                continue;
            }
            if edit.range.start < last.range.end {
                return None;
            }
        }
        out.push(edit);
    }
    Some(out)
}

/// `text` with `edits` applied (byte ranges into `text`, non-overlapping; inserts at one
/// offset in their order).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in sorted {
        let start = e.range.start.clamp(at, text.len());
        out.push_str(&text[at..start]);
        out.push_str(&e.new_text);
        at = e.range.end.clamp(start, text.len());
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::{analysis, template_without};
    use crate::analysis::outline;
    use expect_test::expect;

    /// The actions at the `$0` cursor (or `$0...$0` range) of a fixture, each title with its
    /// kind and the document after its edits; `only` keeps the actions whose title has it.
    fn actions_at(fixture: &str, only: &str) -> String {
        let first = fixture.find("$0").expect("fixture has a $0 cursor");
        let text = fixture.replacen("$0", "", 1);
        let second = text.find("$0");
        let text = text.replace("$0", "");
        let range = TextRange::new(first, second.unwrap_or(first));
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        let mut out = String::new();
        for action in code_actions(&doc, &analysis, range, &[]) {
            if !action.title.contains(only) {
                continue;
            }
            out.push_str(&format!(
                "== {} ({:?}{})\n{}",
                action.title,
                action.kind,
                if action.preferred { ", preferred" } else { "" },
                apply(&text, &action.edits).replace('\r', "␍")
            ));
        }
        if out.is_empty() {
            out.push_str("(none)");
        }
        out
    }

    /// The titles of every action at the cursor.
    fn titles(fixture: &str) -> String {
        let offset = fixture.find("$0").expect("fixture has a $0 cursor");
        let text = fixture.replace("$0", "");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        code_actions(&doc, &analysis, TextRange::empty(offset), &[])
            .iter()
            .map(|a| format!("{:?}: {}\n", a.kind, a.title))
            .collect()
    }

    /// The codes of the diagnostics of `text`.
    fn codes(text: &str) -> Vec<(Code, String)> {
        let (_, analysis) = analysis(text, "x-joint-review.md");
        analysis
            .diagnostics
            .iter()
            .map(|d| (d.code, d.message.clone()))
            .collect()
    }

    #[test]
    fn missing_section_inserted_with_its_skeleton() {
        expect![[r#"
            == Insert section 'Security Analysis' (QuickFix, preferred)
            # Joint-review of X

            ## Project Compliance

            c

            ## Security Analysis

            To be written.

            ### Attacker Motivations

            To be written.

            ### Predisposing Conditions

            To be written.

            ### Expected Attacker Capabilities

            To be written.

            ### Attack Risks and Effects

            To be written.

            ### Security Degradation

            To be written.

            ### Compensating Mechanisms

            To be written.

            ## Roadmap

            r
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n## Project $0Compliance\n\nc\n\n## Roadmap\n\nr\n",
            "Security Analysis",
        ));
    }

    /// The lines that differ between `before` and `after` (`-`, `+`), with one line of
    /// context (` `) and `...` between hunks: a small LCS line diff, enough for fixtures.
    fn diff(before: &str, after: &str) -> String {
        let a: Vec<&str> = before.split('\n').collect();
        let b: Vec<&str> = after.split('\n').collect();
        // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
        let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i][j] = if a[i] == b[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let mut lines: Vec<(char, &str)> = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                lines.push((' ', a[i]));
                i += 1;
                j += 1;
            } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
                lines.push(('+', b[j]));
                j += 1;
            } else {
                lines.push(('-', a[i]));
                i += 1;
            }
        }
        let near_change = |k: usize| {
            (k.saturating_sub(1)..=(k + 1).min(lines.len() - 1)).any(|n| lines[n].0 != ' ')
        };
        let mut out = String::new();
        let mut skipped = false;
        for (k, (sign, line)) in lines.iter().enumerate() {
            if !near_change(k) {
                skipped = true;
                continue;
            }
            if skipped && !out.is_empty() {
                out.push_str("...\n");
            }
            skipped = false;
            out.push_str(&format!("{sign}{line}\n"));
        }
        out.replace('\r', "␍")
    }

    #[test]
    fn several_missing_sections_at_one_place_keep_template_order() {
        let text = template_without(&["Threat Model", "Secure Development Practices", "Roadmap"])
            .replace('\n', "\r\n");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        let at = text.find("## Security Issue Resolution").unwrap();
        let actions = code_actions(&doc, &analysis, TextRange::empty(0), &[]);
        let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Update the table of contents", "Apply all safe fixes"],
            "no quick fix away from the diagnostics"
        );
        let actions = code_actions(&doc, &analysis, TextRange::new(0, at), &[]);
        let all = actions
            .iter()
            .find(|a| a.title.starts_with("Insert all"))
            .unwrap();
        expect![[r#"
            Insert all 3 missing sections
             * [Security analysis](#security-analysis)␍
            +* [Threat Model](#threat-model)␍
             * [Secure development practices](#secure-development-practices)␍
            ...
             ␍
            +## Threat Model␍
            +␍
            +To be written.␍
            +␍
            +## Secure Development Practices␍
            +␍
            +To be written.␍
            +␍
             ## Security Issue Resolution␍
            ...
             ␍
            +## Roadmap␍
            +␍
            +To be written.␍
            +␍
             ## Appendix␍
        "#]]
        .assert_eq(&format!(
            "{}\n{}",
            all.title,
            diff(&text, &apply(&text, &all.edits))
        ));
    }

    #[test]
    fn heading_renamed_to_the_template_wording_with_its_links() {
        expect![[r#"
            == Rename to the template's 'Goal' (Rewrite)
            # Joint-review of X

            * [Goal](#goal) and [see](#goal)

            ## Overview

            ### Goal

            g
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n* [Goals](#goals) and [see](#goals)\n\n## Overview\n\n### Go$0als\n\ng\n",
            "Rename",
        ));
        // Numbering and emphasis stay; the anchor follows.
        expect![[r#"
            == Rename to the template's 'Goal' (Rewrite)
            # Joint-review of X

            * [Goals](#2-goal)

            ## Overview

            ### 2. **Goal**

            g
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n* [Goals](#2-goals)\n\n## Overview\n\n### 2. **Go$0als**\n\ng\n",
            "Rename",
        ));
        // Not on a heading in the template's own wording.
        expect!["(none)"].assert_eq(&actions_at(
            "# Joint-review of X\n\n## Overview\n\n### go$0al\n\ng\n",
            "Rename",
        ));
    }

    #[test]
    fn toc_entry_added() {
        expect![[r#"
            == Add 'Roadmap' to the table of contents (QuickFix, preferred)
            # Joint-review of X

            ## Table of Contents

            - [Overview](#overview)
              - [Goal](#goal)
            - [Roadmap](#roadmap)
            - [Appendix](#appendix)

            ## Overview

            o

            ### Goal

            g

            ## Roadmap

            r

            ## Appendix

            a
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n## Table of Contents\n\n- [Overview](#overview)\n  - [Goal](#goal)\n- [Appendix](#appendix)\n\n## Overview\n\no\n\n### Goal\n\ng\n\n## Road$0map\n\nr\n\n## Appendix\n\na\n",
            "Add 'Roadmap'",
        ));
    }

    #[test]
    fn out_of_order_section_moved_with_its_content() {
        expect![[r#"
            == Move 'Roadmap' after 'Overview' (QuickFix)
            # Joint-review of X

            ## Metadata

            m

            ## Overview

            o

            ### Background

            b

            ## Roadmap

            r

            ### Next steps

            n

            ## Appendix

            a
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n## Metadata\n\nm\n\n## Road$0map\n\nr\n\n### Next steps\n\nn\n\n## Overview\n\no\n\n### Background\n\nb\n\n## Appendix\n\na\n",
            "Move",
        ));
    }

    #[test]
    fn heading_level_and_toc_link() {
        expect![[r#"
            == Make 'Background' a level-3 heading (QuickFix)
            # Joint-review of X

            [bg](#backgrounds)

            ## Overview

            o

            ### Background

            b
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n[bg](#backgrounds)\n\n## Overview\n\no\n\n## Back$0ground\n\nb\n",
            "level",
        ));
        expect![[r#"
            == Link to '#background' (QuickFix, preferred)
            # Joint-review of X

            [bg](#background)

            ## Overview

            o

            ## Background

            b
        "#]]
        .assert_eq(&actions_at(
            "# Joint-review of X\n\n[bg](#back$0grounds)\n\n## Overview\n\no\n\n## Background\n\nb\n",
            "Link",
        ));
    }

    #[test]
    fn toc_action_titles() {
        expect![[r#"
            TableOfContents: Add a table of contents
            FixAll: Apply all safe fixes
        "#]]
        .assert_eq(&titles(
            "# Joint-review of X\n\n## Metadata\n\nm$0\n\n## Overview\n\no\n",
        ));
    }

    #[test]
    fn start_from_a_template() {
        expect![[r#"
            StartFromTemplate: Start a joint review from the template
            StartFromTemplate: Start a joint assessment from the template
            StartFromTemplate: Start a self-assessment from the template
            FixAll: Apply all safe fixes
        "#]]
        .assert_eq(&titles("\n  $0\n"));
        // A title is kept; the rest follows it.
        let got = actions_at("# Joint-assessment of Flux$0\n\nNotes.\n", "Start");
        assert!(got.starts_with(
            "== Start a joint assessment from the template (StartFromTemplate, preferred)\n# Joint-assessment of Flux\n\nNotes.\n\n## Table of Contents\n\n* [Metadata](#metadata)\n"
        ), "{got}");
        assert_eq!(got.matches("== ").count(), 1, "{got}");
        let (text, _) = got.split_once('\n').map(|(_, t)| (t, ())).unwrap();
        let rest: Vec<_> = codes(text)
            .into_iter()
            .filter(|(c, _)| *c != Code::MetadataTable)
            .collect();
        assert_eq!(rest, []);
    }

    #[test]
    fn fix_all_applies_safe_fixes_once() {
        let text = template_without(&["Background", "Threat Model", "Security Analysis"])
            .replace("(#goals)", "(#goalz)");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        let actions = code_actions(&doc, &analysis, TextRange::empty(0), &[]);
        let all = actions
            .iter()
            .find(|a| a.kind == ActionKind::FixAll)
            .expect("a fix-all action");
        let fixed = apply(&text, &all.edits);
        let before: Vec<_> = codes(&text);
        let after: Vec<_> = codes(&fixed);
        // Missing sections, their missing TOC entries and the broken link are gone; nothing
        // new appeared.
        for code in [Code::MissingSection, Code::TocLink, Code::TocEntry] {
            assert!(after.iter().all(|(c, _)| *c != code), "{code}: {after:?}");
        }
        for d in &after {
            assert!(before.contains(d), "new: {d:?}");
        }
        // Applying it again has nothing left to do.
        let (doc, analysis) = crate::analysis::fixture::analysis(&fixed, "x-joint-review.md");
        assert!(code_actions(&doc, &analysis, TextRange::empty(0), &[])
            .iter()
            .all(|a| a.kind != ActionKind::FixAll));
    }

    /// On the real documents and the templates, every action of ours (not the rules' older
    /// level and bold-title fixes, which reshape sections) leaves the document with no problem
    /// it did not have, save the Metadata values an inserted table leaves to the author; its
    /// edits are in order and on character boundaries.
    #[test]
    fn real_documents_gain_no_problem_from_the_actions() {
        let templates = [
            (
                "x-joint-review.md",
                outline::by_name("joint-review").unwrap().template,
            ),
            (
                "x-joint-assessment.md",
                outline::by_name("joint-assessment").unwrap().template,
            ),
        ];
        // A problem's identity: the section for outline rules (their messages name the
        // neighbour, which an insertion changes), the link target for links.
        let identity = |d: &crate::analysis::diagnostics::Diagnostic| match (&d.section, d.code) {
            (_, Code::TocLink) => format!(
                "{}: {}",
                d.code,
                d.message.split(" matches").next().unwrap_or("")
            ),
            (Some(section), _) if d.code != Code::MetadataTable && d.code != Code::TemplateText => {
                format!("{}: {section}", d.code)
            }
            _ => format!("{}: {}", d.code, d.message),
        };
        let docs = crate::analysis::fixture::REAL_DOCUMENTS
            .into_iter()
            .chain(templates);
        for (name, text) in docs {
            let (doc, before) = analysis(text, name);
            let known: Vec<String> = before.diagnostics.iter().map(identity).collect();
            let everywhere = TextRange::new(0, text.len());
            for action in code_actions(&doc, &before, everywhere, &[]) {
                for pair in action.edits.windows(2) {
                    assert!(
                        pair[0].range.end <= pair[1].range.start,
                        "{name}: {action:?}"
                    );
                }
                for e in &action.edits {
                    assert!(
                        text.is_char_boundary(e.range.start) && text.is_char_boundary(e.range.end)
                    );
                }
                let older_fix = action.title.starts_with("Make '");
                if older_fix {
                    continue;
                }
                let (_, after) = analysis(&apply(text, &action.edits), name);
                let new: Vec<String> = after
                    .diagnostics
                    .iter()
                    .filter(|d| {
                        !(d.code == Code::MetadataTable && d.message.ends_with("has no value."))
                    })
                    .filter(|d| {
                        !(action.kind == ActionKind::FixAll && d.code == Code::EmptySection)
                    })
                    .map(identity)
                    .filter(|i| !known.contains(i))
                    .collect();
                assert_eq!(new, Vec::<String>::new(), "{name}: {}", action.title);
            }
        }
    }

    /// The editor's copy of a diagnostic selects ours by code and range, wherever the cursor
    /// is; a copy that matches none of ours selects nothing.
    #[test]
    fn reported_diagnostics_select_ours() {
        let text = "# Joint-review of X\n\nSee [Overview](#overveiw).\n\n## Overview\n\no\n";
        let (doc, analysis) = analysis(text, "x-joint-review.md");
        let link = analysis
            .diagnostics
            .iter()
            .find(|d| d.code == Code::TocLink)
            .unwrap();
        let cursor = TextRange::empty(text.len());
        let fixes = |reported: &[(Code, TextRange)]| -> Vec<String> {
            code_actions(&doc, &analysis, cursor, reported)
                .into_iter()
                .filter(|a| a.kind == ActionKind::QuickFix)
                .map(|a| a.title)
                .collect()
        };
        assert_eq!(fixes(&[]), Vec::<String>::new());
        assert_eq!(
            fixes(&[(Code::TocLink, link.range)]),
            ["Link to '#overview'"]
        );
        assert_eq!(
            fixes(&[(Code::MissingSection, link.range)]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn edit_helpers() {
        assert_eq!(
            normalize(vec![
                Edit {
                    range: TextRange::empty(3),
                    new_text: "b".into()
                },
                Edit {
                    range: TextRange::new(0, 1),
                    new_text: "x".into()
                },
                Edit {
                    range: TextRange::empty(3),
                    new_text: "c".into()
                },
            ])
            .map(|e| apply("0123", &e)),
            Some("x12bc3".to_string())
        );
        assert_eq!(
            normalize(vec![
                Edit {
                    range: TextRange::new(0, 2),
                    new_text: String::new()
                },
                Edit {
                    range: TextRange::empty(1),
                    new_text: "x".into()
                },
            ]),
            None
        );
        assert_eq!(
            split_heading_content("1. **Goals**"),
            ("1. **", "Goals", "**")
        );
        assert_eq!(
            split_heading_content("_iv. Goals_"),
            ("_iv. ", "Goals", "_")
        );
        assert_eq!(split_heading_content("Goals"), ("", "Goals", ""));
        assert_eq!(split_heading_content("2023 Goals"), ("2023 ", "Goals", ""));
    }
}
