//! What is at the cursor: one query (taplo's `query.rs` idea) that completion and hover both
//! start from. It says whether the cursor is on a heading line, in the target of an `#anchor`
//! link, in a cell of the Metadata table, on a persona's name, or in plain text, and in which
//! heading's section and outline section.
//!
//! It reads the cursor's line as text, not only the syntax tree: while a link or a table row is
//! being typed it is not yet a link or a row for the parser.

use super::document::Document;
use super::markdown::{AnchorLink, BlockKind};
use super::matching;
use super::outline::Outline;
use super::personas;
use super::text::TextRange;
use super::{Analysis, Context};

/// The cursor and what surrounds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub offset: usize,
    /// The cursor's line, without its line break.
    pub line: TextRange,
    /// The line's text.
    pub text: String,
    /// The innermost heading whose section holds the cursor (the cursor's own heading line
    /// counts as its heading's).
    pub heading: Option<usize>,
    /// The outline section the cursor is in: its heading's, or the nearest matched ancestor's.
    pub section: Option<usize>,
    pub place: Place,
}

/// The kind of place the cursor is at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a code block or an HTML block: nothing to offer.
    Code,
    /// On a heading's line, or on an empty line (where a heading may be written).
    Heading {
        /// The heading on this line, if it is one.
        existing: Option<usize>,
        /// The number of `#` the line starts with.
        hashes: usize,
        /// The line is empty or starts with `#`: a heading typed here may be completed.
        writable: bool,
    },
    /// In the target of a link to an anchor, as typed after `](`.
    AnchorTarget {
        /// The target starts with `#`.
        hash: bool,
        /// What was typed after the `#` (or after `(` when there is no `#`) up to the cursor.
        typed: TextRange,
        /// What a completion replaces: from `typed`'s start to the end of the target.
        replace: TextRange,
        /// The complete link, when the parser sees one here (index in `Analysis::links`).
        link: Option<usize>,
    },
    /// On the text of a link to an anchor (index in `Analysis::links`).
    Link(usize),
    /// In a row of the Metadata section's table.
    MetadataCell(MetadataCell),
    /// On a standard persona's name.
    Persona { persona: usize, range: TextRange },
    /// Anywhere else.
    Text,
}

/// A cell of the Metadata table at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataCell {
    /// 0: the row's name, 1: its value.
    pub column: usize,
    /// The cell's text, trimmed (empty at the cursor when the cell is blank).
    pub content: TextRange,
    /// The template row this line names (index in `Outline::metadata`).
    pub row: Option<usize>,
    /// The template rows the table has on other lines.
    pub present: Vec<usize>,
}

/// The rule context of an analysis, for features that share the rules' helpers.
pub fn context<'a>(analysis: &'a Analysis, doc: &'a Document) -> Context<'a> {
    Context {
        doc,
        syntax: &analysis.syntax,
        outline: analysis.outline(),
        alignment: &analysis.alignment,
        anchors: &analysis.anchors,
        links: &analysis.links,
    }
}

/// What is at `offset` (clamped to the document and to a char boundary).
pub fn at(analysis: &Analysis, doc: &Document, offset: usize) -> Cursor {
    let offset = doc.floor_char_boundary(offset);
    let rope = doc.rope();
    let line_no = rope.byte_to_line(offset);
    let line_start = rope.line_to_byte(line_no);
    let full = rope.line(line_no).to_string();
    let content = full.trim_end_matches(['\r', '\n']);
    let line = TextRange::new(line_start, line_start + content.len());
    // Between a CR and its LF is the end of the line.
    let offset = offset.min(line.end);
    let text = content.to_string();
    let ctx = context(analysis, doc);
    let heading = ctx.heading_containing(offset);
    let section = heading.and_then(|h| ctx.enclosing_section(h));
    let place = place(analysis, &ctx, offset, line, &text);
    Cursor {
        offset,
        line,
        text,
        heading,
        section,
        place,
    }
}

fn place(analysis: &Analysis, ctx: &Context, offset: usize, line: TextRange, text: &str) -> Place {
    let syntax = &analysis.syntax;
    let in_code = syntax.blocks.iter().any(|b| {
        matches!(
            b.kind,
            BlockKind::Code | BlockKind::Html | BlockKind::Comment
        ) && b.range.contains(offset)
    });
    if in_code {
        return Place::Code;
    }
    let col = offset - line.start;
    let link_at =
        |r: fn(&AnchorLink) -> TextRange| analysis.links.iter().position(|l| r(l).touches(offset));
    if let Some((hash, typed, replace)) = anchor_target(text, col) {
        let shift = |r: TextRange| TextRange::new(line.start + r.start, line.start + r.end);
        return Place::AnchorTarget {
            hash,
            typed: shift(typed),
            replace: shift(replace),
            link: link_at(|l| l.target),
        };
    }
    if let Some(link) = link_at(|l| l.range) {
        return Place::Link(link);
    }
    let trimmed = text.trim_start();
    let existing = syntax.heading_at(offset);
    if existing.is_some() || trimmed.is_empty() {
        let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
        return Place::Heading {
            existing,
            hashes,
            writable: trimmed.is_empty() || hashes > 0,
        };
    }
    if let Some(cell) = metadata_cell(ctx, offset, line, text) {
        return Place::MetadataCell(cell);
    }
    if let Some((persona, range)) = personas::find_at(text, col) {
        return Place::Persona {
            persona,
            range: TextRange::new(line.start + range.start, line.start + range.end),
        };
    }
    Place::Text
}

/// For a cursor at `col` in the target of a link being written (`[text](#anc`): whether the
/// target starts with `#`, what was typed after it, and the whole rest of the target (ranges in
/// the line). `None` when the cursor is not in a link target, or in one that is not an anchor.
fn anchor_target(text: &str, col: usize) -> Option<(bool, TextRange, TextRange)> {
    let before = &text[..col];
    let open = before.rfind("](")? + 2;
    let typed = &before[open..];
    if typed.contains(|c: char| c.is_whitespace() || c == ')' || c == '(') {
        return None;
    }
    let hash = typed.starts_with('#');
    if !hash && !typed.is_empty() {
        return None;
    }
    let start = if hash { open + 1 } else { open };
    let rest = &text[col..];
    let end = col
        + rest
            .find(|c: char| c.is_whitespace() || c == ')')
            .unwrap_or(rest.len());
    Some((hash, TextRange::new(start, col), TextRange::new(start, end)))
}

/// The Metadata section's table cell at the cursor, when the cursor's line is a table row
/// (it starts with `|`) in that section's own text, in its first or second column.
fn metadata_cell(
    ctx: &Context,
    offset: usize,
    line: TextRange,
    text: &str,
) -> Option<MetadataCell> {
    let body = metadata_body(ctx)?;
    if !body.touches(line.start) || !text.trim_start().starts_with('|') {
        return None;
    }
    let pipes = pipes(text);
    let col = offset - line.start;
    let column = pipes.iter().filter(|&&p| p < col).count().checked_sub(1)?;
    if column > 1 {
        return None;
    }
    let cell = |k: usize| {
        let start = pipes.get(k).map(|&p| p + 1)?;
        let end = pipes.get(k + 1).copied().unwrap_or(text.len());
        Some(trim(text, start, end))
    };
    let content = cell(column).map(|r| {
        // A blank cell: the cursor is where its text goes.
        if r.is_empty() {
            TextRange::empty(col)
        } else {
            TextRange::new(r.start.min(col), r.end.max(col))
        }
    })?;
    let name = cell(0).map_or("", |r| &text[r.start..r.end]);
    let row = metadata_row(ctx, name);
    let mut present = Vec::new();
    let body_text = ctx.doc.slice(body);
    let mut at = body.start;
    for other in body_text.split_inclusive('\n') {
        let this = TextRange::new(at, at + other.len());
        at += other.len();
        if this.contains(line.start) || !other.trim_start().starts_with('|') {
            continue;
        }
        let other = other.trim_end_matches(['\r', '\n']);
        let p = self::pipes(other);
        if let (Some(&a), Some(&b)) = (p.first(), p.get(1)) {
            let r = trim(other, a + 1, b);
            if let Some(found) = metadata_row(ctx, &other[r.start..r.end]) {
                present.push(found);
            }
        }
    }
    present.sort();
    present.dedup();
    Some(MetadataCell {
        column,
        content: TextRange::new(line.start + content.start, line.start + content.end),
        row,
        present,
    })
}

/// The Metadata section's own text (up to the next heading of any level).
pub fn metadata_body(ctx: &Context) -> Option<TextRange> {
    let s = ctx
        .outline
        .sections
        .iter()
        .position(|s| s.title == "Metadata")?;
    let h = ctx.alignment.heading_of(s)?;
    let heading = &ctx.syntax.headings[h];
    let end = ctx
        .syntax
        .headings
        .get(h + 1)
        .map_or(heading.section.end, |n| n.range.start);
    Some(TextRange::new(
        heading.range.end,
        end.max(heading.range.end),
    ))
}

/// The template row a first cell names (as the `metadata-table` rule reads it: "Software
/// Repositories" names the Software row).
pub fn metadata_row(ctx: &Context, name: &str) -> Option<usize> {
    let key = matching::key(name);
    if key.is_empty() {
        return None;
    }
    ctx.outline
        .metadata
        .iter()
        .position(|r| key.starts_with(&matching::key(&r.row)))
}

/// The template's own text for a Metadata row (its value cell, which says what goes there),
/// wrapped lines joined.
pub fn template_metadata_text(outline: &Outline, row: usize) -> Option<String> {
    let section = outline.sections.iter().find(|s| s.title == "Metadata")?;
    let key = matching::key(&outline.metadata.get(row)?.row);
    // A row the template wrapped over several lines continues until a line ends with `|`.
    let mut rows: Vec<String> = Vec::new();
    for line in section.guidance.lines().map(str::trim) {
        match rows.last_mut() {
            _ if line.starts_with('|') => rows.push(line.to_string()),
            Some(last) if !last.ends_with('|') && !line.is_empty() => {
                last.push(' ');
                last.push_str(line);
            }
            _ => {}
        }
    }
    rows.iter().find_map(|line| {
        let p = pipes(line);
        let name = &line[*p.first()? + 1..*p.get(1)?];
        if !matching::key(name).starts_with(&key) || key.is_empty() {
            return None;
        }
        let value = &line[p[1] + 1..p.get(2).copied().unwrap_or(line.len())];
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        (!value.is_empty()).then_some(value)
    })
}

/// Byte positions of the cell separators of a table line: `|` not escaped and not in a code span.
pub fn pipes(line: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut in_code = false;
    let mut prev = '\0';
    for (i, ch) in line.char_indices() {
        match ch {
            '`' => in_code = !in_code,
            '|' if !in_code && prev != '\\' => out.push(i),
            _ => {}
        }
        prev = ch;
    }
    out
}

/// The range of `text[start..end]` without surrounding whitespace.
fn trim(text: &str, start: usize, end: usize) -> TextRange {
    let raw = &text[start..end];
    let s = start + raw.len() - raw.trim_start().len();
    TextRange::new(s, s + raw.trim().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::analysis;
    use expect_test::expect;

    fn check(fixture: &str, expect: expect_test::Expect) {
        let offset = fixture.find("$0").expect("fixture has a $0 cursor");
        let text = fixture.replace("$0", "");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        let c = at(&analysis, &doc, offset);
        let section = c.section.map_or("-".to_string(), |s| {
            analysis.outline().sections[s].title.clone()
        });
        let show = |r: TextRange| format!("{:?}", doc.slice(r));
        let place = match &c.place {
            Place::AnchorTarget {
                hash,
                typed,
                replace,
                link,
            } => format!(
                "anchor target hash={hash} typed={} replace={} link={link:?}",
                show(*typed),
                show(*replace)
            ),
            Place::MetadataCell(cell) => format!(
                "metadata column={} content={} row={:?} present={:?}",
                cell.column,
                show(cell.content),
                cell.row,
                cell.present
            ),
            Place::Persona { persona, range } => format!(
                "persona {} at {}",
                personas::all()[*persona].name,
                show(*range)
            ),
            other => format!("{other:?}"),
        };
        expect.assert_eq(&format!("in {section}: {place}"));
    }

    const META: &str = "# Joint-review of X\n\n## Metadata\n\n| | |\n| -- | -- |\n| Software | x |\n| Security Provider | Y |\n";

    #[test]
    fn places() {
        check(
            "# Joint-review of X\n\n## Overview\n\n$0\n",
            expect!["in Overview: Heading { existing: None, hashes: 0, writable: true }"],
        );
        check(
            "# Joint-review of X\n\n## Overview\n\n### Go$0al\n",
            expect!["in Goal: Heading { existing: Some(2), hashes: 3, writable: true }"],
        );
        check(
            "# Joint-review of X\n\n## Thr$0\n",
            expect!["in -: Heading { existing: Some(1), hashes: 2, writable: true }"],
        );
        check(
            "# Joint-review of X\n\n```\n$0\n```\n",
            expect!["in -: Code"],
        );
        check(
            "# Joint-review of X\n\n* [Goal](#go$0al)\n\n## Goal\n",
            expect![[r#"in -: anchor target hash=true typed="go" replace="goal" link=Some(0)"#]],
        );
        check(
            "# Joint-review of X\n\n* [Go$0al](#goal)\n\n## Goal\n",
            expect!["in -: Link(0)"],
        );
        check(
            "# Joint-review of X\n\n* [Goal](#$0\n",
            expect![[r#"in -: anchor target hash=true typed="" replace="" link=None"#]],
        );
        check(
            "# Joint-review of X\n\n* [Goal]($0\n",
            expect![[r#"in -: anchor target hash=false typed="" replace="" link=None"#]],
        );
        check(
            "# Joint-review of X\n\n* [Goal](http$0\n",
            expect![[r#"in -: Text"#]],
        );
        check(
            "# Joint-review of X\n\n## Intended Use\n\n* End-us$0ers\n",
            expect![[r#"in Intended Use: persona End user at "End-users""#]],
        );
    }

    #[test]
    fn metadata_cells() {
        let with = |from: &str, to: &str| META.replace(from, to);
        check(
            &with("| Y |", "| $0 |"),
            expect![[r#"in Metadata: metadata column=1 content="" row=Some(1) present=[0]"#]],
        );
        check(
            &with("| Y |", "| Y$0es |"),
            expect![[r#"in Metadata: metadata column=1 content="Yes" row=Some(1) present=[0]"#]],
        );
        check(
            &with("| Software | x |", "| So$0"),
            expect![[r#"in Metadata: metadata column=0 content="So" row=None present=[1]"#]],
        );
        check(
            &with("| Software |", "|$0 Software |"),
            expect![[
                r#"in Metadata: metadata column=0 content=" Software" row=Some(0) present=[1]"#
            ]],
        );
        check(
            &with("| Software |", "$0| Software |"),
            expect!["in Metadata: Text"],
        );
    }

    #[test]
    fn template_metadata_texts() {
        let texts = |name: &str| {
            let outline = crate::analysis::outline::by_name(name).unwrap();
            (0..outline.metadata.len())
                .map(|r| {
                    format!(
                        "{}: {}",
                        outline.metadata[r].row,
                        template_metadata_text(outline, r).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        expect![[r#"
            Software: A link to the software’s repository.
            Security Provider: Yes or No. Is the primary function of the project to support the security of an integrating system?
            Languages: languages the project is written in
            SBOM: Software bill of materials. Link to the libraries, packages, versions used by the project, may also included irect dependencies."#]].assert_eq(&texts("joint-review"));
        expect![[r#"
            Assessment Stage: Incomplete, Complete, or Obsolete. Status of this file may change over time.
            Software: A link to the software’s repository.
            Security Provider: Yes or No. Is the primary function of the project to support the security of an integrating system?
            Languages: Language(s) the project is written in.
            SBOM: Software bill of materials. Link to the libraries, packages, versions used by the project, may also include direct dependencies."#]].assert_eq(&texts("self-assessment"));
    }
}
