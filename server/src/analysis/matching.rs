//! How a heading's wording is compared with a template section's title.
//!
//! Real documents rename headings in predictable ways (design notes, section 5): case, markup,
//! trailing punctuation, numbering, a "Project " prefix, singular or plural, "review" or
//! "assessment", `&` for "and", "Set-Up" or "Setup". [`key`] folds all of these away so that
//! equal keys mean "the same section"; [`words`] gives the folded words for looser matches.

/// Words that carry no meaning for matching.
const STOP_WORDS: &[&str] = &["and", "of", "the", "a", "an", "for", "to", "in", "on"];

/// The folded words of a title: lowercase, split at punctuation and hyphens,
/// `&` read as "and", leading numbering and a leading "project" dropped, "assessment" read as
/// "review", plurals made singular.
pub fn words(title: &str) -> Vec<String> {
    let mut lowered = if title.is_ascii() {
        title.to_ascii_lowercase()
    } else {
        title.to_lowercase()
    };
    if lowered.contains('&') {
        lowered = lowered.replace('&', " and ");
    }
    let mut words: Vec<String> = Vec::new();
    for (i, raw) in lowered.split_whitespace().enumerate() {
        // Leading section numbers ("1.", "2.3", "iv.").
        let is_number = raw
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ')')
            || (raw.ends_with('.') && raw.trim_end_matches('.').chars().all(|c| "ivx".contains(c)));
        if i == 0 && is_number {
            continue;
        }
        for part in raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
        {
            words.push(fold_word(part));
        }
    }
    if words.len() > 1 && words[0] == "project" {
        words.remove(0);
    }
    words
}

fn fold_word(word: &str) -> String {
    let word = match word {
        "assessment" | "assessments" | "review" | "reviews" => return "review".to_string(),
        "setup" => return "setup".to_string(),
        _ => word,
    };
    if let Some(stem) = word.strip_suffix("ies") {
        if stem.len() >= 2 {
            return format!("{stem}y");
        }
    }
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

/// What matching needs of one title, computed once (the analysis memoises it per heading text,
/// so a keystroke recomputes it only for the heading it changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleWords {
    /// [`key`] of the title.
    pub key: String,
    /// [`content_words`] of the title.
    pub content_words: Vec<String>,
}

impl TitleWords {
    pub fn of(title: &str) -> TitleWords {
        let words = words(title);
        TitleWords {
            key: words.concat(),
            content_words: without_stop_words(words),
        }
    }
}

/// The matching key: the folded words run together, so "Set-Up", "Set up" and "Setup" agree.
pub fn key(title: &str) -> String {
    words(title).concat()
}

/// The meaningful words of a title (stop words left out), for containment matches.
pub fn content_words(title: &str) -> Vec<String> {
    without_stop_words(words(title))
}

fn without_stop_words(mut words: Vec<String>) -> Vec<String> {
    words.retain(|w| !STOP_WORDS.contains(&w.as_str()));
    words
}

/// True when `heading` contains every meaningful word of `section`, which has at least two:
/// "Security Hygiene and Secure Development Practices" holds "Secure Development Practices".
/// One-word titles ("Background") never match this way: "Background Controller" is not it.
pub fn contains_all_words(heading: &str, section: &str) -> bool {
    holds_all_words(&content_words(heading), &content_words(section))
}

/// [`contains_all_words`] on [`content_words`] the caller computed once (a document may have
/// thousands of headings).
pub fn holds_all_words(heading_words: &[String], section_words: &[String]) -> bool {
    section_words.len() >= 2 && section_words.iter().all(|w| heading_words.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_real_renamings() {
        let same = [
            ("Goal", "Goals"),
            ("Goals", "Project Goals"),
            ("Non-goals", "Non-Goals"),
            ("Non-goals", "Non Goals"),
            ("Configuration and Set-Up", "configuration & setup:"),
            ("Joint-review use", "Joint-assessment Use"),
            ("Self-assessment use", "Self Assessment Use"),
            ("Security links", "1. Security Links"),
            ("Security Issue Resolution", "Security issues resolution."),
            ("Security Analysis", "2.3 Security analysis"),
        ];
        for (a, b) in same {
            assert_eq!(key(a), key(b), "{a} / {b}");
        }
        assert_ne!(key("Background"), key("Background Controller"));
        assert_eq!(key("Project"), "project");
    }

    #[test]
    fn containment_needs_two_words() {
        assert!(contains_all_words(
            "Security Hygiene and Secure Development Practices",
            "Secure Development Practices"
        ));
        assert!(!contains_all_words("Background Controller", "Background"));
        assert!(!contains_all_words("Security Goals", "Goals"));
    }
}
