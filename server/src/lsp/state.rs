//! The server's state: open documents, each with its version and its latest analyses.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tower_lsp_server::ls_types::{ClientCapabilities, Position, Range, Uri};

use crate::analysis::config::Config;
use crate::analysis::diagnostics::Diagnostic;
use crate::analysis::document::Document;
use crate::analysis::markdown::InlineCache;
use crate::analysis::rescan;
use crate::analysis::text::{Encoding, LineIndex, TextChange, TextRange};
use crate::analysis::{analyze, analyze_outline_unless, Analysis, Pass};

/// At most this many diagnostics are published for a document (the first, in document order):
/// a pathological document can have a hundred thousand, which no editor shows usefully and
/// which would take seconds to send.
pub const MAX_PUBLISHED: usize = 1000;

/// The outline pass's diagnostics are carried through at most this many edits (see
/// [`Carried::kept_outline`]); then a pass runs, so the edits kept stay few.
const MAX_EDITS_CARRIED: usize = 1024;

/// An analysis together with the document version and the configuration it was made from.
pub struct Analyzed {
    pub version: i32,
    pub doc: Document,
    pub analysis: Analysis,
    pub config: Config,
}

pub struct OpenDocument {
    pub doc: Document,
    pub version: i32,
    /// The latest full analysis (the outline pass for a document too large to parse).
    pub latest: Option<Arc<Analyzed>>,
    /// The latest outline pass made (typing that keeps the headings carries its diagnostics
    /// instead: see [`Carried::kept_outline`]).
    pub outline: Option<Arc<Analyzed>>,
    /// Inline parses reused between full analyses of this document.
    pub cache: Arc<Mutex<InlineCache>>,
    /// The same for the outline pass (its own, so it never waits for a full analysis).
    pub outline_cache: Arc<Mutex<InlineCache>>,
    /// The edits since `latest` or `outline`, whichever is older: they carry their
    /// diagnostics to the current text until the next analysis of each kind.
    pub edits: Vec<Edit>,
    /// Where `latest`'s carried diagnostics were at the last publish (see [`CarriedPlaces`]).
    pub carried_places: Option<CarriedPlaces>,
    /// The same for `outline`'s.
    pub outline_places: Option<CarriedPlaces>,
    /// What was last published: its version, and whether it was the last for that version
    /// (the full analysis).
    pub published: Option<(i32, bool)>,
    /// How long the last full analysis took.
    pub full_cost: Option<Duration>,
    pub last_change: Instant,
    /// Set once this version is no longer the document's (a change, a close): a full
    /// analysis of it still parsing stops (see [`Job::run_if`]).
    pub superseded: Arc<AtomicBool>,
}

impl OpenDocument {
    pub fn new(text: &str, version: i32) -> Self {
        Self {
            doc: Document::new(text),
            version,
            latest: None,
            outline: None,
            cache: Arc::default(),
            outline_cache: Arc::default(),
            edits: Vec::new(),
            carried_places: None,
            outline_places: None,
            published: None,
            full_cost: None,
            last_change: Instant::now(),
            superseded: Arc::default(),
        }
    }

    /// This version is no longer the document's: its analyses still running stop.
    pub fn supersede(&self) {
        self.superseded.store(true, Ordering::Relaxed);
    }

    /// A change made a new version: the analyses of the last one still running stop.
    pub fn new_version(&mut self, version: i32) {
        self.supersede();
        self.superseded = Arc::default();
        self.version = version;
        self.last_change = Instant::now();
    }

    /// The diagnostics of `source`'s analysis, to be carried through the edits since to the
    /// current text (see [`Carried::places`]). Takes the places of the last publish, to be
    /// given back with [`Self::keep_places`].
    pub fn carried(&mut self, source: Source) -> Option<Carried> {
        let (from, slot) = match source {
            Source::Full => (
                self.latest
                    .as_ref()
                    .filter(|l| l.analysis.pass == Pass::Full)?,
                &mut self.carried_places,
            ),
            Source::Outline => (self.outline.as_ref()?, &mut self.outline_places),
        };
        let places = slot.take().filter(|p| Arc::ptr_eq(&p.from, from));
        let since = self.edits.partition_point(|e| e.version <= from.version);
        if source == Source::Outline && self.edits.len() - since > MAX_EDITS_CARRIED {
            return None;
        }
        let done = places.as_ref().map_or(0, |p| p.through);
        Some(Carried {
            from: from.clone(),
            source,
            edits: self.edits[(since + done).min(self.edits.len())..].to_vec(),
            places,
        })
    }

    /// Keeps `places` for the next publish if they are still of their analysis, else gives
    /// them back.
    #[must_use]
    pub fn keep_places(&mut self, places: CarriedPlaces) -> Option<CarriedPlaces> {
        let (from, slot) = match places.source {
            Source::Full => (&self.latest, &mut self.carried_places),
            Source::Outline => (&self.outline, &mut self.outline_places),
        };
        if from.as_ref().is_some_and(|l| Arc::ptr_eq(l, &places.from)) {
            *slot = Some(places);
            return None;
        }
        Some(places)
    }

    /// Keeps `places`, made for the latest full analysis before any publish needed them (see
    /// `Backend::place_ahead`), unless a publish has placed that analysis's diagnostics since
    /// or a newer analysis replaced it; then gives them back.
    #[must_use]
    pub fn keep_places_made_ahead(&mut self, places: CarriedPlaces) -> Option<CarriedPlaces> {
        if places.source != Source::Full || self.carried_places.is_some() {
            return Some(places);
        }
        self.keep_places(places)
    }

    /// Makes `made` the outline pass whose diagnostics later keystrokes carry (see
    /// [`Carried::kept_outline`]); returns the one it replaces.
    pub fn adopt_outline(&mut self, made: Arc<Analyzed>) -> Option<Arc<Analyzed>> {
        let replaced = self.outline.replace(made);
        self.outline_places = None;
        self.forget_old_edits();
        replaced
    }

    /// Drops the edits that no carried analysis needs any more: those since the older of the
    /// latest full analysis and outline pass. A document too large to parse has no full
    /// analysis to wait for; any other keeps all until its first (that there were none tells
    /// that one to start at once).
    pub fn forget_old_edits(&mut self) {
        let full = match self.doc.is_too_large() {
            true => i32::MAX,
            false => self.latest.as_ref().map_or(i32::MIN, |l| l.version),
        };
        let outline = self.outline.as_ref().map_or(i32::MIN, |o| o.version);
        let oldest = full.min(outline);
        self.edits.retain(|e| e.version > oldest);
    }
}

/// Whose diagnostics a publish carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The latest full analysis's, those the outline pass does not make.
    Full,
    /// The latest outline pass's.
    Outline,
}

/// An edit since the latest analyses: the version it made, its bytes, and where the text it
/// replaced ended and its new text ends, in the client's positions.
#[derive(Clone, Copy, Debug)]
pub struct Edit {
    pub version: i32,
    pub change: TextChange,
    pub old_end: Position,
    pub new_end: Position,
    /// The line of an edit of plain text within one line, which changes no heading unless
    /// the line is part of one (see [`rescan::plain_line_edit`]); `None` for any other.
    pub plain_line: Option<usize>,
}

impl Edit {
    /// Puts `text` in place of `replaced` (the whole text when `None`) in `doc`, as `version`;
    /// `last` is the edit before it, if known.
    pub fn apply(
        doc: &mut Document,
        version: i32,
        replaced: Option<TextRange>,
        text: &str,
        encoding: Encoding,
        last: Option<&Edit>,
    ) -> Edit {
        let end_of = |doc: &Document, offset| {
            super::convert::position(&LineIndex::new(doc.rope()), offset, encoding)
        };
        let old_end = end_of(doc, replaced.map_or(doc.len(), |r| r.end));
        let known_plain = last.and_then(|e| e.plain_line);
        let plain_line =
            replaced.and_then(|r| rescan::plain_line_edit(doc.rope(), r, text, known_plain));
        let change = match replaced {
            Some(range) => doc.apply_change(range, text),
            None => doc.replace_all(text),
        };
        Edit {
            version,
            change,
            old_end,
            new_end: end_of(doc, change.new_end),
            plain_line,
        }
    }

    /// Typing on: `text` in place of `replaced` when that is an insertion at the position where
    /// `last` (the edit before it) left its new text ending, and neither holds a line break. Its offsets and positions follow from `last`'s,
    /// with no look-up in the text: at 100k lines the four look-ups of [`apply`](Self::apply)
    /// were most of applying a keystroke (~37 µs of it, under `perf`), and a burst read in
    /// pieces pays it once a piece. `None`, the document untouched, otherwise.
    pub fn typed_on(
        doc: &mut Document,
        version: i32,
        replaced: Range,
        text: &str,
        encoding: Encoding,
        last: &Edit,
    ) -> Option<Edit> {
        let at = replaced.start;
        // `plain_line` says `last` broke no line; the same check of `text` here.
        if replaced.end != at
            || at != last.new_end
            || last.plain_line.is_none()
            || text.contains(['\n', '\r'])
        {
            return None;
        }
        let new_end = Position {
            line: at.line,
            character: at
                .character
                .checked_add(u32::try_from(encoding.len_of(text)).ok()?)?,
        };
        let offset = last.change.new_end;
        let inserted = TextRange::new(offset, offset);
        let plain_line = rescan::plain_line_edit(doc.rope(), inserted, text, last.plain_line);
        let change = doc.apply_change(inserted, text);
        Some(Edit {
            version,
            change,
            old_end: at,
            new_end,
            plain_line,
        })
    }

    /// Where a position after the replaced text is after the edit: on the replaced text's last
    /// line, as far from the new text's end; on a later line, the same column, the lines
    /// moved by as many as the edit added or removed.
    fn moved(&self, p: Position) -> Position {
        if p.line == self.old_end.line {
            Position {
                line: self.new_end.line,
                character: self.new_end.character
                    + p.character.saturating_sub(self.old_end.character),
            }
        } else {
            Position {
                line: p.line.saturating_sub(self.old_end.line) + self.new_end.line,
                character: p.character,
            }
        }
    }

    /// Where `range` (at `at`) is after the edit, in bytes and in positions; `None` when the
    /// edit touches it (see [`TextRange::after_edit`]).
    fn carry(&self, range: TextRange, at: Range) -> Option<(TextRange, Range)> {
        let moved = range.after_edit(self.change)?;
        if range.end < self.change.start {
            return Some((moved, at));
        }
        let at = Range {
            start: self.moved(at.start),
            end: self.moved(at.end),
        };
        Some((moved, at))
    }
}

/// An analysis's diagnostics, the edits made since it, and where they were last placed.
pub struct Carried {
    from: Arc<Analyzed>,
    source: Source,
    /// The edits since `from` that `places` has not been carried through.
    edits: Vec<Edit>,
    places: Option<CarriedPlaces>,
}

impl Carried {
    /// The places of the diagnostics, carried through the edits since their analysis; those
    /// an edit touched are left out.
    pub fn places(self, encoding: Encoding) -> CarriedPlaces {
        let mut places = self
            .places
            .unwrap_or_else(|| CarriedPlaces::new(self.from, self.source, encoding));
        for edit in &self.edits {
            places.carry(edit);
        }
        places
    }

    /// The outline pass's diagnostics carried through the edits since, when those edits keep
    /// its headings and touch none of its diagnostics: each edited plain text within a line
    /// that is not a heading's (see [`rescan::plain_line_edit`]). A new outline pass would
    /// then find the same headings, moved, and so the same diagnostics at the carried places;
    /// typing in a paragraph costs what the edit and the diagnostics do, not a pass over
    /// every heading. `None` when an outline pass must run.
    pub fn kept_outline(self, encoding: Encoding) -> Option<CarriedPlaces> {
        debug_assert_eq!(self.source, Source::Outline);
        let (text, headings) = (self.from.doc.rope(), &self.from.analysis.syntax.headings);
        let mut places = self
            .places
            .unwrap_or_else(|| CarriedPlaces::new(self.from.clone(), self.source, encoding));
        for edit in &self.edits {
            // The edits since the outline pass added no line and removed none, so the line
            // is the same in its text.
            let line = edit.plain_line?;
            if rescan::on_heading_line(text, headings, line) || !places.carry(edit) {
                return None;
            }
        }
        Some(places)
    }
}

/// Where an analysis's diagnostics (a full analysis's that the outline pass does not make, or
/// an outline pass's) lie after the first `through` edits since, in bytes and in the client's
/// positions; those an edit touched are left out (the next analysis has them).
///
/// Each publish carries them through the edits since the last one, moving byte offsets and
/// positions alike (as an editor moves its markers), instead of converting every offset
/// again: on a document with a few hundred of them, converting (two rope lookups and a count
/// of the column each) was most of a keystroke's cost, and grew with the document.
pub struct CarriedPlaces {
    from: Arc<Analyzed>,
    source: Source,
    through: usize,
    /// By the index of the diagnostic in `from`.
    places: Vec<Option<Place>>,
}

struct Place {
    range: TextRange,
    at: Range,
    /// The related ranges, in order.
    related: Vec<(TextRange, Range)>,
    /// The diagnostic as published at `at` (see [`CarriedPlaces::serialise`]).
    serialised: Option<Box<RawValue>>,
}

impl Place {
    /// Moves the place, in place, through `edit`; false when the edit touched its range or
    /// a related one (the place is then dropped, whatever this left of it). Its JSON is kept
    /// only when no position in it moved. Rebuilding each place for each edit instead was
    /// two thirds of carrying them (under `perf`, at 10k lines).
    fn carry(&mut self, edit: &Edit) -> bool {
        let Some((range, at)) = edit.carry(self.range, self.at) else {
            return false;
        };
        let mut moved = at != self.at;
        (self.range, self.at) = (range, at);
        for related in &mut self.related {
            let Some(carried) = edit.carry(related.0, related.1) else {
                return false;
            };
            moved |= carried.1 != related.1;
            *related = carried;
        }
        if moved {
            self.serialised = None;
        }
        true
    }
}

impl CarriedPlaces {
    /// The full analysis's diagnostics at its own text, serialised as published for `uri`:
    /// what the first publish after it would otherwise make (see
    /// [`OpenDocument::keep_places_made_ahead`]).
    pub fn ahead(from: Arc<Analyzed>, uri: &Uri, encoding: Encoding) -> Self {
        let mut places = Self::new(from, Source::Full, encoding);
        places.serialise(uri);
        places
    }

    /// At the analysis's own text. Of an outline pass, only those that can be published: the
    /// others never move up, since one that an edit touches is never carried (see
    /// [`Carried::kept_outline`]).
    fn new(from: Arc<Analyzed>, source: Source, encoding: Encoding) -> Self {
        let index = LineIndex::new(from.doc.rope());
        let at = |range| super::convert::range(&index, range, encoding);
        let carried = match source {
            Source::Full => usize::MAX,
            Source::Outline => MAX_PUBLISHED,
        };
        let places = from
            .analysis
            .diagnostics
            .iter()
            .take(carried)
            .map(|d| {
                (source == Source::Outline || !d.code.is_outline()).then(|| Place {
                    range: d.range,
                    at: at(d.range),
                    related: d.related.iter().map(|r| (r.range, at(r.range))).collect(),
                    serialised: None,
                })
            })
            .collect();
        CarriedPlaces {
            from,
            source,
            through: 0,
            places,
        }
    }

    /// Carries the places through `edit`; false when it touched one (left out from then on).
    fn carry(&mut self, edit: &Edit) -> bool {
        let mut all_kept = true;
        for slot in &mut self.places {
            if slot.as_mut().is_some_and(|place| !place.carry(edit)) {
                *slot = None;
                all_kept = false;
            }
        }
        self.through += 1;
        all_kept
    }

    /// Serialises the diagnostics that moved since they were last (or were never), as
    /// published for `uri`, up to the first [`MAX_PUBLISHED`] carried (no more are). Most do
    /// not move at a keystroke (those before it, and those after it on later lines when no
    /// line break was typed), and serialising a few hundred was most of what was left of a
    /// publish's cost.
    pub fn serialise(&mut self, uri: &Uri) {
        let diagnostics = &self.from.analysis.diagnostics;
        let carried = diagnostics
            .iter()
            .zip(&mut self.places)
            .filter(|(_, slot)| slot.is_some())
            .take(MAX_PUBLISHED);
        for (diagnostic, slot) in carried {
            let Some(place) = slot.as_mut().filter(|p| p.serialised.is_none()) else {
                continue;
            };
            let related_at = place.related.iter().map(|&(_, at)| at).collect();
            let wire = super::convert::diagnostic_at(uri, diagnostic, place.at, related_at);
            match serde_json::value::to_raw_value(&wire) {
                Ok(json) => place.serialised = Some(json),
                Err(e) => tracing::error!("cannot serialise a diagnostic: {e}"),
            }
        }
    }

    /// Each carried diagnostic, where it lies now, and its JSON (see [`Self::serialise`]).
    pub fn published(&self) -> impl Iterator<Item = (&Diagnostic, TextRange, &RawValue)> {
        self.from
            .analysis
            .diagnostics
            .iter()
            .zip(&self.places)
            .filter_map(|(diagnostic, place)| {
                let place = place.as_ref()?;
                Some((diagnostic, place.range, place.serialised.as_deref()?))
            })
    }
}

#[derive(Default)]
pub struct State {
    pub docs: HashMap<Uri, OpenDocument>,
    pub config: Config,
    pub encoding: Encoding,
    /// The client shows Markdown in hovers.
    pub hover_markdown: bool,
    /// The client takes snippets in completion items.
    pub completion_snippets: bool,
    /// The client shows Markdown in completion items' documentation.
    pub completion_markdown: bool,
    /// The client asks for a completion item's documentation when it shows it
    /// (`completionItem/resolve`), so the list can leave it out.
    pub completion_resolves_documentation: bool,
    pub navigation: NavigationCaps,
    /// The client asked for `$/jointReview/analysed` after each publish.
    pub analysis_notifications: bool,
}

/// What the client supports of the navigation features' answers.
#[derive(Clone, Copy, Debug, Default)]
pub struct NavigationCaps {
    /// Folding ranges are whole lines (no start or end columns).
    pub line_folding_only: bool,
    /// Document symbols may nest (else a flat list with container names).
    pub hierarchical_symbols: bool,
    /// Go to definition may answer with `LocationLink`s.
    pub definition_links: bool,
    /// The client sends `prepareRename` first.
    pub prepare_rename: bool,
}

impl NavigationCaps {
    pub fn new(capabilities: &ClientCapabilities) -> Self {
        let Some(text) = capabilities.text_document.as_ref() else {
            return Self::default();
        };
        Self {
            line_folding_only: text
                .folding_range
                .as_ref()
                .and_then(|f| f.line_folding_only)
                .unwrap_or(false),
            hierarchical_symbols: text
                .document_symbol
                .as_ref()
                .and_then(|d| d.hierarchical_document_symbol_support)
                .unwrap_or(false),
            definition_links: text
                .definition
                .as_ref()
                .and_then(|d| d.link_support)
                .unwrap_or(false),
            prepare_rename: text
                .rename
                .as_ref()
                .and_then(|r| r.prepare_support)
                .unwrap_or(false),
        }
    }
}

/// A document larger than this (512 KiB; the longest real review is ~100 KB) does not keep its
/// block tree between full analyses: each parses from scratch, and only while it runs does the
/// tree (tens of bytes per byte of text) take memory. Its full analyses wait for a pause in typing
/// anyway (see `server.rs`).
pub const KEEP_TREE_MAX: usize = 512 * 1024;

/// Everything needed to analyse one version away from the state's lock.
pub struct Job {
    pub uri: Uri,
    pub version: i32,
    pub pass: Pass,
    pub doc: Document,
    pub config: Config,
    pub cache: Arc<Mutex<InlineCache>>,
    superseded: Arc<AtomicBool>,
}

impl Job {
    pub fn new(uri: &Uri, open: &OpenDocument, config: &Config, pass: Pass) -> Job {
        Job {
            uri: uri.clone(),
            version: open.version,
            pass,
            // The outline pass reads only the text: a copy of the tree would only have to be
            // freed again.
            doc: match pass {
                Pass::Full => open.doc.snapshot(),
                Pass::Outline => open.doc.text_snapshot(),
            },
            config: config.clone(),
            cache: match pass {
                Pass::Full => open.cache.clone(),
                Pass::Outline => open.outline_cache.clone(),
            },
            superseded: open.superseded.clone(),
        }
    }

    /// Runs the analysis if `wanted()` still holds once the document's cache is free (another
    /// job may hold it): a job superseded while it waited is skipped. A full analysis whose
    /// version is superseded while it parses stops too: parsing a large document takes
    /// 100 ms or more, and the core is better spent on the outline pass of the new version.
    pub fn run_if(self, wanted: impl FnOnce() -> bool) -> Option<Analyzed> {
        self.run_unless_superseded(wanted, true)
    }

    /// Runs the analysis (CPU work: call it off the async threads), to the end: a request
    /// waits for it.
    pub fn run(self) -> Analyzed {
        self.run_unless_superseded(|| true, false)
            .expect("an analysis that is always wanted and never stopped runs")
    }

    fn run_unless_superseded(
        mut self,
        wanted: impl FnOnce() -> bool,
        stop_when_superseded: bool,
    ) -> Option<Analyzed> {
        let cache = self.cache.clone();
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !wanted() {
            return None;
        }
        let superseded = &self.superseded;
        let cancelled = || stop_when_superseded && superseded.load(Ordering::Relaxed);
        if self.pass == Pass::Full {
            self.doc.tree_unless(&cancelled)?;
        }
        let name = Some(self.uri.as_str());
        let analysis = match self.pass {
            Pass::Full => analyze(&self.doc, name, &self.config, &mut cache),
            Pass::Outline => {
                analyze_outline_unless(&self.doc, name, &self.config, &mut cache, &cancelled)?
            }
        };
        if self.doc.len() > KEEP_TREE_MAX {
            // Everything the requests need is in the analysis; the tree is not kept.
            self.doc.forget_tree();
            cache.forget_tree();
        }
        Some(Analyzed {
            version: self.version,
            doc: self.doc,
            analysis,
            config: self.config,
        })
    }
}

/// Locks the state; a panic in another holder does not make the state unusable.
pub fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::super::convert;
    use super::*;

    fn job(open: &OpenDocument, pass: Pass) -> Job {
        let uri: Uri = "file:///review.md".parse().unwrap();
        Job::new(&uri, open, &Config::default(), pass)
    }

    #[test]
    fn an_analysis_stops_once_its_version_is_superseded() {
        let real = include_str!("../../../tests/corpus/real/openfga-joint-assessment.md");
        let mut open = OpenDocument::new(real, 1);
        let (full, outline) = (job(&open, Pass::Full), job(&open, Pass::Outline));
        open.new_version(2);
        assert!(full.run_if(|| true).is_none());
        assert!(outline.run_if(|| true).is_none());
        // A request's analysis runs to the end, and so does one of the current version.
        assert!(job(&open, Pass::Full).run_if(|| true).is_some());
        let request = job(&open, Pass::Full);
        open.new_version(3);
        assert_eq!(request.run().version, 2);
    }

    /// An empty range at `at`: where an insertion goes.
    fn insert(at: Position) -> Range {
        Range { start: at, end: at }
    }

    /// Typing on from the last edit (`Edit::typed_on`) makes the edit, and the text, that
    /// looking its positions up (`Edit::apply`) makes, in every encoding, after emoji, CJK and
    /// CRLF; it declines a line break, a position elsewhere and a replacement, leaving the text
    /// as it was.
    #[test]
    fn typing_on_makes_the_edit_a_look_up_makes() {
        let text = "# Title\r\n\r\nSome words 😀 中文 here\r\nnext line\n";
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let (mut fast, mut slow) = (Document::new(text), Document::new(text));
            let character = encoding.len_of("Some words 😀 中文 here") as u32;
            let mut at = Position { line: 2, character };
            let mut last: Option<Edit> = None;
            let mut typed_on = 0;
            for (version, typed) in (2..).zip(["x", "中", "é", "ab", "😀", "y", "\t", "z"]) {
                let range = |doc: &Document| Some(convert::text_range(doc, insert(at), encoding));
                let replaced = range(&slow);
                let expected =
                    Edit::apply(&mut slow, version, replaced, typed, encoding, last.as_ref());
                // Only after an edit of plain text (`plain_line`): an emoji is not.
                let got = match last.filter(|l| l.plain_line.is_some()) {
                    Some(last) => {
                        typed_on += 1;
                        Edit::typed_on(&mut fast, version, insert(at), typed, encoding, &last)
                            .unwrap_or_else(|| panic!("{encoding:?}: {typed:?} not typed on"))
                    }
                    None => {
                        assert!(last.is_none_or(|last| {
                            Edit::typed_on(&mut fast, version, insert(at), typed, encoding, &last)
                                .is_none()
                        }));
                        let replaced = range(&fast);
                        Edit::apply(&mut fast, version, replaced, typed, encoding, last.as_ref())
                    }
                };
                assert_eq!(
                    format!("{got:?}"),
                    format!("{expected:?}"),
                    "{encoding:?} {typed:?}"
                );
                assert_eq!(fast.text(), slow.text());
                (at, last) = (got.new_end, Some(got));
            }
            assert!(typed_on >= 5, "{encoding:?}: typed on {typed_on} times");
            let last = last.unwrap();
            assert!(
                last.plain_line.is_some(),
                "the declines below would prove nothing"
            );
            let elsewhere = Position {
                line: at.line,
                character: at.character - 1,
            };
            // From where typing would go on, over the line break after it.
            let replacement = Range {
                start: at,
                end: Position {
                    line: at.line + 1,
                    character: 0,
                },
            };
            for (replaced, typed) in [
                (insert(at), "\n"),
                (insert(at), "a\rb"),
                (insert(elsewhere), "x"),
                (replacement, "x"),
            ] {
                assert!(Edit::typed_on(&mut fast, 99, replaced, typed, encoding, &last).is_none());
            }
            assert_eq!(fast.text(), slow.text());
        }
    }

    /// Diagnostics carried through edits, a publish after each edit or after a few, are at
    /// the positions a conversion of their carried offsets in the edited text gives, in every
    /// encoding, and serialised as they would be afresh: edits that add and remove line breaks
    /// (CR, LF, CRLF, and CR and LF joined into one or split), emoji and CJK text.
    #[test]
    fn carried_places_are_where_the_edited_text_puts_them() {
        // A real document whose lines end in CRLF in places, with emoji and CJK text, and
        // many links to no heading (each a diagnostic of the full analysis), some with the
        // wording of its last heading (then related to that heading, further down).
        let edited = |link_to: &str| -> String {
            (crate::analysis::fixture::REAL_DOCUMENTS[3].1)
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, line)| match i % 5 {
                    0 => line.replace('\n', "\r\n"),
                    1 => format!("😀中{line}"),
                    2 if line.len() > 20 && !line.starts_with(['#', '|', ' ']) => match i % 2 {
                        0 => line.replace('\n', " [中](#nowhere) 😀\n"),
                        _ => line.replace('\n', &format!(" [{link_to}](#nowhere)\n")),
                    },
                    _ => line.to_string(),
                })
                .collect()
        };
        let headings = job(&OpenDocument::new(&edited("中"), 1), Pass::Outline).run();
        let last = &headings
            .analysis
            .syntax
            .headings
            .last()
            .expect("headings")
            .text;
        let text = edited(last);
        let uri: Uri = "file:///review.md".parse().unwrap();
        let mut open = OpenDocument::new(&text, 1);
        let analyzed = Arc::new(job(&open, Pass::Full).run());
        let inserted = ["x", "\n", "\r", "\r\n", "😀", "中文", "", "a\nb", "\n\r"];
        let (mut compared, mut moved, mut related_only) = (0, 0, 0);
        let first_index = LineIndex::new(analyzed.doc.rope());
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let first_at = |r| convert::range(&first_index, r, encoding);
            for seed in 1..=8 {
                let mut random = crate::analysis::fixture::random_below(seed);
                open.doc = Document::new(&text);
                open.latest = Some(analyzed.clone());
                open.edits.clear();
                open.carried_places = None;
                if seed % 2 == 0 {
                    // Placed ahead, as after a full analysis's publish.
                    let ahead = CarriedPlaces::ahead(analyzed.clone(), &uri, encoding);
                    assert!(open.keep_places_made_ahead(ahead).is_none());
                }
                let mut version = 1;
                for _ in 0..12 {
                    for _ in 0..1 + random(3) {
                        let len = open.doc.len();
                        let start = open.doc.floor_char_boundary(random(len));
                        let end = open.doc.floor_char_boundary((start + random(6)).min(len));
                        version += 1;
                        let edit = Edit::apply(
                            &mut open.doc,
                            version,
                            Some(TextRange::new(start, end)),
                            inserted[random(inserted.len())],
                            encoding,
                            open.edits.last(),
                        );
                        open.edits.push(edit);
                    }
                    let mut places = open
                        .carried(Source::Full)
                        .expect("a full analysis")
                        .places(encoding);
                    places.serialise(&uri);
                    let index = LineIndex::new(open.doc.rope());
                    let at = |r| convert::range(&index, r, encoding);
                    let diagnostics = &analyzed.analysis.diagnostics;
                    let mut published = places.published();
                    for (d, place) in diagnostics.iter().zip(&places.places) {
                        let Some(place) = place else {
                            continue;
                        };
                        assert_eq!(place.at, at(place.range), "{encoding:?} seed {seed}");
                        let related: Vec<Range> = place.related.iter().map(|r| r.1).collect();
                        let fresh: Vec<Range> = place.related.iter().map(|r| at(r.0)).collect();
                        assert_eq!(related, fresh, "{encoding:?} seed {seed}");
                        // As published: what serialising it afresh gives.
                        let (_, range, json) = published.next().expect("published");
                        assert_eq!(range, place.range);
                        let fresh = convert::diagnostic_at(&uri, d, at(place.range), fresh);
                        assert_eq!(
                            json.get(),
                            serde_json::to_string(&fresh).unwrap(),
                            "{encoding:?} seed {seed}"
                        );
                        compared += 1;
                        moved += usize::from(place.range != d.range);
                        // A related range moved while its diagnostic's stayed: its JSON too
                        // must be made again.
                        related_only += usize::from(
                            place.at == first_at(d.range)
                                && (place.related.iter().zip(&d.related))
                                    .any(|(p, r)| p.1 != first_at(r.range)),
                        );
                    }
                    assert!(published.next().is_none());
                    drop(published);
                    assert!(open.keep_places(places).is_none());
                }
            }
        }
        // Not vacuous: thousands compared, many of them after they moved.
        assert!(
            compared > 1000 && moved > 1000 && related_only > 100,
            "{compared} {moved} {related_only}"
        );
    }

    /// A document too large to parse gets no full analysis: its edits are kept only until its
    /// next outline pass, not for ever.
    #[test]
    fn a_document_too_large_to_parse_keeps_the_edits_since_its_outline_pass_only() {
        let line = "Some text in a paragraph.\n";
        let text = format!(
            "# T\n\n{}",
            line.repeat(crate::analysis::document::MAX_PARSED_BYTES / line.len() + 1)
        );
        let mut open = OpenDocument::new(&text, 1);
        assert!(open.doc.is_too_large());
        open.outline = Some(Arc::new(job(&open, Pass::Outline).run()));
        for version in 2..=4 {
            let edit = Edit::apply(
                &mut open.doc,
                version,
                Some(TextRange::empty(10)),
                "x",
                Encoding::Utf16,
                open.edits.last(),
            );
            open.edits.push(edit);
            open.new_version(version);
        }
        assert_eq!(open.edits.len(), 3);
        let made = Arc::new(job(&open, Pass::Outline).run());
        assert!(open.adopt_outline(made).is_some());
        assert!(open.edits.is_empty());
    }

    /// An edit right after a plain edit on the same line does not read the line again (it is
    /// still plain), but one after any other edit does: a `|` typed makes the line one that
    /// blocks read (a table's row, as here above `---`).
    #[test]
    fn a_line_is_read_again_unless_the_last_edit_found_it_plain() {
        let mut doc = Document::new("# T\n\nSome text\n---\n");
        let at = |doc: &Document| TextRange::empty(doc.text().find("text").unwrap() + 4);
        let mut last: Option<Edit> = None;
        let mut typed = Vec::new();
        for text in ["x", "y", "|", "z", "w"] {
            let range = at(&doc);
            let edit = Edit::apply(
                &mut doc,
                2,
                Some(range),
                text,
                Encoding::Utf16,
                last.as_ref(),
            );
            typed.push((text, edit.plain_line));
            last = Some(edit);
        }
        assert_eq!(
            typed,
            [
                ("x", Some(2)),
                ("y", Some(2)),
                ("|", None),
                ("z", None),
                ("w", None)
            ]
        );
    }

    /// While the edits since the last outline pass keep its headings, its diagnostics carried
    /// through them are what a new outline pass publishes, in every encoding; any other edit
    /// (a line break, a heading's text, a character blocks read) makes a new pass run. Edits
    /// at the ends of random lines (headings among them) and at random places, on real
    /// documents with CRLF lines, emoji and CJK text.
    #[test]
    fn kept_outline_diagnostics_are_a_new_outline_pass() {
        let uri: Uri = "file:///review.md".parse().unwrap();
        let plain = ["x", "ab cd", "é", "中文", ".", ""];
        let other = ["\n", "#", "|", "\r\n", "😀", "## Goals\n", "-", "x\ny"];
        let (mut kept, mut made, mut compared) = (0, 0, 0);
        // And a first draft: every section is missing, at its end, where the author types.
        let draft = ("draft.md", "Notes on the project, with no heading yet");
        for (name, real) in crate::analysis::fixture::REAL_DOCUMENTS
            .into_iter()
            .chain([draft])
        {
            let text: String = real
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, line)| match i % 7 {
                    0 => line.replace('\n', "\r\n"),
                    1 if !line.starts_with(['#', '|', ' ', '<', '`']) => format!("中😀{line}"),
                    // Setext headings: typing in their text changes them.
                    _ if line.starts_with("## ") && i % 2 == 0 => {
                        format!("{}---\n", &line[3..])
                    }
                    _ => line.to_string(),
                })
                .collect();
            for (seed, encoding) in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32]
                .into_iter()
                .enumerate()
            {
                let mut random = crate::analysis::fixture::random_below(seed as u64 + 1);
                let mut open = OpenDocument::new(&text, 1);
                open.outline = Some(Arc::new(job(&open, Pass::Outline).run()));
                for version in 2..40 {
                    for _ in 0..1 + random(2) {
                        let (range, inserted) = if random(8) > 0 {
                            // At the end of a line, as an author types (or deletes).
                            let rope = open.doc.rope();
                            let mut line = random(rope.len_lines());
                            if random(2) == 0 {
                                // Most often in a paragraph.
                                while line + 1 < rope.len_lines()
                                    && !rope
                                        .line(line)
                                        .chars()
                                        .next()
                                        .is_some_and(char::is_alphabetic)
                                {
                                    line += 1;
                                }
                            }
                            let end = rope.line_to_byte(line) + rope.line(line).len_bytes()
                                - match rope.line(line).len_chars() {
                                    0 => 0,
                                    _ if rope.line(line).to_string().ends_with("\r\n") => 2,
                                    _ if rope.line(line).to_string().ends_with(['\n', '\r']) => 1,
                                    _ => 0,
                                };
                            let start = open.doc.floor_char_boundary(end.saturating_sub(random(2)));
                            (TextRange::new(start, end), plain[random(plain.len())])
                        } else {
                            let len = open.doc.len();
                            let start = open.doc.floor_char_boundary(random(len));
                            let end = open.doc.floor_char_boundary((start + random(4)).min(len));
                            (TextRange::new(start, end), other[random(other.len())])
                        };
                        let edit = Edit::apply(
                            &mut open.doc,
                            version,
                            Some(range),
                            inserted,
                            encoding,
                            open.edits.last(),
                        );
                        open.edits.push(edit);
                    }
                    open.new_version(version);
                    let fresh =
                        job(&OpenDocument::new(&open.doc.text(), version), Pass::Outline).run();
                    let carried = open.carried(Source::Outline).expect("an outline pass");
                    let Some(mut places) = carried.kept_outline(encoding) else {
                        open.outline = Some(Arc::new(fresh));
                        open.forget_old_edits();
                        made += 1;
                        continue;
                    };
                    places.serialise(&uri);
                    let index = LineIndex::new(open.doc.rope());
                    let expected: Vec<String> = fresh
                        .analysis
                        .diagnostics
                        .iter()
                        .map(|d| {
                            serde_json::to_string(&convert::diagnostic(&index, &uri, d, encoding))
                                .unwrap()
                        })
                        .collect();
                    let published: Vec<&str> =
                        places.published().map(|(_, _, json)| json.get()).collect();
                    assert_eq!(published, expected, "{name} {encoding:?} version {version}");
                    compared += expected.len();
                    kept += 1;
                    assert!(open.keep_places(places).is_none());
                }
            }
        }
        // Not vacuous: both ways taken often, and diagnostics compared.
        assert!(
            kept > 100 && made > 100 && compared > 300,
            "{kept} {made} {compared}"
        );
    }
}
