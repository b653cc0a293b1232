//! Skeletons written from an outline: one section with its required sub-sections, or a whole
//! document, each heading at its level with a short prompt for the author under it.
//!
//! The prompt ([`PROMPT`]) is deliberately not a sentence of the template's guidance: guidance
//! left in is `template-text`, an empty heading is `empty-section`, and the prompt is neither,
//! so an inserted skeleton adds no diagnostic of its own. The Metadata table is the exception
//! by design: its values are empty until the author fills them, and `metadata-table` says so.

use super::anchors;
use super::outline::{Outline, Requirement};
use super::toc::{self, Entry, Style};

/// What the skeleton writes under a heading: the author's to replace.
pub const PROMPT: &str = "To be written.";

/// How many levels below the title a new table of contents lists.
pub const TOC_DEPTH: usize = 2;

/// The sections a skeleton of `s` writes, in template order: `s` and its descendants that are
/// required (with every section between them required), plus the sections on the way to
/// `also` when `also` lies under `s`.
pub fn sections(outline: &Outline, s: usize, also: Option<usize>) -> Vec<usize> {
    let all = &outline.sections;
    let on_way_to_also = |d: usize| {
        also.is_some_and(|a| std::iter::successors(Some(a), |&p| all[p].parent).any(|x| x == d))
    };
    let mut out = vec![s];
    for d in s + 1..all.len() {
        if all[d].depth <= all[s].depth {
            break;
        }
        let mut path = std::iter::successors(Some(d), |&p| all[p].parent).take_while(|&p| p != s);
        if on_way_to_also(d) || path.all(|p| all[p].requirement == Requirement::Required) {
            out.push(d);
        }
    }
    out
}

/// The Markdown of the given sections (lines joined by `\n`, no final line break): each
/// heading at `level_of(section)`, then the table-of-contents list `toc_list` for the table of
/// contents, the Metadata table for Metadata, and the prompt for every other section.
pub fn render(
    outline: &Outline,
    sections: &[usize],
    level_of: impl Fn(usize) -> u8,
    toc_list: Option<&str>,
) -> String {
    let mut blocks: Vec<String> = Vec::new();
    for &s in sections {
        let section = &outline.sections[s];
        blocks.push(format!(
            "{} {}",
            "#".repeat(level_of(s).clamp(1, 6) as usize),
            section.title
        ));
        let body = if section.is_toc {
            toc_list.map(str::to_string)
        } else if section.title == "Metadata" && !outline.metadata.is_empty() {
            Some(metadata_table(outline))
        } else {
            None
        };
        blocks.push(body.unwrap_or_else(|| PROMPT.to_string()));
    }
    blocks.join("\n\n")
}

/// The Metadata table with the outline's rows and empty values, in the template's shape.
pub fn metadata_table(outline: &Outline) -> String {
    let mut lines = vec!["| | |".to_string(), "| -- | -- |".to_string()];
    lines.extend(outline.metadata.iter().map(|r| format!("| {} | |", r.row)));
    lines.join("\n")
}

/// The title of a new document: the template's root heading with "Project" for its
/// placeholder ("Joint-review of Project"), or "<Name> of Project" when the root heading is
/// not a title ("Self-assessment outline").
pub fn title(outline: &Outline) -> String {
    let root = &outline.root_heading;
    match root.to_ascii_lowercase().find("[project]") {
        Some(at) => format!("{}Project{}", &root[..at], &root[at + "[project]".len()..]),
        None => {
            let mut name = outline.display_name.clone();
            if let Some(first) = name.get(..1) {
                name.replace_range(..1, &first.to_ascii_uppercase());
            }
            format!("{name} of Project")
        }
    }
}

/// A whole document (no final line break): the title at level 1, then
/// [`document_body`].
pub fn document(outline: &Outline) -> String {
    let title = title(outline);
    format!("# {title}\n\n{}", document_body(outline, &title, 1))
}

/// Everything under a document's title (no final line break): a table of contents listing
/// [`TOC_DEPTH`] levels, then every required section with its prompt, the top-level ones one
/// level below the title's `title_level`.
pub fn document_body(outline: &Outline, title: &str, title_level: u8) -> String {
    let all = &outline.sections;
    let written: Vec<usize> = (0..all.len())
        .filter(|&s| all[s].depth == 1 && all[s].requirement == Requirement::Required)
        .flat_map(|s| sections(outline, s, None))
        .collect();
    let texts = std::iter::once(title).chain(written.iter().map(|&s| all[s].title.as_str()));
    let anchors = anchors::anchors(texts);
    let entries: Vec<Entry> = written
        .iter()
        .zip(&anchors[1..])
        .filter(|(&s, _)| !all[s].is_toc && (all[s].depth as usize) <= TOC_DEPTH)
        .map(|(&s, anchor)| Entry {
            depth: all[s].depth as usize - 1,
            text: all[s].title.clone(),
            anchor: anchor.clone(),
        })
        .collect();
    let list = toc::render(&entries, &Style::default());
    render(
        outline,
        &written,
        |s| title_level + all[s].depth,
        Some(&list),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::diagnostics::Code;
    use crate::analysis::outline::{by_name, NAMES};
    use expect_test::expect;

    #[test]
    fn titles() {
        let got: Vec<String> = NAMES.iter().map(|n| title(by_name(n).unwrap())).collect();
        assert_eq!(
            got,
            [
                "Joint-review of Project",
                "Joint-assessment of Project",
                "Self-assessment of Project"
            ]
        );
    }

    #[test]
    fn a_section_with_its_required_sub_sections() {
        let outline = by_name("joint-review").unwrap();
        let s = outline
            .sections
            .iter()
            .position(|s| s.title == "Threat Model")
            .unwrap();
        // The threat model's sub-sections are examples: only the section itself.
        assert_eq!(sections(outline, s, None), [s]);
        let hands_on = s + 7;
        assert_eq!(outline.sections[hands_on].title, "Hands-on review");
        // "Hands-on review result" is written only when asked for.
        assert_eq!(sections(outline, hands_on, None), [hands_on]);
        assert_eq!(
            sections(outline, hands_on, Some(hands_on + 1)),
            [hands_on, hands_on + 1]
        );
        let design = outline
            .sections
            .iter()
            .position(|s| s.title == "Project Design")
            .unwrap();
        let list = sections(outline, design, None);
        expect![[r#"
            ## Project Design

            To be written.

            ### Functions and features

            To be written.

            #### Security functions and features

            To be written."#]]
        .assert_eq(&render(
            outline,
            &list,
            |s| outline.sections[s].depth + 1,
            None,
        ));
    }

    #[test]
    fn the_joint_review_document() {
        expect![[r#"
            # Joint-review of Project

            ## Table of Contents

            * [Metadata](#metadata)
              * [Security links](#security-links)
            * [Overview](#overview)
              * [Background](#background)
              * [Goal](#goal)
              * [Non-goals](#non-goals)
            * [Joint-review use](#joint-review-use)
            * [Intended Use](#intended-use)
            * [Project Design](#project-design)
              * [Functions and features](#functions-and-features)
            * [Configuration and Set-Up](#configuration-and-set-up)
            * [Project Compliance](#project-compliance)
            * [Security Analysis](#security-analysis)
              * [Attacker Motivations](#attacker-motivations)
              * [Predisposing Conditions](#predisposing-conditions)
              * [Expected Attacker Capabilities](#expected-attacker-capabilities)
              * [Attack Risks and Effects](#attack-risks-and-effects)
              * [Security Degradation](#security-degradation)
              * [Compensating Mechanisms](#compensating-mechanisms)
            * [Threat Model](#threat-model)
            * [Secure Development Practices](#secure-development-practices)
            * [Security Issue Resolution](#security-issue-resolution)
              * [Closed security issues and vulnerabilities](#closed-security-issues-and-vulnerabilities)
            * [Hands-on review](#hands-on-review)
            * [Roadmap](#roadmap)
            * [Appendix](#appendix)

            ## Metadata

            | | |
            | -- | -- |
            | Software | |
            | Security Provider | |
            | Languages | |
            | SBOM | |

            ### Security links

            To be written.

            ## Overview

            To be written.

            ### Background

            To be written.

            ### Goal

            To be written.

            ### Non-goals

            To be written.

            ## Joint-review use

            To be written.

            ## Intended Use

            To be written.

            ## Project Design

            To be written.

            ### Functions and features

            To be written.

            #### Security functions and features

            To be written.

            ## Configuration and Set-Up

            To be written.

            ## Project Compliance

            To be written.

            ## Security Analysis

            To be written.

            ### Attacker Motivations

            To be written.

            ### Predisposing Conditions

            To be written.

            ### Expected Attacker Capabilities

            To be written.

            ### Attack Risks and Effects

            To be written.

            ### Security Degradation

            To be written.

            ### Compensating Mechanisms

            To be written.

            ## Threat Model

            To be written.

            ## Secure Development Practices

            To be written.

            ## Security Issue Resolution

            To be written.

            ### Closed security issues and vulnerabilities

            To be written.

            ## Hands-on review

            To be written.

            ## Roadmap

            To be written.

            ## Appendix

            To be written."#]]
        .assert_eq(&document(by_name("joint-review").unwrap()));
    }

    /// A new document of each outline is taken as that outline and has nothing to report but
    /// the Metadata values the author has to fill in.
    #[test]
    fn new_documents_report_only_the_empty_metadata_values() {
        for name in NAMES {
            let outline = by_name(name).unwrap();
            let text = format!("{}\n", document(outline));
            let (_, analysis) = crate::analysis::fixture::analysis(&text, "notes.md");
            assert_eq!(analysis.outline().name, name);
            let others: Vec<String> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.code != Code::MetadataTable || !d.message.ends_with("has no value."))
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert_eq!(others, Vec::<String>::new(), "{name}");
            let empty_values = analysis.diagnostics.len();
            assert_eq!(empty_values, outline.metadata.len(), "{name}");
        }
    }
}
