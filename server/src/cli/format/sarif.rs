//! The sarif format: one SARIF 2.1.0 log with one run, for GitHub code scanning and other
//! SARIF viewers. Regions are 1-based with the end column just after the range, and the run
//! declares `columnKind: unicodeCodePoints`, the columns `check` counts in.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::one_based;
use crate::analysis::diagnostics::{Code, Severity};
use crate::cli::report::{FileReport, Finding};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn write(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |f| result(&r.path, f)))
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver() },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn driver() -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|&code| {
            json!({
                "id": code.as_str(),
                "shortDescription": { "text": description(code) },
                "defaultConfiguration": { "level": level(code.default_severity()) },
            })
        })
        .collect();
    json!({
        "name": "joint-review-lsp",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    })
}

fn result(path: &str, f: &Finding) -> Value {
    let (start_line, start_column) = one_based(f.start);
    let (end_line, end_column) = one_based(f.end);
    json!({
        "ruleId": f.code.as_str(),
        "ruleIndex": Code::ALL.iter().position(|&c| c == f.code),
        "level": level(f.severity),
        "message": { "text": f.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(path) },
                "region": {
                    "startLine": start_line,
                    "startColumn": start_column,
                    "endLine": end_line,
                    "endColumn": end_column,
                },
            },
        }],
    })
}

/// SARIF's level for a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

/// What each rule checks, in one sentence.
fn description(code: Code) -> &'static str {
    match code {
        Code::MissingSection => "A section the template requires is not in the document.",
        Code::SectionOrder => "A section is present but not where the template's order puts it.",
        Code::HeadingLevel => "A section's heading has a level other than the template's.",
        Code::DuplicateSection => "A template section's heading appears twice at the same level.",
        Code::EmptySection => "A heading has nothing under it.",
        Code::TemplateText => {
            "Text copied from the template (guidance or a placeholder) was not replaced."
        }
        Code::MetadataTable => {
            "The Metadata table lacks a row, has an empty value or a value of the wrong kind."
        }
        Code::TocLink => "An #anchor link matches no heading.",
        Code::TocEntry => "A section the document has is left out of its table of contents.",
    }
}

/// The path as a relative URI reference: `/` separators (on Windows too), and every byte other
/// than an unreserved character or `/` percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let path = path.replace(std::path::MAIN_SEPARATOR, "/");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            uri("docs/flux-self-assessment.md"),
            "docs/flux-self-assessment.md"
        );
        assert_eq!(uri("my docs/a#1.md"), "my%20docs/a%231.md");
        assert_eq!(uri("é.md"), "%C3%A9.md");
    }
}
