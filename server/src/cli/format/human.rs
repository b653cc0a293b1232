//! The human format: one compiler-style line per diagnostic,
//! `path:LINE:COL: severity[code]: message` (1-based), then a summary line. With `--verbose`,
//! each file starts with the outline used and why, the headings taken as a section under
//! another wording, and how many sections were found.

use std::io::{self, Write};

use super::one_based;
use crate::analysis::alignment::MatchKind;
use crate::analysis::diagnostics::Severity;
use crate::cli::report::{FileReport, Finding, Rewording};

pub fn write(reports: &[FileReport], verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    for report in reports {
        if verbose {
            write_explanation(report, out)?;
        }
        for finding in &report.diagnostics {
            write_finding(&report.path, finding, out)?;
        }
    }
    writeln!(out, "{}", summary(reports))
}

fn write_finding(path: &str, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let (line, col) = one_based(f.start);
    // A message is one sentence; keep it on one line whatever it holds.
    let message = f.message.replace(['\r', '\n'], " ");
    writeln!(
        out,
        "{path}:{line}:{col}: {}[{}]: {message}",
        f.severity.as_str(),
        f.code
    )
}

/// The `--verbose` lines that open a file's results.
fn write_explanation(report: &FileReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}: outline {} ({})",
        report.path, report.outline, report.outline_source
    )?;
    for r in &report.rewordings {
        writeln!(out, "note: {}", rewording(r))?;
    }
    let s = report.sections;
    writeln!(
        out,
        "note: {} of {} required sections present; {} of {} template sections matched",
        s.required_present, s.required, s.matched, s.total
    )
}

/// `'Project Goals' (line 12) taken as 'Goal' (reworded)`.
fn rewording(r: &Rewording) -> String {
    let how = match &r.kind {
        MatchKind::Exact => "exact".to_string(),
        MatchKind::Reworded => "reworded".to_string(),
        MatchKind::Alias(alias) if alias.is_empty() => "an alias".to_string(),
        MatchKind::Alias(alias) => format!("alias '{alias}'"),
        MatchKind::Contains => "holds all its words".to_string(),
    };
    format!(
        "'{}' (line {}) taken as '{}' ({how})",
        r.heading,
        r.line + 1,
        r.section
    )
}

/// `checked 3 files: 2 errors, 5 warnings` (and notes, when there are any).
fn summary(reports: &[FileReport]) -> String {
    let count = |wanted: &[Severity]| {
        reports
            .iter()
            .flat_map(|r| &r.diagnostics)
            .filter(|d| wanted.contains(&d.severity))
            .count()
    };
    let mut text = format!(
        "checked {} {}: {}, {}",
        plural(reports.len(), "file"),
        outlines(reports),
        plural(count(&[Severity::Error]), "error"),
        plural(count(&[Severity::Warning]), "warning")
    );
    let notes = count(&[Severity::Information, Severity::Hint]);
    if notes > 0 {
        text.push_str(&format!(", {}", plural(notes, "note")));
    }
    text
}

/// The outlines in force: `against the joint-review outline`, or with several,
/// `against the outlines joint-assessment (1), self-assessment (5)`.
fn outlines(reports: &[FileReport]) -> String {
    let mut names: Vec<&str> = reports.iter().map(|r| r.outline).collect();
    names.sort();
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for name in names {
        match counted.last_mut() {
            Some((last, n)) if *last == name => *n += 1,
            _ => counted.push((name, 1)),
        }
    }
    match counted.as_slice() {
        [] => "against no outline".to_string(),
        [(name, _)] => format!("against the {name} outline"),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|(name, n)| format!("{name} ({n})"))
                .collect();
            format!("against the outlines {}", list.join(", "))
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
