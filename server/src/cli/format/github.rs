//! The github format: GitHub Actions workflow commands, one annotation per diagnostic:
//! `::error file=PATH,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::MESSAGE` (`warning`
//! or `notice` for other severities). Positions are 1-based; the end column is the one just
//! after the range.

use std::io::{self, Write};

use super::one_based;
use crate::analysis::diagnostics::Severity;
use crate::cli::report::{FileReport, Finding};

pub fn write(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    for report in reports {
        for finding in &report.diagnostics {
            writeln!(out, "{}", command(&report.path, finding))?;
        }
    }
    Ok(())
}

fn command(path: &str, f: &Finding) -> String {
    let kind = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "notice",
    };
    let (line, col) = one_based(f.start);
    let (end_line, end_col) = one_based(f.end);
    format!(
        "::{kind} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
        escape_property(path),
        escape_property(f.code.as_str()),
        escape_data(&f.message)
    )
}

/// Escapes a command's message as the runner expects: `%`, CR and LF.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as data, and also `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_property("a,b:c%.md"), "a%2Cb%3Ac%25.md");
    }
}
