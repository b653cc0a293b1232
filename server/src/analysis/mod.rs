//! The analysis: pure functions from a document's text to what the server and `check` report.
//!
//! Nothing here knows LSP, JSON-RPC, tokio or the file system: inputs are text and byte
//! offsets, outputs are plain structs. `lsp/` and `cli/` convert at their edges.

pub mod actions;
pub mod alignment;
pub mod anchors;
pub mod completion;
pub mod config;
pub mod cursor;
pub mod detect;
pub mod diagnostics;
pub mod document;
pub mod edit_log;
pub mod folding;
pub mod hover;
pub mod lens;
pub mod line_scan;
pub mod markdown;
pub mod matching;
pub mod navigation;
pub mod outline;
pub mod personas;
pub mod rescan;
pub mod rules;
pub mod skeleton;
pub mod symbols;
pub mod text;
pub mod toc;

#[cfg(test)]
pub(crate) mod fixture;

use foldhash::HashMap;
use std::sync::Arc;

use alignment::Alignment;
use config::Config;
use detect::Selection;
use diagnostics::Diagnostic;
use document::Document;
use markdown::{AnchorLink, Heading, InlineCache, Syntax};
use outline::Outline;

/// Everything known about one version of a document.
pub struct Analysis {
    pub selection: Selection,
    pub syntax: Syntax,
    /// Shared with the next analysis when its headings are the same (see [`LastOutline`]).
    pub alignment: Arc<Alignment>,
    /// GitHub anchor of each heading (parallel to `syntax.headings`).
    pub anchors: Arc<[String]>,
    pub links: Vec<AnchorLink>,
    pub diagnostics: Vec<Diagnostic>,
    /// Which pass made it: the outline pass knows only the headings.
    pub pass: Pass,
}

/// How much of the document an [`Analysis`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The headings, from a scan of the lines ([`line_scan`]); only the outline rules ran.
    Outline,
    /// The block tree; every rule ran.
    Full,
}

impl Analysis {
    pub fn outline(&self) -> &'static Outline {
        self.selection.outline
    }
}

/// What every rule reads.
pub struct Context<'a> {
    pub doc: &'a Document,
    pub syntax: &'a Syntax,
    pub outline: &'static Outline,
    pub alignment: &'a Alignment,
    pub anchors: &'a [String],
    pub links: &'a [AnchorLink],
}

/// Analyses a document: the block tree and every rule. `file_name` (a path or URI path) helps
/// pick the outline. A document too large to parse (see `Document`) gets the outline pass.
pub fn analyze(
    doc: &Document,
    file_name: Option<&str>,
    config: &Config,
    cache: &mut InlineCache,
) -> Analysis {
    if doc.is_too_large() {
        return analyze_outline(doc, file_name, config, cache);
    }
    let syntax = Syntax::new(doc, cache);
    finish(doc, file_name, config, cache, syntax, Pass::Full, &|| false)
        .expect("an analysis that is never cancelled ends")
}

/// The outline pass: the headings from a scan of the lines (no tree), and only the rules that
/// read headings (missing, order, level, duplicate). Linear in the document with a small
/// constant, it gives the outline diagnostics before, or without, the tree.
pub fn analyze_outline(
    doc: &Document,
    file_name: Option<&str>,
    config: &Config,
    cache: &mut InlineCache,
) -> Analysis {
    analyze_outline_unless(doc, file_name, config, cache, &|| false)
        .expect("an outline pass that is never cancelled ends")
}

/// [`analyze_outline`], given up (`None`) as soon as `cancelled()` holds at one of the points
/// between its steps: while an author types into a large document, the pass of a version
/// already replaced would only delay the pass of the new one.
pub fn analyze_outline_unless(
    doc: &Document,
    file_name: Option<&str>,
    config: &Config,
    cache: &mut InlineCache,
    cancelled: &dyn Fn() -> bool,
) -> Option<Analysis> {
    let syntax = Syntax {
        headings: rescan::headings(doc, cache),
        len: doc.len(),
        ..Syntax::default()
    };
    if cancelled() {
        return None;
    }
    finish(
        doc,
        file_name,
        config,
        cache,
        syntax,
        Pass::Outline,
        cancelled,
    )
}

/// The last analysis's headings as the alignment and the anchors read them (the outline, each
/// heading's level, text and words), with the alignment and anchors made from them. Typing
/// outside headings changes none of it: the headings kept from the last scan keep their
/// texts (shared), so their words are found by address, and the alignment and anchors serve
/// again; an edited heading's words are computed anew, the others' found by text.
pub(crate) struct LastOutline {
    outline: &'static Outline,
    levels: Vec<u8>,
    texts: Vec<Arc<str>>,
    words: Vec<Arc<HeadingWords>>,
    alignment: Arc<Alignment>,
    anchors: Arc<[String]>,
}

impl LastOutline {
    /// The same outline, and headings of the same levels and texts, in the same order: so the
    /// same words too ([`heading_words`] would find each at its place). Most texts compare by
    /// address: the line scan keeps those of the headings it did not read again.
    fn same_texts(&self, outline: &'static Outline, headings: &[Heading]) -> bool {
        std::ptr::eq(self.outline, outline)
            && self.levels.len() == headings.len()
            && self.texts.len() == headings.len()
            && (self.levels.iter().zip(&self.texts).zip(headings))
                .all(|((level, text), h)| *level == h.level && same_text(text, &h.text))
    }

    /// The next outline when one heading's words changed and nothing else (a heading being
    /// typed in; the levels are the same, see [`Self::same_levels`]), made from this one where
    /// that change moves no other heading's match or anchor (see
    /// [`Alignment::kept_when_renamed`] and [`anchors::renamed`]): the alignment is this one's,
    /// the anchors this one's but the heading's. `Err` gives `words` back otherwise.
    fn one_renamed(
        &self,
        outline: &'static Outline,
        headings: &[Heading],
        words: Vec<Arc<HeadingWords>>,
    ) -> Result<LastOutline, Vec<Arc<HeadingWords>>> {
        let mut changed = (0..words.len()).filter(|&i| !Arc::ptr_eq(&self.words[i], &words[i]));
        let (Some(h), None) = (changed.next(), changed.next()) else {
            return Err(words);
        };
        let (old, new) = (&self.words[h], &words[h]);
        if !(self.alignment).kept_when_renamed(outline, h, &old.matching, &new.matching) {
            return Err(words);
        }
        let slug_of = |g: usize| words[g].slug.as_str();
        let Some(anchors) = anchors::renamed(&self.anchors, slug_of, h, &old.slug, &new.slug)
        else {
            return Err(words);
        };
        Ok(LastOutline {
            outline,
            levels: self.levels.clone(),
            texts: headings.iter().map(|h| h.text.clone()).collect(),
            words,
            alignment: self.alignment.clone(),
            anchors: anchors.into(),
        })
    }

    /// The same words, heading by heading (shared, as [`heading_words`] gives the last ones
    /// back); for headings of the same levels (see [`Self::same_levels`]).
    fn same_words(&self, words: &[Arc<HeadingWords>]) -> bool {
        self.words.iter().zip(words).all(|(a, b)| Arc::ptr_eq(a, b))
    }

    /// The same outline, and as many headings, of the same levels in the same order.
    fn same_levels(&self, outline: &'static Outline, headings: &[Heading]) -> bool {
        std::ptr::eq(self.outline, outline)
            && self.levels.len() == headings.len()
            && self.levels.iter().zip(headings).all(|(l, h)| *l == h.level)
    }
}

/// Two heading texts alike: by address first (the line scan keeps the texts of the headings it
/// did not read again), then by content. `LastOutline::same_texts` and [`heading_words`] must
/// agree on it: the first stands for the second finding every heading's words at its place.
fn same_text(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

/// Each heading's words: the last analysis's for a heading with the same text at the same
/// place (compared by address first) or elsewhere; computed once per new text (a generated
/// document may repeat one heading thousands of times). The first few headings not at their
/// place (a heading being typed) are computed directly: looking one up by text means a map of
/// all the last texts, which costs more than the words of a few.
fn heading_words(headings: &[Heading], last: Option<&LastOutline>) -> Vec<Arc<HeadingWords>> {
    const COMPUTED_DIRECTLY: usize = 8;
    let mut misses = 0;
    let mut known: Option<HashMap<&str, Arc<HeadingWords>>> = None;
    headings
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if let Some(last) = last {
                let same_place = last.texts.get(i).is_some_and(|t| same_text(t, &h.text));
                if same_place {
                    return last.words[i].clone();
                }
            }
            misses += 1;
            if misses <= COMPUTED_DIRECTLY {
                return Arc::new(HeadingWords::of(&h.text));
            }
            let known = known.get_or_insert_with(|| {
                last.map(|l| {
                    l.texts
                        .iter()
                        .map(|t| &**t)
                        .zip(l.words.iter().cloned())
                        .collect()
                })
                .unwrap_or_default()
            });
            known
                .entry(&*h.text)
                .or_insert_with(|| Arc::new(HeadingWords::of(&h.text)))
                .clone()
        })
        .collect()
}

/// What the alignment and the anchors need of a heading's text.
struct HeadingWords {
    matching: matching::TitleWords,
    slug: String,
}

impl HeadingWords {
    fn of(text: &str) -> HeadingWords {
        HeadingWords {
            matching: matching::TitleWords::of(text),
            slug: anchors::slug(text),
        }
    }
}

/// The words, alignment and anchors of `headings`: the last ones when the headings have the
/// same levels and words, the last ones but one heading's anchor when one heading's words
/// changed and that moves nothing else ([`LastOutline::one_renamed`]), else made anew (words
/// found by text in the last ones where they can be). `Err` (with `last`, unchanged) when
/// cancelled.
fn outline_of(
    outline: &'static Outline,
    headings: &[Heading],
    last: Option<LastOutline>,
    cancelled: &dyn Fn() -> bool,
) -> Result<LastOutline, Option<LastOutline>> {
    let words = heading_words(headings, last.as_ref());
    if cancelled() {
        return Err(last);
    }
    // Compared once: both the outline kept as it is and the one-heading rename need it.
    let same_levels = last
        .as_ref()
        .is_some_and(|last| last.same_levels(outline, headings));
    match last {
        Some(last) if same_levels && last.same_words(&words) => Ok(last),
        last => {
            let words = match &last {
                Some(last) if same_levels => match last.one_renamed(outline, headings, words) {
                    Ok(kept) => return Ok(kept),
                    Err(words) => words,
                },
                _ => words,
            };
            let alignment = Arc::new(Alignment::with_words(
                outline,
                headings,
                &words.iter().map(|w| &w.matching).collect::<Vec<_>>(),
            ));
            if cancelled() {
                return Err(last);
            }
            Ok(LastOutline {
                outline,
                levels: headings.iter().map(|h| h.level).collect(),
                texts: headings.iter().map(|h| h.text.clone()).collect(),
                anchors: anchors::numbered(words.iter().map(|w| w.slug.as_str())).into(),
                words,
                alignment,
            })
        }
    }
}

fn finish(
    doc: &Document,
    file_name: Option<&str>,
    config: &Config,
    cache: &mut InlineCache,
    syntax: Syntax,
    pass: Pass,
    cancelled: &dyn Fn() -> bool,
) -> Option<Analysis> {
    let head_end = doc.floor_char_boundary(4096);
    let head = doc.slice(text::TextRange::new(0, head_end));
    let selection = detect::select(&head, &syntax.headings, file_name, config);
    // The last analysis's heading words, alignment and anchors serve again for what the
    // headings did not change (see `LastOutline`).
    let last = cache.last_outline.take();
    let kept = match last {
        // The very headings of the last pass (the line scan kept their texts): all of it serves
        // again as it is, and their words need no looking up.
        Some(last) if last.same_texts(selection.outline, &syntax.headings) => last,
        last => match outline_of(selection.outline, &syntax.headings, last, cancelled) {
            Ok(kept) => kept,
            Err(last) => {
                cache.last_outline = last;
                return None;
            }
        },
    };
    let (alignment, anchors) = (kept.alignment.clone(), kept.anchors.clone());
    cache.last_outline = Some(kept);
    let links = match pass {
        Pass::Full => syntax.anchor_links(doc, cache),
        Pass::Outline => Vec::new(),
    };
    cache.sweep();
    let ctx = Context {
        doc,
        syntax: &syntax,
        outline: selection.outline,
        alignment: &alignment,
        anchors: &anchors,
        links: &links,
    };
    let mut diagnostics = match pass {
        Pass::Full => rules::run(&ctx, cache),
        Pass::Outline => rules::run_outline(&ctx),
    };
    diagnostics.retain_mut(|d| match config.severity_of(d.code) {
        Some(severity) => {
            d.severity = severity;
            true
        }
        None => false,
    });
    diagnostics.sort_by_key(|d| (d.range.start, d.code));
    Some(Analysis {
        selection,
        syntax,
        alignment,
        anchors,
        links,
        diagnostics,
        pass,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use text::TextRange;

    /// Headings a rename draws from: sections of the joint-review outline, headings holding a
    /// section's words, repeats, slugs that look numbered or equal a numbered anchor, and the
    /// template's preamble heading.
    const NAMES: [&str; 15] = [
        "Joint-review Outline",
        "Notes",
        "Notes",
        "Notes-1",
        "Appendix",
        "Appendix 2",
        "Threat Model",
        "Threat Model Extra",
        "Secure Development Practices",
        "Our Secure Development Practices",
        "Goals",
        "Overview",
        "Background",
        "Notesx",
        "",
    ];

    /// A joint review whose headings after the title are `names`, every third one level down.
    fn document_with_headings(names: &[&str]) -> String {
        let mut text = String::from("# Joint-review of X\n\n");
        for (i, name) in names.iter().enumerate() {
            let hashes = if i % 3 == 2 { "###" } else { "##" };
            text.push_str(&format!("{hashes} {name}\n\nText.\n\n"));
        }
        text
    }

    /// Heading `i`'s text (after the title) renamed to `name` in `doc`.
    fn rename(doc: &mut Document, i: usize, name: &str) {
        let text = doc.text();
        let mut line_start = 0;
        let mut seen = 0;
        for line in text.split_inclusive('\n') {
            if line.starts_with('#') {
                if seen == i + 1 {
                    let start = line_start + line.find(' ').unwrap() + 1;
                    let end = line_start + line.trim_end().len();
                    doc.apply_change(TextRange::new(start, end.max(start)), name);
                    return;
                }
                seen += 1;
            }
            line_start += line.len();
        }
        panic!("no heading {i}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// Renaming one heading at a time, the outline pass with its cache (the last alignment
        /// and anchors kept where the rename cannot move them) gives what one from scratch
        /// gives.
        #[test]
        fn renaming_one_heading_equals_a_fresh_analysis(
            start in proptest::collection::vec(0..NAMES.len(), 8..14),
            renames in proptest::collection::vec((0usize..14, 0..NAMES.len()), 1..10),
        ) {
            let names: Vec<&str> = start.iter().map(|&n| NAMES[n]).collect();
            let mut doc = Document::new(&document_with_headings(&names));
            let (config, name) = (Config::default(), Some("joint-review.md"));
            let mut cache = InlineCache::new();
            analyze_outline(&doc, name, &config, &mut cache);
            for (i, n) in renames {
                rename(&mut doc, i % names.len(), NAMES[n]);
                let kept = analyze_outline(&doc, name, &config, &mut cache);
                let fresh = analyze_outline(&doc, name, &config, &mut InlineCache::new());
                proptest::prop_assert_eq!(&kept.alignment, &fresh.alignment);
                proptest::prop_assert_eq!(&kept.anchors, &fresh.anchors);
                proptest::prop_assert_eq!(&kept.diagnostics, &fresh.diagnostics);
            }
        }
    }

    /// Typing at the end of a heading that is no section keeps the last alignment (shared, not
    /// made again) and changes that heading's anchor only.
    #[test]
    fn typing_in_a_heading_that_is_no_section_keeps_the_alignment() {
        let names = [
            "Overview",
            "Goals",
            "Notes",
            "Glossary",
            "Background",
            "Notes",
            "Extra",
        ];
        let mut doc = Document::new(&document_with_headings(&names));
        let (config, name) = (Config::default(), Some("joint-review.md"));
        let mut cache = InlineCache::new();
        let before = analyze_outline(&doc, name, &config, &mut cache);
        rename(&mut doc, 3, "Glossaryx");
        let after = analyze_outline(&doc, name, &config, &mut cache);
        assert!(Arc::ptr_eq(&before.alignment, &after.alignment));
        let changed: Vec<usize> = (0..after.anchors.len())
            .filter(|&i| before.anchors[i] != after.anchors[i])
            .collect();
        assert_eq!(changed, [4]);
        assert_eq!(after.anchors[4], "glossaryx");
        // A repeated heading's rename renumbers: made again, as from scratch.
        rename(&mut doc, 2, "Notesy");
        let renumbered = analyze_outline(&doc, name, &config, &mut cache);
        let fresh = analyze_outline(&doc, name, &config, &mut InlineCache::new());
        assert_eq!(renumbered.anchors, fresh.anchors);
        assert_eq!(renumbered.anchors[6], "notes");
    }

    /// Renames that move what other headings are: the analysis with its cache equals one from
    /// scratch (each case is one the shortcut of `LastOutline::one_renamed` must turn down).
    #[test]
    fn renames_that_move_other_headings_equal_a_fresh_analysis() {
        let cases: [(&[&str], usize, &str); 4] = [
            // The template's preamble among the first headings.
            (
                &["Notes", "Glossary", "Extra", "More"],
                0,
                "Joint-review Outline",
            ),
            // A heading before the one that holds a section's words now holds them too.
            (
                &[
                    "Overview",
                    "Goals",
                    "Extra",
                    "Notes",
                    "Glossary",
                    "Our Threat Model",
                ],
                4,
                "Threat Model Extra",
            ),
            // A literal "Notes-1" renamed: the next "Notes" takes its number.
            (
                &["Overview", "Notes", "Goals", "Notes-1", "Notes"],
                3,
                "Glossary",
            ),
            // Renamed to another heading's slug.
            (
                &["Overview", "Goals", "Extra", "Glossary", "Notes"],
                3,
                "Notes",
            ),
        ];
        for (names, i, new_name) in cases {
            let mut doc = Document::new(&document_with_headings(names));
            let (config, name) = (Config::default(), Some("joint-review.md"));
            let mut cache = InlineCache::new();
            let before = analyze_outline(&doc, name, &config, &mut cache);
            rename(&mut doc, i, new_name);
            let kept = analyze_outline(&doc, name, &config, &mut cache);
            let fresh = analyze_outline(&doc, name, &config, &mut InlineCache::new());
            assert_eq!(
                kept.alignment, fresh.alignment,
                "{names:?}, {i} -> {new_name}"
            );
            assert_eq!(kept.anchors, fresh.anchors, "{names:?}, {i} -> {new_name}");
            assert_eq!(
                kept.diagnostics, fresh.diagnostics,
                "{names:?}, {i} -> {new_name}"
            );
            let moved = before.alignment != fresh.alignment
                || (0..fresh.anchors.len())
                    .any(|g| g != i + 1 && before.anchors[g] != fresh.anchors[g]);
            assert!(moved, "{names:?}, {i} -> {new_name} moves nothing else");
        }
    }

    /// Analyses made with a cache kept from version to version (the alignment and anchors
    /// shared while the headings stay the same) equal those made from scratch, whether an
    /// edit leaves the headings alone, renames one, removes one or adds one.
    #[test]
    fn kept_alignment_and_anchors_equal_fresh_ones() {
        let real = include_str!("../../../tests/corpus/real/openfga-joint-assessment.md");
        let mut doc = Document::new(real);
        let config = Config::default();
        let name = Some("openfga-joint-assessment.md");
        let (mut outline_cache, mut full_cache) = (InlineCache::new(), InlineCache::new());
        // After a sentence's full stop, in the middle of the document.
        let in_paragraph = real.len() / 2 + real[real.len() / 2..].find(". ").unwrap() + 1;
        let heading = real.find("\n## ").unwrap() + 4;
        let overview = real.find("\n## Overview").unwrap() + 1;
        let edits: Vec<(TextRange, &str)> = vec![
            (TextRange::empty(in_paragraph), "x"),
            (TextRange::empty(in_paragraph + 1), "y z"),
            // One level down, the same words: its sub-sections' parent changes.
            (TextRange::empty(overview), "#"),
            (TextRange::empty(heading), "Renamed "),
            (TextRange::new(heading - 3, heading + 8), ""),
            (TextRange::empty(in_paragraph), "\n\n## Threat Model\n\n"),
            (TextRange::empty(0), "x"),
        ];
        let mut last_alignment =
            Some(analyze_outline(&doc, name, &config, &mut outline_cache).alignment);
        for (range, text) in edits {
            let range = TextRange::new(
                doc.floor_char_boundary(range.start),
                doc.floor_char_boundary(range.end),
            );
            doc.apply_change(range, text);
            let kept = [
                analyze_outline(&doc, name, &config, &mut outline_cache),
                analyze(&doc, name, &config, &mut full_cache),
            ];
            let fresh = [
                analyze_outline(&doc, name, &config, &mut InlineCache::new()),
                analyze(&doc, name, &config, &mut InlineCache::new()),
            ];
            if text == "x" && range.start == in_paragraph {
                // Typing in a paragraph: the last alignment serves again.
                let last = last_alignment.as_ref().unwrap();
                assert!(Arc::ptr_eq(last, &kept[0].alignment));
            }
            last_alignment = Some(kept[0].alignment.clone());
            for (kept, fresh) in kept.iter().zip(&fresh) {
                assert_eq!(kept.alignment, fresh.alignment, "after {text:?}");
                assert_eq!(kept.anchors, fresh.anchors, "after {text:?}");
                assert_eq!(kept.diagnostics, fresh.diagnostics, "after {text:?}");
            }
        }
    }
}
