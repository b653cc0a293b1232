//! `metadata-table`: the Metadata table lacks a row the template asks for, has a row with no
//! value, or a value of the wrong kind (Security Provider is Yes or No; Software is a link;
//! a self-assessment's Assessment Stage is Incomplete, Complete or Obsolete).
//!
//! The table is read line by line from the Metadata section's own text rather than from the
//! syntax tree: copies of the template's table often have rows that tree-sitter-md 0.5 does
//! not take as table rows (wrapped cells, a `|||` header), and the rule must still see them.

use crate::analysis::diagnostics::{Code, Diagnostic};
use crate::analysis::markdown::InlineCache;
use crate::analysis::matching;
use crate::analysis::outline::{fold_text, ValueKind};
use crate::analysis::text::TextRange;
use crate::analysis::Context;

/// A table row: its line and its cells' text and ranges.
struct Row {
    line: TextRange,
    cells: Vec<(String, TextRange)>,
}

pub(super) fn check(ctx: &Context, cache: &mut InlineCache, out: &mut Vec<Diagnostic>) {
    let Some(s) = ctx
        .outline
        .sections
        .iter()
        .position(|s| s.title == "Metadata")
    else {
        return;
    };
    let Some(h) = ctx.alignment.heading_of(s) else {
        return;
    };
    let heading = &ctx.syntax.headings[h];
    let own_end = ctx
        .syntax
        .headings
        .get(h + 1)
        .map_or(heading.section.end, |n| {
            n.range.start.min(heading.section.end)
        });
    let body = TextRange::new(heading.range.end, own_end);
    let body_text = ctx.doc.slice(body);
    let mut rows = table_rows(&body_text, body.start);
    if rows.is_empty() {
        rows = html_table_rows(&body_text, body.start);
    }
    let section = &ctx.outline.sections[s].title;
    if rows.is_empty() {
        out.push(
            Diagnostic::new(
                Code::MetadataTable,
                heading.range,
                format!(
                    "The {section} section has no table; the template asks for one with {}.",
                    row_names(ctx)
                ),
            )
            .section(section),
        );
        return;
    }
    let table = TextRange::new(rows[0].line.start, rows[rows.len() - 1].line.end);
    for wanted in &ctx.outline.metadata {
        // "Software Repositories" and "Language(s)" are the Software and Languages rows.
        let key = matching::key(&wanted.row);
        let Some(row) = rows.iter().find(|r| {
            r.cells
                .first()
                .is_some_and(|c| matching::key(&c.0).starts_with(&key))
        }) else {
            out.push(
                Diagnostic::new(
                    Code::MetadataTable,
                    table,
                    format!("The {section} table has no '{}' row.", wanted.row),
                )
                .section(section),
            );
            continue;
        };
        let value = row.cells.get(1).filter(|c| !c.0.trim().is_empty());
        let Some((value, value_range)) = value else {
            out.push(
                Diagnostic::new(
                    Code::MetadataTable,
                    row.line,
                    format!("The {section} row '{}' has no value.", wanted.row),
                )
                .section(section),
            );
            continue;
        };
        let plain = cache.facts(value).rendered.clone();
        let folded = fold_text(&plain);
        let problem = match &wanted.kind {
            ValueKind::Text => None,
            ValueKind::YesNo => {
                let first = folded.split(' ').next().unwrap_or("");
                (first != "yes" && first != "no").then(|| "should be Yes or No".to_string())
            }
            ValueKind::Link => {
                // The source text, so an HTML cell's `href` counts.
                let raw = ctx.doc.slice(*value_range);
                let is_link = ["://", "](", "www."].iter().any(|m| raw.contains(m));
                (!is_link).then(|| "should be a link to the software's repository".to_string())
            }
            ValueKind::OneOf(choices) => {
                let first = folded.split(' ').next().unwrap_or("");
                (!choices.iter().any(|c| c.eq_ignore_ascii_case(first)))
                    .then(|| format!("should be one of {}", choices.join(", ")))
            }
        };
        if let Some(problem) = problem {
            out.push(
                Diagnostic::new(
                    Code::MetadataTable,
                    *value_range,
                    format!("The {section} row '{}' {problem}.", wanted.row),
                )
                .section(section),
            );
        }
    }
}

fn row_names(ctx: &Context) -> String {
    let names: Vec<&str> = ctx
        .outline
        .metadata
        .iter()
        .map(|r| r.row.as_str())
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The rows of the first pipe table in `text` (found at byte `at`), delimiter row left out.
fn table_rows(text: &str, at: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut offset = 0;
    let mut in_fence = false;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if in_fence {
            continue;
        }
        if !trimmed.starts_with('|') {
            if !rows.is_empty() && trimmed.is_empty() {
                break;
            }
            continue;
        }
        let cells = split_cells(content, at + start);
        let is_delimiter = cells.iter().all(|(c, _)| {
            let c = c.trim();
            !c.is_empty() && c.trim_matches(':').chars().all(|ch| ch == '-')
        });
        if !is_delimiter {
            rows.push(Row {
                line: TextRange::new(at + start, at + start + content.len()),
                cells,
            });
        }
    }
    rows
}

/// The rows of the first HTML `<table>` in `text` (found at byte `at`); cell text has its tags
/// removed. Word-processor exports write the Metadata table this way.
fn html_table_rows(text: &str, at: usize) -> Vec<Row> {
    let lower = text.to_ascii_lowercase();
    let Some(table_start) = lower.find("<table") else {
        return Vec::new();
    };
    let table_end = lower[table_start..]
        .find("</table")
        .map_or(text.len(), |e| table_start + e);
    let mut rows = Vec::new();
    let mut pos = table_start;
    while let Some(tr) = lower[pos..table_end].find("<tr") {
        let row_start = pos + tr;
        let row_end = lower[row_start + 3..table_end]
            .find("<tr")
            .map_or(table_end, |e| row_start + 3 + e);
        let mut cells = Vec::new();
        let mut cell_pos = row_start;
        while let Some(open) = next_cell(&lower[cell_pos..row_end]) {
            let open = cell_pos + open;
            let Some(gt) = lower[open..row_end].find('>') else {
                break;
            };
            let content_start = open + gt + 1;
            let content_end = next_cell(&lower[content_start..row_end])
                .into_iter()
                .chain(lower[content_start..row_end].find("</td"))
                .chain(lower[content_start..row_end].find("</th"))
                .min()
                .map_or(row_end, |e| content_start + e);
            let raw = &text[content_start..content_end];
            let plain = strip_tags(raw);
            let range = TextRange::new(at + content_start, at + content_end);
            cells.push((plain, range));
            cell_pos = content_end;
        }
        if !cells.is_empty() {
            rows.push(Row {
                line: TextRange::new(at + row_start, at + row_end),
                cells,
            });
        }
        pos = row_end;
    }
    rows
}

fn next_cell(lower: &str) -> Option<usize> {
    [lower.find("<td"), lower.find("<th")]
        .into_iter()
        .flatten()
        .min()
}

/// Text without HTML tags, whitespace collapsed.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cells of one table line: split at `|` not escaped and not inside a code span.
fn split_cells(line: &str, at: usize) -> Vec<(String, TextRange)> {
    let mut bounds = Vec::new();
    let mut in_code = false;
    let mut prev = '\0';
    for (i, ch) in line.char_indices() {
        match ch {
            '`' => in_code = !in_code,
            '|' if !in_code && prev != '\\' => bounds.push(i),
            _ => {}
        }
        prev = ch;
    }
    let mut cells = Vec::new();
    for pair in bounds.windows(2) {
        let raw = &line[pair[0] + 1..pair[1]];
        let start = pair[0] + 1 + (raw.len() - raw.trim_start().len());
        let trimmed = raw.trim();
        cells.push((
            trimmed.to_string(),
            TextRange::new(at + start, at + start + trimmed.len()),
        ));
    }
    // A last cell without a closing pipe (a wrapped row).
    if let Some(&last) = bounds.last() {
        let raw = &line[last + 1..];
        if !raw.trim().is_empty() {
            let start = last + 1 + (raw.len() - raw.trim_start().len());
            cells.push((
                raw.trim().to_string(),
                TextRange::new(at + start, at + start + raw.trim().len()),
            ));
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use crate::analysis::diagnostics::Code;
    use crate::analysis::fixture::diagnostics;
    use expect_test::expect;

    #[test]
    fn rows_values_and_kinds() {
        let text = "# Joint-review of X\n\n## Metadata\n\n|   |  |\n| -- | -- |\n| Software | github.com/x |\n| Security Provider | Sometimes |\n| Languages | |\n| | |\n\n## Overview\n";
        expect![[r#"
            5:1..10:6 The Metadata table has no 'SBOM' row.
            7:14..7:26 The Metadata row 'Software' should be a link to the software's repository.
            8:23..8:32 The Metadata row 'Security Provider' should be Yes or No.
            9:1..9:16 The Metadata row 'Languages' has no value.
        "#]]
        .assert_eq(&diagnostics(text, Code::MetadataTable));
    }

    #[test]
    fn a_good_table_is_quiet() {
        let text = "# Joint-review of X\n\n## Metadata\n\n|||\n| -- | -- |\n| Software | [x](https://github.com/x) |\n| **Security Provider** | No. |\n| Languages | Go |\n| SBOM | none |\n| | |\n\n## Overview\n";
        assert_eq!(diagnostics(text, Code::MetadataTable), "");
    }

    #[test]
    fn html_table() {
        let text = "# Joint-review of X\n\n## Metadata\n\n<table>\n  <tr>\n   <td>Software\n   </td>\n   <td><a href=\"https://github.com/x\">x</a>\n   </td>\n  </tr>\n  <tr><td>Security Provider</td><td>Maybe</td></tr>\n</table>\n\n## Overview\n";
        expect![[r#"
            6:3..13:1 The Metadata table has no 'Languages' row.
            6:3..13:1 The Metadata table has no 'SBOM' row.
            12:37..12:42 The Metadata row 'Security Provider' should be Yes or No.
        "#]]
        .assert_eq(&diagnostics(text, Code::MetadataTable));
    }

    #[test]
    fn no_table() {
        let text = "# Joint-review of X\n\n## Metadata\n\nSoftware: x\n";
        expect![[r#"
            3:1..3:12 The Metadata section has no table; the template asks for one with Software, Security Provider, Languages and SBOM.
        "#]]
        .assert_eq(&diagnostics(text, Code::MetadataTable));
    }
}
