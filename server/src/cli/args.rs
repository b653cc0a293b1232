//! The `check` command's flags, parsed by clap, and how they become the analysis's
//! [`Config`].

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::analysis::config::Config;
use crate::analysis::diagnostics::{Code, Severity};

const AFTER_HELP: &str = "\
Positions: lines and columns are 1-based in the human, github and sarif formats and 0-based \
in json (as in the Language Server Protocol). Columns count Unicode scalar values (code \
points), not bytes or UTF-16 units.

Rule codes: missing-section, section-order, heading-level, duplicate-section, empty-section, \
template-text, metadata-table, toc-link, toc-entry.

Exit status: 0 when no diagnostic has error severity, 1 when one does, 2 on a usage error or \
when a file cannot be read.";

/// Check documents against their outline, for CI.
#[derive(Args, Debug, Clone)]
#[command(after_help = AFTER_HELP)]
pub struct CheckArgs {
    /// Files or directories to check; `-` reads stdin. Directories are searched recursively
    /// for Markdown files whose name contains joint-review, joint-assessment or
    /// self-assessment (hidden directories, node_modules and target are skipped, and symbolic
    /// links are not followed).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// The outline to check against. `auto` detects it from the title or the file name; a
    /// `<!-- joint-review-lsp: outline=NAME -->` comment at the top of a document wins over
    /// both this flag and detection.
    #[arg(long, value_enum, default_value_t = OutlineChoice::Auto)]
    pub outline: OutlineChoice,

    /// Set a rule's severity: CODE=error|warning|information|hint|off (repeatable).
    #[arg(long = "severity", value_name = "CODE=LEVEL", value_parser = parse_severity_override)]
    pub severity: Vec<SeverityOverride>,

    /// In the human format, also show the outline used and why, and headings matched to a
    /// template section under another wording; on stderr, name the symbolic links a directory
    /// search did not follow.
    #[arg(short, long)]
    pub verbose: bool,
}

/// How results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// `path:line:col: severity[code]: message`, then a summary line.
    Human,
    /// A JSON array with one object per file (0-based positions).
    Json,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

/// Which outline to check against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutlineChoice {
    Auto,
    JointReview,
    JointAssessment,
    SelfAssessment,
}

impl OutlineChoice {
    /// The outline's name, `None` for automatic detection.
    fn name(self) -> Option<&'static str> {
        match self {
            OutlineChoice::Auto => None,
            OutlineChoice::JointReview => Some("joint-review"),
            OutlineChoice::JointAssessment => Some("joint-assessment"),
            OutlineChoice::SelfAssessment => Some("self-assessment"),
        }
    }
}

/// One `--severity CODE=LEVEL`: `None` turns the rule off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeverityOverride {
    pub code: Code,
    pub severity: Option<Severity>,
}

impl CheckArgs {
    /// The analysis configuration these flags ask for (a later `--severity` for the same code
    /// wins).
    pub fn config(&self) -> Config {
        let mut config = Config {
            outline: self.outline.name().map(str::to_string),
            ..Config::default()
        };
        for o in &self.severity {
            config.severity.insert(o.code, o.severity);
        }
        config
    }
}

/// Parses `CODE=LEVEL`, naming the valid codes or levels when one is wrong.
fn parse_severity_override(value: &str) -> Result<SeverityOverride, String> {
    let Some((code, level)) = value.split_once('=') else {
        return Err(format!(
            "expected CODE=LEVEL, for example toc-link=warning; valid codes: {}",
            valid_codes()
        ));
    };
    let code = Code::parse(code.trim()).ok_or_else(|| {
        format!(
            "unknown rule code '{}'; valid codes: {}",
            code.trim(),
            valid_codes()
        )
    })?;
    let level = level.trim();
    let severity = if level.eq_ignore_ascii_case("off") {
        None
    } else {
        let parsed = Severity::parse(level).ok_or_else(|| {
            format!("unknown level '{level}'; valid levels: error, warning, information, hint, off")
        })?;
        Some(parsed)
    };
    Ok(SeverityOverride { code, severity })
}

fn valid_codes() -> String {
    Code::ALL.map(Code::as_str).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_overrides_parse() {
        assert_eq!(
            parse_severity_override("toc-link=warning"),
            Ok(SeverityOverride {
                code: Code::TocLink,
                severity: Some(Severity::Warning)
            })
        );
        assert_eq!(
            parse_severity_override("missing-section=off"),
            Ok(SeverityOverride {
                code: Code::MissingSection,
                severity: None
            })
        );
        let unknown = parse_severity_override("nope=error").unwrap_err();
        assert!(
            unknown.contains("unknown rule code 'nope'") && unknown.contains("toc-entry"),
            "{unknown}"
        );
        let level = parse_severity_override("toc-link=loud").unwrap_err();
        assert!(level.contains("unknown level 'loud'"), "{level}");
        assert!(parse_severity_override("toc-link").is_err());
    }

    #[test]
    fn the_help_lists_every_code() {
        for code in Code::ALL {
            assert!(AFTER_HELP.contains(code.as_str()), "{code}");
        }
    }
}
