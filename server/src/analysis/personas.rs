//! The standard personas (Enterprise Operator, Developer, End user, ...), read from the
//! TAG-Security use-case document `grammars/usecase-personas.md` with the crate's own Markdown
//! reader, for completion and hover in the sections where a document names its users.
//!
//! The document's shape: an introduction (up to its "Overview" part), then one level-1 heading
//! per kind of user. A kind with level-2 headings under it ("Operator": Enterprise, Quota,
//! Network) is a group of personas; one without is a persona itself. Under each persona, the
//! paragraphs describe it and the list items are its use cases.

use std::sync::OnceLock;

use super::document::Document;
use super::markdown::{BlockKind, InlineCache, Syntax};
use super::outline::push_attribution;
use super::text::TextRange;

const SOURCE: &str = include_str!("../../../grammars/usecase-personas.md");

/// The level-1 heading that ends the introduction; the personas follow it.
const INTRODUCTION: &str = "Overview";

/// Titles of the outline sections where a document names its users and use cases.
pub const PERSONA_SECTIONS: [&str; 2] = ["Intended Use", "Actors"];

/// One standard persona.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Persona {
    /// "Enterprise Operator", "Compliance Officer / Auditor", "End user".
    pub name: String,
    /// The names a document may use for it, the full name first: "Compliance Officer" and
    /// "Auditor" for "Compliance Officer / Auditor".
    pub names: Vec<String>,
    /// The kind of user it belongs to ("Operator"), when it is one of several.
    pub group: Option<String>,
    /// The paragraphs about it (Markdown, each on one line).
    pub description: Vec<String>,
    /// Its use cases, as plain text, with their list nesting depth.
    pub use_cases: Vec<(usize, String)>,
}

impl Persona {
    /// Its description and use cases as Markdown, with the attribution line.
    pub fn documentation(&self) -> String {
        let mut md = format!("**{}** — standard persona", self.name);
        if let Some(group) = &self.group {
            md.push_str(&format!(" ({group})"));
        }
        md.push_str(" from the TAG-Security use cases");
        for paragraph in &self.description {
            md.push_str("\n\n");
            md.push_str(paragraph);
        }
        if !self.use_cases.is_empty() {
            md.push_str("\n\nUse cases:\n");
            for (depth, case) in &self.use_cases {
                md.push_str(&format!("\n{}- {case}", "  ".repeat(*depth)));
            }
        }
        push_attribution(&mut md);
        md
    }
}

/// Every standard persona, in the use-case document's order. Read once.
pub fn all() -> &'static [Persona] {
    static PERSONAS: OnceLock<Vec<Persona>> = OnceLock::new();
    PERSONAS.get_or_init(|| parse(SOURCE))
}

fn parse(markdown: &str) -> Vec<Persona> {
    let doc = Document::new(markdown);
    let mut cache = InlineCache::new();
    let syntax = Syntax::new(&doc, &mut cache);
    let headings = &syntax.headings;
    let Some(intro) = headings
        .iter()
        .position(|h| h.level == 1 && *h.text == *INTRODUCTION)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, kind) in headings.iter().enumerate().skip(intro + 1) {
        if kind.level != 1 {
            continue;
        }
        let members: Vec<usize> = (i + 1..headings.len())
            .take_while(|&j| headings[j].level > 1)
            .filter(|&j| headings[j].level == 2)
            .collect();
        if members.is_empty() {
            out.push(read_persona(
                &doc,
                &syntax,
                i,
                kind.text.to_string(),
                None,
                &mut cache,
            ));
        }
        for j in members {
            let own = &headings[j].text;
            // "Enterprise" under "Operator" is the Enterprise Operator.
            let name = if own.split_whitespace().count() == 1 {
                format!("{own} {}", kind.text)
            } else {
                own.to_string()
            };
            let group = Some(kind.text.to_string());
            out.push(read_persona(&doc, &syntax, j, name, group, &mut cache));
        }
    }
    out
}

fn read_persona(
    doc: &Document,
    syntax: &Syntax,
    heading: usize,
    name: String,
    group: Option<String>,
    cache: &mut InlineCache,
) -> Persona {
    let h = &syntax.headings[heading];
    let own_end = syntax
        .headings
        .get(heading + 1)
        .map_or(h.section.end, |n| n.range.start);
    let body = TextRange::new(h.range.end, own_end.max(h.range.end));
    let items: Vec<_> = syntax
        .lists
        .iter()
        .flat_map(|(_, items)| items)
        .filter(|item| body.contains(item.range.start))
        .collect();
    let mut description = Vec::new();
    let mut use_cases = Vec::new();
    for block in syntax.blocks_in(body) {
        if block.kind != BlockKind::Paragraph {
            continue;
        }
        let raw = doc.slice(block.range);
        let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        // The innermost list item holding the paragraph, if any.
        match items
            .iter()
            .filter(|item| item.range.contains(block.range.start))
            .max_by_key(|item| item.depth)
        {
            Some(item) => {
                let text = cache.facts(&one_line).rendered.clone();
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                use_cases.push((item.depth, text));
            }
            None => description.push(one_line),
        }
    }
    Persona {
        names: other_names(&name),
        name,
        group,
        description,
        use_cases,
    }
}

/// The full name, then each side of a ` / ` ("Compliance Officer", "Auditor"), then each
/// choice of a `A/B` word ("Third Party Security Product", "... System").
fn other_names(name: &str) -> Vec<String> {
    let mut names = vec![name.to_string()];
    if name.contains(" / ") {
        names.extend(name.split(" / ").map(|s| s.trim().to_string()));
    } else if let Some((head, choices)) = name.rsplit_once(' ') {
        if choices.contains('/') {
            names.extend(choices.split('/').map(|c| format!("{head} {c}")));
        }
    }
    names
}

/// Folds text for finding names in it, keeping byte offsets: ASCII lowercased, `-` read as a
/// space ("End-user" is "End user").
fn fold(text: &str) -> Vec<u8> {
    text.bytes()
        .map(|b| {
            if b == b'-' {
                b' '
            } else {
                b.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The persona named in `text` at byte `at` (a cursor inside or just after the name), and the
/// name's range in `text`. A plural ("Developers") counts; the longest name wins.
pub fn find_at(text: &str, at: usize) -> Option<(usize, TextRange)> {
    let folded = fold(text);
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
    let mut best: Option<(usize, TextRange)> = None;
    for (p, persona) in all().iter().enumerate() {
        for name in &persona.names {
            let needle = fold(name);
            let mut from = 0;
            while let Some(found) = find_bytes(&folded[from..], &needle) {
                let start = from + found;
                from = start + 1;
                let mut end = start + needle.len();
                if folded.get(end) == Some(&b's') {
                    end += 1;
                }
                let bounded = (start == 0 || !is_word(folded[start - 1]))
                    && folded.get(end).is_none_or(|&b| !is_word(b));
                let range = TextRange::new(start, end);
                if bounded && range.touches(at) && best.is_none_or(|(_, r)| range.len() > r.len()) {
                    best = Some((p, range));
                }
            }
        }
    }
    best
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The length of the longest end of `before` (starting at a word) that a persona's name
/// starts with, when at least one letter of it was typed: what a completion replaces.
pub fn typed_prefix(before: &str, persona: &Persona) -> Option<usize> {
    let folded = fold(before);
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
    (0..folded.len())
        .filter(|&i| (i == 0 || !is_word(folded[i - 1])) && is_word(folded[i]))
        .find(|&i| {
            persona
                .names
                .iter()
                .any(|name| fold(name).starts_with(&folded[i..]))
        })
        .map(|i| folded.len() - i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn the_nine_personas() {
        let names: Vec<String> = all()
            .iter()
            .map(|p| {
                format!(
                    "{} [{}] {} paragraphs, {} use cases",
                    p.name,
                    p.names[1..].join(", "),
                    p.description.len(),
                    p.use_cases.len()
                )
            })
            .collect();
        expect![[r#"
            Enterprise Operator [] 0 paragraphs, 8 use cases
            Quota Operator [] 2 paragraphs, 7 use cases
            Network Operator [] 0 paragraphs, 5 use cases
            Compliance Officer / Auditor [Compliance Officer, Auditor] 0 paragraphs, 6 use cases
            Security Administrator [] 0 paragraphs, 8 use cases
            Developer [] 0 paragraphs, 3 use cases
            Third Party Security Product/System [Third Party Security Product, Third Party Security System] 0 paragraphs, 2 use cases
            End user [] 0 paragraphs, 4 use cases
            Platform Implementer [] 2 paragraphs, 8 use cases"#]]
        .assert_eq(&names.join("\n"));
    }

    #[test]
    fn documentation_has_description_use_cases_and_attribution() {
        let third = &all()[6];
        expect![[r#"
            **Third Party Security Product/System** — standard persona from the TAG-Security use cases

            Use cases:

            - A third party system should be able to affect security policy based on assets being tagged as quarantined.
              - To put it more generically, I should be able to associate resources with dynamic labels/tags which can be used to trigger certain policies

            ---

            *From the CNCF TAG-Security templates (cncf/tag-security), CC BY 4.0; may be shortened or reformatted.*"#]].assert_eq(&third.documentation());
        let security = &all()[4];
        assert!(security.use_cases[0].1.starts_with(
            "As a security administrator, I can centrally administer my organizations"
        ));
    }

    #[test]
    fn names_found_in_text() {
        let found = |text: &str| {
            let at = text.find("$0").expect("cursor");
            let text = text.replace("$0", "");
            find_at(&text, at)
                .map(|(p, r)| format!("{} {:?}", all()[p].name, &text[r.start..r.end]))
        };
        assert_eq!(
            found("* End-us$0ers: people"),
            Some("End user \"End-users\"".into())
        );
        assert_eq!(
            found("the comp$0liance officer"),
            Some("Compliance Officer / Auditor \"compliance officer\"".into())
        );
        assert_eq!(
            found("an Auditor$0."),
            Some("Compliance Officer / Auditor \"Auditor\"".into())
        );
        assert_eq!(
            found("😀 Developer$0s"),
            Some("Developer \"Developers\"".into())
        );
        assert_eq!(found("Developer$0ment"), None);
        assert_eq!(found("$0 Developer"), None);
    }

    #[test]
    fn typed_prefixes() {
        let compliance = &all()[3];
        assert_eq!(typed_prefix("* Compliance Off", compliance), Some(14));
        assert_eq!(typed_prefix("* audi", compliance), Some(4));
        assert_eq!(typed_prefix("* ", compliance), None);
        assert_eq!(typed_prefix("* Dev", compliance), None);
    }
}
