//! GitHub's heading anchors: the `#fragment` a heading gets when GitHub renders the file.
//!
//! The rule (design notes, section 4): take the heading's rendered text, lowercase it, delete
//! every character that is not a letter, mark, number, connector punctuation (`_`), `-` or
//! space, then turn each space into `-` (no merging, no trimming). A repeated anchor gets
//! `-1`, `-2`, ... (the first one not taken).

use std::collections::{HashMap, HashSet};

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// The anchor of one heading's rendered text, before de-duplication.
pub fn slug(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    for ch in rendered.chars().flat_map(char::to_lowercase) {
        if ch == ' ' {
            out.push('-');
        } else if ch == '-' || keeps(ch) {
            out.push(ch);
        }
    }
    out
}

fn keeps(ch: char) -> bool {
    use unicode_properties::GeneralCategory::ConnectorPunctuation;
    matches!(
        ch.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number
    ) || ch.general_category() == ConnectorPunctuation
}

/// The anchors of a document's headings, in order, duplicates numbered as GitHub does.
pub fn anchors<'a>(rendered_headings: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = HashSet::new();
    // Per base, the last number tried: numbers below it are taken already, so the search for
    // the next free one resumes there (linear overall, even for thousands of equal headings).
    let mut tried: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for text in rendered_headings {
        let base = slug(text);
        let mut anchor = base.clone();
        if !taken.insert(anchor.clone()) {
            let n = tried.entry(base.clone()).or_insert(0);
            loop {
                *n += 1;
                anchor = format!("{base}-{n}");
                if taken.insert(anchor.clone()) {
                    break;
                }
            }
        }
        out.push(anchor);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_note_examples() {
        assert_eq!(slug("Q & A"), "q--a");
        assert_eq!(slug("Step 1 — Find"), "step-1--find");
        assert_eq!(slug("--config"), "--config");
        assert_eq!(slug("1.1 Header"), "11-header");
        assert_eq!(slug("C++"), "c");
    }

    #[test]
    fn template_headings() {
        assert_eq!(slug("Configuration and Set-Up"), "configuration-and-set-up");
        assert_eq!(slug("Joint-review use"), "joint-review-use");
        assert_eq!(slug(" Trailing "), "-trailing-");
        assert_eq!(
            slug("snake_case Ünïcödé 中文 😀"),
            "snake_case-ünïcödé-中文-"
        );
        assert_eq!(slug("e\u{301}"), "e\u{301}");
    }

    #[test]
    fn duplicates_take_the_first_free_number() {
        assert_eq!(
            anchors(["Goals", "Goals", "Goals-1", "Goals"]),
            ["goals", "goals-1", "goals-1-1", "goals-2"]
        );
        assert_eq!(
            anchors(["a-1", "a", "a", "a-3", "a", "a"]),
            ["a-1", "a", "a-2", "a-3", "a-4", "a-5"]
        );
    }
}
