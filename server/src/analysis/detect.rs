//! Which outline applies to a document.
//!
//! In order: a comment on the first lines (`<!-- joint-review-lsp: outline=self-assessment -->`),
//! the configuration, the document's title heading, its file name, and the default
//! (`joint-review`).

use std::fmt;

use super::config::Config;
use super::markdown::Heading;
use super::outline::{self, Outline};

/// What decided the outline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutlineSource {
    Comment,
    Config,
    Title,
    FileName,
    Default,
}

impl fmt::Display for OutlineSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutlineSource::Comment => "set by a comment in the document",
            OutlineSource::Config => "set by configuration",
            OutlineSource::Title => "detected from the title",
            OutlineSource::FileName => "detected from the file name",
            OutlineSource::Default => "the default",
        })
    }
}

/// The outline in force and why.
#[derive(Clone, Copy, Debug)]
pub struct Selection {
    pub outline: &'static Outline,
    pub source: OutlineSource,
}

/// How many lines at the start may hold the override comment.
const COMMENT_LINES: usize = 10;

/// Picks the outline. `head` is the start of the document (its first lines suffice).
pub fn select(
    head: &str,
    headings: &[Heading],
    file_name: Option<&str>,
    config: &Config,
) -> Selection {
    let pick = |outline, source| Selection { outline, source };
    if let Some(o) = from_comment(head) {
        return pick(o, OutlineSource::Comment);
    }
    if let Some(o) = config.outline.as_deref().and_then(outline::by_name) {
        return pick(o, OutlineSource::Config);
    }
    if let Some(o) = headings.iter().take(2).find_map(|h| from_words(&h.text)) {
        return pick(o, OutlineSource::Title);
    }
    if let Some(o) = file_name.and_then(from_file_name) {
        return pick(o, OutlineSource::FileName);
    }
    pick(outline::default_outline(), OutlineSource::Default)
}

/// `<!-- joint-review-lsp: outline=NAME -->` on one of the first lines.
pub fn from_comment(head: &str) -> Option<&'static Outline> {
    for line in head.lines().take(COMMENT_LINES) {
        // A byte order mark may start the first line.
        let Some(rest) = line
            .trim_start_matches('\u{feff}')
            .trim()
            .strip_prefix("<!--")
        else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("joint-review-lsp:") else {
            continue;
        };
        let rest = rest.trim_end().trim_end_matches("-->").trim();
        if let Some(name) = rest
            .strip_prefix("outline=")
            .or_else(|| rest.strip_prefix("outline ="))
        {
            return outline::by_name(name.trim());
        }
    }
    None
}

fn from_words(text: &str) -> Option<&'static Outline> {
    let lower = text.to_lowercase().replace(['-', '_'], " ");
    let name = if lower.contains("joint assessment") {
        "joint-assessment"
    } else if lower.contains("joint review") {
        "joint-review"
    } else if lower.contains("self assessment") || lower.contains("selfassessment") {
        "self-assessment"
    } else {
        return None;
    };
    outline::by_name(name)
}

fn from_file_name(path: &str) -> Option<&'static Outline> {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_lowercase();
    outline::all().iter().find(|o| {
        o.file_name_markers
            .iter()
            .any(|m| name.contains(m.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(
        head: &str,
        titles: &[&str],
        file: Option<&str>,
        config: &Config,
    ) -> (&'static str, OutlineSource) {
        let headings: Vec<Heading> = titles
            .iter()
            .map(|t| Heading {
                level: 1,
                range: Default::default(),
                content: Default::default(),
                text: (*t).into(),
                section: Default::default(),
                bold_line_title: None,
            })
            .collect();
        let s = select(head, &headings, file, config);
        (s.outline.name, s.source)
    }

    #[test]
    fn precedence() {
        let none = Config::default();
        let cfg = Config {
            outline: Some("joint-assessment".into()),
            ..Config::default()
        };
        let comment = "<!-- joint-review-lsp: outline=self-assessment -->\n# Joint-review of X";
        assert_eq!(
            name(comment, &["Joint-review of X"], None, &cfg),
            ("self-assessment", OutlineSource::Comment)
        );
        let with_bom = format!("\u{feff}{comment}");
        assert_eq!(
            name(&with_bom, &["Joint-review of X"], None, &cfg),
            ("self-assessment", OutlineSource::Comment)
        );
        assert_eq!(
            name("", &["Joint-review of X"], None, &cfg),
            ("joint-assessment", OutlineSource::Config)
        );
        assert_eq!(
            name(
                "",
                &["CNCF Flux Self Assessment"],
                Some("a/joint-review.md"),
                &none
            ),
            ("self-assessment", OutlineSource::Title)
        );
        assert_eq!(
            name(
                "",
                &["Joint-assessment Outline", "Joint-assessment of OpenFGA"],
                None,
                &none
            )
            .0,
            "joint-assessment"
        );
        assert_eq!(
            name(
                "",
                &["Keycloak"],
                Some("x/keycloak-self-assessment.md"),
                &none
            ),
            ("self-assessment", OutlineSource::FileName)
        );
        assert_eq!(
            name("", &["Keycloak"], Some("notes.md"), &none),
            ("joint-review", OutlineSource::Default)
        );
        assert_eq!(
            name(
                "<!-- joint-review-lsp: outline=nonsense -->",
                &[],
                None,
                &none
            )
            .1,
            OutlineSource::Default
        );
    }
}
