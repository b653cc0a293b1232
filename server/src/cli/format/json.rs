//! The json format: a JSON array with one object per file, in a fixed shape:
//! `{ "path", "outline", "diagnostics": [ { "code", "severity", "message", "range", "section" } ] }`.
//! Positions are 0-based as in LSP, `character` counting Unicode scalar values; `section` is
//! the template section's title, or `null` for rules that have none.

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::report::{FileReport, Finding};

#[derive(Serialize)]
struct File<'a> {
    path: &'a str,
    outline: &'a str,
    diagnostics: Vec<Diagnostic<'a>>,
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    range: Range,
    section: Option<&'a str>,
}

#[derive(Serialize)]
struct Range {
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct Position {
    line: u32,
    character: u32,
}

pub fn write(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    let files: Vec<File> = reports.iter().map(file).collect();
    serde_json::to_writer_pretty(&mut *out, &files)?;
    writeln!(out)
}

fn file(report: &FileReport) -> File<'_> {
    File {
        path: &report.path,
        outline: report.outline,
        diagnostics: report.diagnostics.iter().map(diagnostic).collect(),
    }
}

fn diagnostic(f: &Finding) -> Diagnostic<'_> {
    Diagnostic {
        code: f.code.as_str(),
        severity: f.severity.as_str(),
        message: &f.message,
        range: Range {
            start: Position {
                line: f.start.line,
                character: f.start.col,
            },
            end: Position {
                line: f.end.line,
                character: f.end.col,
            },
        },
        section: f.section.as_deref(),
    }
}
