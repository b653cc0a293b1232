//! Outlines as data: the sections of each template, read from the template Markdown itself.
//!
//! `grammars/<name>.md` is the template as upstream wrote it (CC BY 4.0, see
//! `grammars/ATTRIBUTION.md`); its headings after the root heading are the outline's sections
//! (title, level, order, parent) and the text under each heading is that section's guidance.
//! `grammars/<name>.json` adds what the Markdown cannot say: aliases, optional and only-if
//! sections, the Metadata rows and the placeholders an author must replace.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::document::Document;
use super::markdown::{InlineCache, Syntax};
use super::matching;

/// The attribution shown with any template text.
pub const ATTRIBUTION: &str = "From the CNCF TAG-Security templates (cncf/tag-security), \
CC BY 4.0; may be shortened or reformatted.";

/// Appends the attribution (in italics) to Markdown that shows template text, after a rule
/// when text comes before it.
pub fn push_attribution(md: &mut String) {
    if !md.is_empty() {
        md.push_str("\n\n---\n\n");
    }
    md.push('*');
    md.push_str(ATTRIBUTION);
    md.push('*');
}

/// Whether a document must have a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    #[default]
    Required,
    /// Only when something is true of the project ("Existing Audits").
    Conditional,
    /// The template shows it as an example ("Identity Theft" in the threat model).
    Example,
}

/// One section of an outline.
#[derive(Clone, Debug)]
pub struct Section {
    /// The title as the template writes it (rendered: no markup).
    pub title: String,
    /// 1 for a top-level section of the document, 2 for its sub-sections, ...
    pub depth: u8,
    /// The heading level the template uses.
    pub template_level: u8,
    pub parent: Option<usize>,
    /// The template's Markdown between this heading and the next one.
    pub guidance: String,
    pub aliases: Vec<String>,
    pub requirement: Requirement,
    /// Why the section is not always required, when it is not.
    pub why: Option<String>,
    /// The table of contents.
    pub is_toc: bool,
    /// The template's text here is meant to be kept (with `[project]` filled in).
    pub boilerplate: bool,
    /// Line of the heading in the template (0-based).
    pub template_line: usize,
    /// Matching keys ([`matching::key`]): the title's, then every alias's, in order.
    pub keys: Vec<String>,
    /// Content words ([`matching::content_words`]) of the title, then of every alias.
    pub wordings: Vec<Vec<String>>,
    /// What a new section's text says until its author writes it ([`text_placeholder`]).
    pub text_placeholder: String,
}

/// What a Metadata row's value must be.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueKind {
    Link,
    YesNo,
    Text,
    OneOf(Vec<String>),
}

#[derive(Clone, Debug, Deserialize)]
pub struct MetadataRow {
    pub row: String,
    pub kind: ValueKind,
}

/// A template outline.
#[derive(Debug)]
pub struct Outline {
    /// `joint-review`, `joint-assessment` or `self-assessment`.
    pub name: &'static str,
    pub display_name: String,
    pub template_file: String,
    /// Markers in a file name that select this outline.
    pub file_name_markers: Vec<String>,
    /// The template's own first heading, guidance for the author ("Joint-review Outline").
    pub preamble_heading: Option<String>,
    /// The heading the document starts at ("Joint-review of [Project]").
    pub root_heading: String,
    pub sections: Vec<Section>,
    /// The section of each matching key (keys are unique across sections).
    pub section_by_key: HashMap<String, usize>,
    pub metadata: Vec<MetadataRow>,
    pub placeholders: Vec<String>,
    /// Sentences of guidance (folded, see [`fold_text`]) that an author should replace, each
    /// with the section whose guidance it is.
    pub guidance_sentences: Vec<(String, usize)>,
    /// The template Markdown.
    pub template: &'static str,
}

#[derive(Deserialize)]
struct OutlineData {
    name: String,
    display_name: String,
    template: String,
    file_name_markers: Vec<String>,
    preamble_heading: Option<String>,
    root_heading: String,
    #[serde(default)]
    sections: HashMap<String, SectionData>,
    metadata: Vec<MetadataRow>,
    placeholders: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SectionData {
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    required: Requirement,
    why: Option<String>,
    role: Option<String>,
    #[serde(default)]
    boilerplate: bool,
}

const SOURCES: [(&str, &str, &str); 3] = [
    (
        "joint-review",
        include_str!("../../../grammars/joint-review.md"),
        include_str!("../../../grammars/joint-review.json"),
    ),
    (
        "joint-assessment",
        include_str!("../../../grammars/joint-assessment.md"),
        include_str!("../../../grammars/joint-assessment.json"),
    ),
    (
        "self-assessment",
        include_str!("../../../grammars/self-assessment.md"),
        include_str!("../../../grammars/self-assessment.json"),
    ),
];

/// The names of the outlines, the default first.
pub const NAMES: [&str; 3] = ["joint-review", "joint-assessment", "self-assessment"];

/// Every outline, the default (`joint-review`) first. Built once, from the embedded files.
pub fn all() -> &'static [Outline] {
    static OUTLINES: OnceLock<Vec<Outline>> = OnceLock::new();
    OUTLINES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(name, md, json)| {
                build(name, md, json).unwrap_or_else(|e| panic!("embedded outline {name}: {e}"))
            })
            .collect()
    })
}

/// The outline with this name.
pub fn by_name(name: &str) -> Option<&'static Outline> {
    all().iter().find(|o| o.name == name)
}

/// The default outline (`joint-review`).
pub fn default_outline() -> &'static Outline {
    &all()[0]
}

fn build(name: &'static str, markdown: &'static str, json: &str) -> Result<Outline, String> {
    let data: OutlineData = serde_json::from_str(json).map_err(|e| e.to_string())?;
    if data.name != name {
        return Err(format!("data file names {:?}", data.name));
    }
    let doc = Document::new(markdown);
    let syntax = Syntax::new(&doc, &mut InlineCache::new());
    let root_key = matching::key(&data.root_heading);
    let root = syntax
        .headings
        .iter()
        .position(|h| matching::key(&h.text) == root_key)
        .ok_or_else(|| format!("no root heading {:?}", data.root_heading))?;
    let headings = &syntax.headings[root + 1..];
    let min_level = headings
        .iter()
        .map(|h| h.level)
        .min()
        .ok_or("no sections")?;
    let mut sections: Vec<Section> = Vec::new();
    let mut used = Vec::new();
    for (i, h) in headings.iter().enumerate() {
        let depth = h.level - min_level + 1;
        let parent = sections.iter().rposition(|s| s.depth < depth);
        let body_end = headings.get(i + 1).map_or(doc.len(), |n| n.range.start);
        let guidance = doc.slice(super::text::TextRange::new(h.range.end, body_end));
        let title = h.text.to_string();
        let extra = data.sections.get(&title);
        if extra.is_some() {
            used.push(title.clone());
        }
        let extra_default = SectionData::default();
        let extra = extra.unwrap_or(&extra_default);
        let guidance = guidance.trim().to_string();
        sections.push(Section {
            text_placeholder: text_placeholder(&guidance, extra.boilerplate),
            title: title.clone(),
            depth,
            template_level: h.level,
            parent,
            guidance,
            aliases: extra.aliases.clone(),
            requirement: extra.required,
            why: extra.why.clone(),
            is_toc: extra.role.as_deref() == Some("toc"),
            boilerplate: extra.boilerplate,
            template_line: doc.rope().byte_to_line(h.range.start),
            keys: std::iter::once(&title)
                .chain(&extra.aliases)
                .map(|t| matching::key(t))
                .collect(),
            wordings: std::iter::once(&title)
                .chain(&extra.aliases)
                .map(|t| matching::content_words(t))
                .collect(),
        });
    }
    if let Some(unknown) = data.sections.keys().find(|k| !used.contains(k)) {
        return Err(format!(
            "data names section {unknown:?}, which the template lacks"
        ));
    }
    let mut section_by_key = HashMap::new();
    for (i, s) in sections.iter().enumerate() {
        let mut own: Vec<String> = s.keys.clone();
        own.sort();
        own.dedup();
        for k in own {
            if let Some(j) = section_by_key.insert(k.clone(), i) {
                return Err(format!("sections {j} and {i} share the matching key {k:?}"));
            }
        }
    }
    let mut guidance_sentences: Vec<(String, usize)> = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.boilerplate && !s.is_toc)
        .flat_map(|(i, s)| sentences(&s.guidance).into_iter().map(move |t| (t, i)))
        .collect();
    guidance_sentences.sort();
    guidance_sentences.dedup_by(|a, b| a.0 == b.0);
    Ok(Outline {
        name,
        display_name: data.display_name,
        template_file: data.template,
        file_name_markers: data.file_name_markers,
        preamble_heading: data.preamble_heading,
        root_heading: data.root_heading,
        sections,
        section_by_key,
        metadata: data.metadata,
        placeholders: data.placeholders,
        guidance_sentences,
        template: markdown,
    })
}

/// What a new section's text says until its author writes it (completion's skeletons): the
/// template's text itself for a section whose text is meant to be kept, else the first sentence
/// of its guidance (after a list item's label; short sentences only), else "TODO". Made once
/// per section when the outline loads, not per completion request.
fn text_placeholder(guidance: &str, boilerplate: bool) -> String {
    if boilerplate && !guidance.is_empty() {
        return guidance.to_string();
    }
    const MAX: usize = 160;
    let paragraph: Vec<&str> = guidance
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with(['|', '<', '>', '#', '`', '[', '!']))
        .map(|p| p.split_whitespace().collect())
        .unwrap_or_default();
    let mut text = paragraph.join(" ");
    if let Some(item) = text.strip_prefix("* ").or_else(|| text.strip_prefix("- ")) {
        // "* Design. A description of ...": the label stays the template's, the text follows.
        text = match item.split_once(". ") {
            Some((label, rest)) if label.split_whitespace().count() <= 6 => rest.to_string(),
            _ => item.to_string(),
        };
    }
    if let Some(end) = text.find(". ") {
        text.truncate(end + 1);
    }
    if text.is_empty() || text.len() > MAX {
        return "TODO".to_string();
    }
    text
}

/// Text folded for comparing prose: lowercase letters and digits, words separated by one space.
pub fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Guidance sentences long enough to be recognised when left in a document (folded).
///
/// A list item's leading label ("* Target Users and Use Cases. Provide ...") is left out: the
/// template means authors to keep it and write their text after it. So are block quotes: they
/// hold text the template suggests using as it is ("> At the time of the joint review, ...").
fn sentences(guidance: &str) -> Vec<String> {
    const MIN_WORDS: usize = 5;
    let mut out = Vec::new();
    let mut joined = String::with_capacity(guidance.len());
    for line in guidance.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('>') {
            continue;
        }
        let text = match trimmed
            .strip_prefix("* ")
            .or_else(|| trimmed.strip_prefix("- "))
        {
            Some(item) => item.split_once(". ").map_or("", |(_, rest)| rest),
            None => line,
        };
        joined.push_str(text);
        joined.push(' ');
    }
    for part in joined.split(['.', '?', '!', '|']) {
        let folded = fold_text(part);
        if folded.split(' ').count() >= MIN_WORDS {
            out.push(folded);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_load_from_the_templates() {
        let jr = by_name("joint-review").unwrap();
        let titles: Vec<String> = jr
            .sections
            .iter()
            .map(|s| format!("{}{}", "  ".repeat(s.depth as usize - 1), s.title))
            .collect();
        expect_test::expect![[r#"
            Table of Contents
            Metadata
              Security links
            Overview
              Background
              Goal
              Non-goals
            Joint-review use
            Intended Use
            Project Design
              Functions and features
                Security functions and features
            Configuration and Set-Up
            Project Compliance
              Existing Audits
            Security Analysis
              Attacker Motivations
              Predisposing Conditions
              Expected Attacker Capabilities
              Attack Risks and Effects
              Security Degradation
              Compensating Mechanisms
            Threat Model
              Identity Theft
              Compromise
              Denial of Service
            Secure Development Practices
            Security Issue Resolution
              Closed security issues and vulnerabilities
            Hands-on review
              Hands-on review result
            Roadmap
            Appendix"#]]
        .assert_eq(&titles.join("\n"));
        let ja = by_name("joint-assessment").unwrap();
        assert!(ja.sections.iter().any(|s| s.title == "Findings"));
        let sa = by_name("self-assessment").unwrap();
        assert_eq!(sa.sections[0].title, "Table of contents");
        assert_eq!(
            sa.sections
                .iter()
                .find(|s| s.title == "Actors")
                .unwrap()
                .depth,
            2
        );
    }

    #[test]
    fn guidance_sentences_are_found() {
        let jr = by_name("joint-review").unwrap();
        let folded = fold_text("A link to the software’s repository");
        assert!(jr.guidance_sentences.iter().any(|(t, _)| *t == folded));
        let s = jr
            .sections
            .iter()
            .find(|s| s.title == "Background")
            .unwrap();
        assert!(s.guidance.starts_with("Provide information for reviewers"));
    }
}
