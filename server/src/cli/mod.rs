//! `joint-review-lsp check`: the analysis run over files from the command line, for CI.
//!
//! The flow is: expand the PATH arguments into inputs (`inputs.rs`), read and analyse each one
//! into a [`report::FileReport`] (positions converted here, at the edge, from byte offsets to
//! 0-based lines and code-point columns), then hand all reports to one output format
//! (`format/`). Problems with the invocation or with reading a file go to stderr; stdout holds
//! nothing but the results.

mod args;
mod format;
mod inputs;
mod report;

use std::io::{self, Write};
use std::process::ExitCode;

pub use args::{CheckArgs, OutputFormat};

use crate::analysis::config::Config;
use crate::analysis::diagnostics::Severity;
use inputs::{Input, Inputs};
use report::FileReport;

/// Exit status when no diagnostic has error severity.
const EXIT_CLEAN: u8 = 0;
/// Exit status when some diagnostic has error severity.
const EXIT_ERRORS: u8 = 1;
/// Exit status for a usage or I/O error (a file that could not be read or decoded, ...).
const EXIT_TROUBLE: u8 = 2;

/// Runs `check` and returns the process's exit status.
pub fn check(args: CheckArgs) -> ExitCode {
    let config = args.config();
    let Inputs {
        inputs,
        mut trouble,
    } = inputs::collect(&args.paths, args.verbose);
    let mut reports = Vec::with_capacity(inputs.len());
    for input in &inputs {
        match check_input(input, &config) {
            Ok(report) => reports.push(report),
            Err(message) => {
                report_trouble(&message);
                trouble = true;
            }
        }
    }
    if reports.is_empty() {
        if !trouble {
            report_trouble("no documents were checked");
        }
        trouble = true;
    }
    if let Err(e) = write_results(&args, &reports) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return ExitCode::from(exit_status(&reports, trouble));
        }
        report_trouble(&format!("cannot write the results: {e}"));
        return ExitCode::from(EXIT_TROUBLE);
    }
    ExitCode::from(exit_status(&reports, trouble))
}

/// Reads and analyses one input.
fn check_input(input: &Input, config: &Config) -> Result<FileReport, String> {
    let text = inputs::read(input)?;
    let name = input.display_name();
    report::analyze(&name, input.file_name().as_deref(), &text, config)
}

/// Writes every report in the chosen format to stdout.
fn write_results(args: &CheckArgs, reports: &[FileReport]) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    format::write(args.format, reports, args.verbose, &mut out)?;
    out.flush()
}

/// The exit status: trouble wins, then errors, else clean.
fn exit_status(reports: &[FileReport], trouble: bool) -> u8 {
    if trouble {
        EXIT_TROUBLE
    } else if reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .any(|d| d.severity == Severity::Error)
    {
        EXIT_ERRORS
    } else {
        EXIT_CLEAN
    }
}

/// Prints a problem with the invocation or an input on stderr.
fn report_trouble(message: &str) {
    warn(&format!("error: {message}"));
}

/// Prints a message on stderr, prefixed with the command's name.
fn warn(message: &str) {
    let _ = writeln!(io::stderr().lock(), "joint-review-lsp check: {message}");
}
