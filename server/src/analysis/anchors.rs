//! GitHub's heading anchors: the `#fragment` a heading gets when GitHub renders the file.
//!
//! The rule (design notes, section 4): take the heading's rendered text, lowercase it, delete
//! every character that is not a letter, mark, number, connector punctuation (`_`), `-` or
//! space, then turn each space into `-` (no merging, no trimming). A repeated anchor gets
//! `-1`, `-2`, ... (the first one not taken).

use foldhash::{HashMap, HashSet};

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// The anchor of one heading's rendered text, before de-duplication.
pub fn slug(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    if rendered.is_ascii() {
        // The common case, without Unicode tables: ASCII keeps letters, digits, `_` and `-`.
        for b in rendered.bytes() {
            match b {
                b' ' => out.push('-'),
                b'-' | b'_' => out.push(b as char),
                _ if b.is_ascii_alphanumeric() => out.push(b.to_ascii_lowercase() as char),
                _ => {}
            }
        }
        return out;
    }
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
    let slugs: Vec<String> = rendered_headings.into_iter().map(slug).collect();
    numbered(slugs.iter().map(String::as_str))
}

/// [`anchors`] from the headings' slugs (memoised by the caller).
pub fn numbered<'a>(slugs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let slugs = slugs.into_iter();
    // The anchors taken so far: slugs taken as they are (borrowed, not copied: a long document
    // has thousands of headings), and numbered ones.
    let mut taken_as_is: HashSet<&str> = HashSet::default();
    let mut taken_numbered: HashSet<String> = HashSet::default();
    // Per base, the last number tried: numbers below it are taken already, so the search for
    // the next free one resumes there (linear overall, even for thousands of equal headings).
    let mut tried: HashMap<&str, usize> = HashMap::default();
    let free = |anchor: &str, as_is: &HashSet<&str>, numbered: &HashSet<String>| {
        !as_is.contains(anchor) && !numbered.contains(anchor)
    };
    let mut out = Vec::with_capacity(slugs.size_hint().0);
    for base in slugs {
        if free(base, &taken_as_is, &taken_numbered) {
            taken_as_is.insert(base);
            out.push(base.to_string());
            continue;
        }
        let n = tried.entry(base).or_insert(0);
        loop {
            *n += 1;
            let anchor = format!("{base}-{n}");
            if free(&anchor, &taken_as_is, &taken_numbered) {
                taken_numbered.insert(anchor.clone());
                out.push(anchor);
                break;
            }
        }
    }
    out
}

/// The anchors after heading `h`'s slug changed from `old` to `new`, made from the last ones
/// (`anchors`, of the slugs `slug_of` gives, `h`'s being `new`) without numbering them all
/// again: `Some` only where the change touches no other anchor. So when `h`'s anchor was its
/// slug as it is, no other heading has either slug as its slug or anchor, and neither slug
/// looks numbered (`-` and digits at its end), which a numbered anchor's search could meet.
pub fn renamed<'a>(
    anchors: &[String],
    slug_of: impl Fn(usize) -> &'a str,
    h: usize,
    old: &str,
    new: &str,
) -> Option<Vec<String>> {
    let looks_numbered = |slug: &str| {
        slug.rsplit_once('-')
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let clash = |g: usize| {
        let (slug, anchor) = (slug_of(g), anchors[g].as_str());
        g != h && [old, new].iter().any(|s| *s == slug || *s == anchor)
    };
    if anchors.get(h).map(String::as_str) != Some(old)
        || looks_numbered(old)
        || looks_numbered(new)
        || (0..anchors.len()).any(clash)
    {
        return None;
    }
    let mut out = anchors.to_vec();
    out[h] = new.to_string();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII fast path agrees with the Unicode rule on every ASCII character.
    #[test]
    fn ascii_fast_path_matches_the_rule() {
        for b in 0u8..128 {
            let ch = b as char;
            let by_rule: String = ch
                .to_lowercase()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    '-' => Some('-'),
                    c if keeps(c) => Some(c),
                    _ => None,
                })
                .collect();
            assert_eq!(slug(&ch.to_string()), by_rule, "{b}");
        }
    }

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

    proptest::proptest! {
        /// Numbering agrees with the rule read plainly: each slug as it is when not taken, else
        /// with the first number that makes it free (slugs from a small alphabet, so that they
        /// repeat and collide with numbered ones).
        #[test]
        fn numbering_gives_the_first_free_number(slugs in proptest::collection::vec("[ab](-[0-3]){0,2}", 0..40)) {
            let mut taken = std::collections::HashSet::new();
            let expected: Vec<String> = slugs
                .iter()
                .map(|base| {
                    let anchor = (0..)
                        .map(|n| if n == 0 { base.clone() } else { format!("{base}-{n}") })
                        .find(|a| !taken.contains(a))
                        .unwrap();
                    taken.insert(anchor.clone());
                    anchor
                })
                .collect();
            proptest::prop_assert_eq!(numbered(slugs.iter().map(String::as_str)), expected);
        }
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
