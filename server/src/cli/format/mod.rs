//! The output formats of `check`: each writes every file's report to stdout, nothing else.

mod github;
mod human;
mod json;
mod sarif;

use std::io::{self, Write};

use super::args::OutputFormat;
use super::report::FileReport;
use crate::analysis::text::LineCol;

/// Writes the reports in `format`. `verbose` only changes the human format.
pub fn write(
    format: OutputFormat,
    reports: &[FileReport],
    verbose: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Human => human::write(reports, verbose, out),
        OutputFormat::Json => json::write(reports, out),
        OutputFormat::Github => github::write(reports, out),
        OutputFormat::Sarif => sarif::write(reports, out),
    }
}

/// A 1-based (line, column) pair, as people and most tools count.
fn one_based(pos: LineCol) -> (u64, u64) {
    (u64::from(pos.line) + 1, u64::from(pos.col) + 1)
}
