//! Diagnostics: what a rule reports, with a stable code and a default severity.
//!
//! Every rule lives in its own file under `rules/`, with its code, its documentation and its
//! fixture tests. This module holds the shared types and runs the rules.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::TextRange;

/// The stable code of a rule, as written in configuration and in output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    MissingSection,
    SectionOrder,
    HeadingLevel,
    DuplicateSection,
    EmptySection,
    TemplateText,
    MetadataTable,
    TocLink,
    TocEntry,
}

impl Code {
    pub const ALL: [Code; 9] = [
        Code::MissingSection,
        Code::SectionOrder,
        Code::HeadingLevel,
        Code::DuplicateSection,
        Code::EmptySection,
        Code::TemplateText,
        Code::MetadataTable,
        Code::TocLink,
        Code::TocEntry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingSection => "missing-section",
            Code::SectionOrder => "section-order",
            Code::HeadingLevel => "heading-level",
            Code::DuplicateSection => "duplicate-section",
            Code::EmptySection => "empty-section",
            Code::TemplateText => "template-text",
            Code::MetadataTable => "metadata-table",
            Code::TocLink => "toc-link",
            Code::TocEntry => "toc-entry",
        }
    }

    /// Found from the headings alone: the outline pass reports these (see `analyze_outline`).
    pub fn is_outline(self) -> bool {
        matches!(
            self,
            Code::MissingSection | Code::SectionOrder | Code::HeadingLevel | Code::DuplicateSection
        )
    }

    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The severity a rule has unless configured otherwise. Errors are what a reviewer would
    /// send the document back for (a required section absent, a link that goes nowhere).
    pub fn default_severity(self) -> Severity {
        match self {
            Code::MissingSection | Code::TocLink => Severity::Error,
            Code::SectionOrder
            | Code::HeadingLevel
            | Code::DuplicateSection
            | Code::EmptySection
            | Code::TemplateText
            | Code::MetadataTable
            | Code::TocEntry => Severity::Warning,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "information" | "info" => Some(Severity::Information),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
}

/// A place in the document that a diagnostic points to, besides its own range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub range: TextRange,
    pub message: String,
}

/// A text edit in byte offsets, for quick fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: TextRange,
    pub new_text: String,
}

/// A fix a rule offers for its diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    /// Safe to apply without looking (part of `source.fixAll`).
    pub safe: bool,
}

/// One problem found in a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub range: TextRange,
    /// One sentence that names the template section, when there is one.
    pub message: String,
    /// The template section's title, for outline rules.
    pub section: Option<String>,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn new(code: Code, range: TextRange, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            range,
            message: message.into(),
            section: None,
            related: Vec::new(),
            fix: None,
        }
    }

    pub fn section(mut self, title: &str) -> Self {
        self.section = Some(title.to_string());
        self
    }

    pub fn related(mut self, range: TextRange, message: impl Into<String>) -> Self {
        self.related.push(Related {
            range,
            message: message.into(),
        });
        self
    }

    pub fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}
