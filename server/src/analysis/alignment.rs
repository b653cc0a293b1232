//! Aligning a document's headings with an outline's sections, as a whole.
//!
//! Every heading is matched to at most one section and every section to at most one heading,
//! by wording (see `matching.rs`), whatever its level or place. Order is then judged on the
//! whole match: the longest run of sections in template order stays, and every section outside
//! it is out of order, so all differences are found, not only the first (markdownlint's MD043
//! stops at the first). The rules read this alignment; none of them re-matches.

use foldhash::HashMap;

use super::markdown::Heading;
use super::matching::{self, TitleWords};
use super::outline::Outline;

/// How a heading was taken as a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The template's wording (ignoring case and markup).
    Exact,
    /// The same words after folding: "Goals" for "Goal", "Project Compliance" ...
    Reworded,
    /// One of the section's aliases in the outline data.
    Alias(String),
    /// The heading holds all the section's words: "Security Hygiene and Secure Development
    /// Practices" for "Secure Development Practices".
    Contains,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub heading: usize,
    pub kind: MatchKind,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alignment {
    /// The template's own first heading, left in the document ("Joint-review Outline").
    pub preamble: Option<usize>,
    /// The document's title heading ("Joint-review of Flibble").
    pub title: Option<usize>,
    /// Per outline section, the heading taken as it.
    pub section_match: Vec<Option<Match>>,
    /// Per heading, the section it was taken as.
    pub heading_section: Vec<Option<usize>>,
    /// Headings that repeat a section already matched: (heading, section).
    pub duplicates: Vec<(usize, usize)>,
    /// Sections present but out of the template's order (a section whose parent is out of
    /// order too is not listed: it moved with its parent).
    pub out_of_order: Vec<usize>,
    /// The heading level that depth 0 (the title) has in this document: a section of depth `d`
    /// is expected at level `base_level + d`.
    pub base_level: i32,
    /// Per heading, the nearest heading before it with a lower level.
    pub heading_parent: Vec<Option<usize>>,
}

impl Alignment {
    pub fn new(outline: &Outline, headings: &[Heading]) -> Alignment {
        let words: Vec<TitleWords> = headings.iter().map(|h| TitleWords::of(&h.text)).collect();
        Self::with_words(outline, headings, &words)
    }

    /// [`new`](Self::new) with each heading's [`TitleWords`] given (memoised by the caller).
    pub fn with_words<W: std::borrow::Borrow<TitleWords>>(
        outline: &Outline,
        headings: &[Heading],
        words: &[W],
    ) -> Alignment {
        let words = |h: usize| words[h].borrow();
        let mut a = Alignment {
            section_match: vec![None; outline.sections.len()],
            heading_section: vec![None; headings.len()],
            heading_parent: parents(headings),
            ..Alignment::default()
        };
        a.find_title(outline, headings);
        // Borrowed, not copied: a long document has thousands of headings.
        let heading_keys: Vec<&str> = (0..headings.len()).map(|h| words(h).key.as_str()).collect();
        // The headings of each key, in document order: a long document has hundreds.
        let mut by_key: HashMap<&str, Vec<usize>> = HashMap::default();
        for (h, &key) in heading_keys.iter().enumerate() {
            by_key.entry(key).or_default().push(h);
        }

        // Same words first, for every section, parents before children (template order).
        for (s, section) in outline.sections.iter().enumerate() {
            let mut candidates: Vec<usize> = section
                .keys
                .iter()
                .filter_map(|k| by_key.get(k.as_str()))
                .flatten()
                .copied()
                .filter(|&h| a.is_free(h))
                .collect();
            candidates.sort_unstable();
            // A title and an alias may share a key.
            candidates.dedup();
            let Some(&chosen) = a.prefer_under_parent(outline, s, &candidates) else {
                continue;
            };
            let kind = if headings[chosen]
                .text
                .trim()
                .eq_ignore_ascii_case(&section.title)
            {
                MatchKind::Exact
            } else if heading_keys[chosen] == section.keys[0] {
                MatchKind::Reworded
            } else {
                let alias = section
                    .aliases
                    .iter()
                    .zip(&section.keys[1..])
                    .find(|(_, key)| **key == heading_keys[chosen]);
                MatchKind::Alias(alias.map(|(al, _)| al.clone()).unwrap_or_default())
            };
            a.assign(s, chosen, kind);
            for &other in candidates.iter().filter(|&&h| h != chosen) {
                if headings[other].level == headings[chosen].level {
                    a.duplicates.push((other, s));
                }
            }
        }
        // Then headings that hold all of a missing section's words.
        let mut is_duplicate = vec![false; headings.len()];
        for &(h, _) in &a.duplicates {
            is_duplicate[h] = true;
        }
        for (s, section) in outline.sections.iter().enumerate() {
            if a.section_match[s].is_some() {
                continue;
            }
            let wordings = &section.wordings;
            let candidates: Vec<usize> = (0..headings.len())
                .filter(|&h| {
                    a.is_free(h)
                        && !is_duplicate[h]
                        && wordings
                            .iter()
                            .any(|w| matching::holds_all_words(&words(h).content_words, w))
                })
                .collect();
            if let Some(&chosen) = a.prefer_under_parent(outline, s, &candidates) {
                a.assign(s, chosen, MatchKind::Contains);
            }
        }
        a.duplicates.sort();
        a.find_out_of_order(outline);
        a.base_level = base_level(outline, headings, &a.section_match);
        a
    }

    /// Whether this alignment is still the alignment of its headings after heading `h`'s words
    /// change from `old` to `new`, levels unchanged: [`Alignment::with_words`] would make it
    /// again. So when `h` is past the headings the title is looked for in, was neither matched
    /// nor a duplicate, neither words' key is a section's, and the new words hold no wording of
    /// a section left to the "holds all the words" pass (an unmatched `h` that held one lost
    /// it, and the winner stays the winner without it).
    pub fn kept_when_renamed(
        &self,
        outline: &Outline,
        h: usize,
        old: &TitleWords,
        new: &TitleWords,
    ) -> bool {
        // `find_title` looks at the first three headings after a preamble among the first three.
        const TITLE_PLACES: usize = 4;
        let left_to_contains = |m: &Option<Match>| {
            m.as_ref()
                .is_none_or(|m| matches!(m.kind, MatchKind::Contains))
        };
        h >= TITLE_PLACES
            && self.heading_section.get(h) == Some(&None)
            && !self.duplicates.iter().any(|&(d, _)| d == h)
            && !outline.section_by_key.contains_key(&old.key)
            && !outline.section_by_key.contains_key(&new.key)
            && (outline.sections.iter().zip(&self.section_match))
                .filter(|(_, m)| left_to_contains(m))
                .all(|(section, _)| {
                    !(section.wordings.iter())
                        .any(|w| matching::holds_all_words(&new.content_words, w))
                })
    }

    /// The heading a section was matched to.
    pub fn heading_of(&self, section: usize) -> Option<usize> {
        self.section_match[section].as_ref().map(|m| m.heading)
    }

    fn is_free(&self, heading: usize) -> bool {
        self.heading_section[heading].is_none()
            && Some(heading) != self.title
            && Some(heading) != self.preamble
    }

    fn assign(&mut self, section: usize, heading: usize, kind: MatchKind) {
        self.section_match[section] = Some(Match { heading, kind });
        self.heading_section[heading] = Some(section);
    }

    /// Among candidate headings for a section, the first one whose document parent is the
    /// section's matched parent, else the first one.
    fn prefer_under_parent<'c>(
        &self,
        outline: &Outline,
        section: usize,
        candidates: &'c [usize],
    ) -> Option<&'c usize> {
        let parent_heading = outline.sections[section]
            .parent
            .and_then(|p| self.heading_of(p));
        candidates
            .iter()
            .find(|&&h| parent_heading.is_some() && self.heading_parent[h] == parent_heading)
            .or(candidates.first())
    }

    fn find_title(&mut self, outline: &Outline, headings: &[Heading]) {
        if let Some(preamble) = &outline.preamble_heading {
            let key = matching::key(preamble);
            self.preamble = headings
                .iter()
                .take(3)
                .position(|h| matching::key(&h.text) == key);
        }
        let root = matching::words(&outline.root_heading);
        // "Joint-review of [Project]": the words before the placeholder, then anything.
        let prefix: Vec<&String> = root.iter().take_while(|w| *w != "project").collect();
        let is_root = |h: &Heading| {
            let words = matching::words(&h.text);
            words.len() >= prefix.len() && words.iter().zip(&prefix).all(|(a, b)| a == *b)
        };
        let candidates = || (0..headings.len()).filter(|&i| Some(i) != self.preamble);
        let title = candidates()
            .take(3)
            .find(|&i| is_root(&headings[i]))
            .or_else(|| {
                // Otherwise the first heading, if it is not a section and no heading is above it.
                let first = candidates().next()?;
                let min_level = headings.iter().map(|h| h.level).min()?;
                let key = matching::key(&headings[first].text);
                let is_section = outline.section_by_key.contains_key(&key);
                (!is_section
                    && headings[first].level == min_level
                    && !headings[first].text.is_empty())
                .then_some(first)
            });
        self.title = title;
    }

    fn find_out_of_order(&mut self, outline: &Outline) {
        let mut present: Vec<(usize, usize)> = self
            .section_match
            .iter()
            .enumerate()
            .filter_map(|(s, m)| m.as_ref().map(|m| (m.heading, s)))
            .collect();
        present.sort();
        let order: Vec<usize> = present.iter().map(|&(_, s)| s).collect();
        let keep = longest_increasing(&order);
        let moved: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|(i, _)| !keep.contains(i))
            .map(|(_, &s)| s)
            .collect();
        self.out_of_order = moved
            .iter()
            .copied()
            .filter(|&s| {
                let mut p = outline.sections[s].parent;
                while let Some(parent) = p {
                    if moved.contains(&parent) {
                        return false;
                    }
                    p = outline.sections[parent].parent;
                }
                true
            })
            .collect();
    }
}

fn parents(headings: &[Heading]) -> Vec<Option<usize>> {
    let mut stack: Vec<usize> = Vec::new();
    headings
        .iter()
        .enumerate()
        .map(|(i, h)| {
            while stack.last().is_some_and(|&p| headings[p].level >= h.level) {
                stack.pop();
            }
            let parent = stack.last().copied();
            stack.push(i);
            parent
        })
        .collect()
}

/// The most common `level - depth` of matched sections, top-level sections counting double
/// (they are the document's skeleton), the lower one on a tie.
fn base_level(outline: &Outline, headings: &[Heading], matches: &[Option<Match>]) -> i32 {
    let mut counts: HashMap<i32, usize> = HashMap::default();
    for (s, m) in matches.iter().enumerate() {
        if let Some(m) = m {
            let depth = outline.sections[s].depth as i32;
            let base = headings[m.heading].level as i32 - depth;
            *counts.entry(base).or_default() += if depth == 1 { 2 } else { 1 };
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(base, n)| (n, -base))
        .map_or(1, |(base, _)| base)
}

/// Indices of one longest strictly increasing subsequence of `values`.
fn longest_increasing(values: &[usize]) -> Vec<usize> {
    // Patience sorting with back links: O(n log n).
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; values.len()];
    for i in 0..values.len() {
        let pos = tails.partition_point(|&t| values[t] < values[i]);
        prev[i] = pos.checked_sub(1).map(|p| tails[p]);
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut out = Vec::new();
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        out.push(i);
        cur = prev[i];
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lis() {
        assert_eq!(longest_increasing(&[0, 5, 1, 2, 3]), [0, 2, 3, 4]);
        assert_eq!(longest_increasing(&[]), Vec::<usize>::new());
    }
}
