//! The document model: text in a rope and the Markdown *block* syntax tree, kept in step.
//!
//! Each edit is applied to the rope and, as a tree-sitter [`InputEdit`], to the kept block tree,
//! which is then re-parsed incrementally. The inline grammar is never run over the whole
//! document here (see `../shared/docs/design-notes.md`, section 1): `markdown.rs` parses inline
//! content only where the analysis needs it.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, OnceLock};

use ropey::Rope;
use tree_sitter::{InputEdit, ParseOptions, ParseState, Parser, Point, Tree};

use super::edit_log::{EditLog, Revision};
use super::text::{TextChange, TextRange};

/// One open document.
///
/// An edit does not re-parse: it edits the last tree to match the text, and the tree is
/// re-parsed from it when next asked for ([`tree`](Document::tree), [`snapshot`]
/// (Document::snapshot)), so a burst of edits costs one parse, not one each.
pub struct Document {
    rope: Rope,
    /// The tree of the current text, once parsed.
    tree: OnceLock<Tree>,
    /// After an edit, until `tree` is parsed: the last tree, edited to match the text.
    edited: Mutex<Option<Tree>>,
    /// Made on first need; a [`snapshot`](Document::snapshot) has none until it needs one.
    parser: Mutex<Option<Parser>>,
    /// The last edits (a snapshot gets a copy): see `edit_log.rs`.
    edits: EditLog,
}

/// Documents longer than this (2 MiB) are kept, so positions still convert, but not parsed
/// (only the outline pass, which scans lines, checks them): tree-sitter-md takes up to a
/// second per megabyte on a slow machine, its block tree takes tens of bytes per byte of
/// text, and the longest real review is about 100 KB. This bounds the work and memory of every
/// change and request.
pub const MAX_PARSED_BYTES: usize = 2 * 1024 * 1024;

/// A parser for the Markdown block grammar.
pub fn block_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_md::LANGUAGE.into())
        .expect("the bundled tree-sitter-md block grammar matches the tree-sitter version");
    parser
}

/// Parses the rope's text, reusing `old` (already edited) when given. Tree-sitter reads it
/// line by line through a [`ParserView`].
///
/// `None` when `cancelled()` turned true during the parse (tree-sitter asks every hundred or so
/// steps); the parser is then reset, ready for another text.
fn parse_rope(
    parser: &mut Parser,
    rope: &Rope,
    old: Option<&Tree>,
    cancelled: &dyn Fn() -> bool,
) -> Option<Tree> {
    parse_view(parser, rope, old, cancelled, true)
}

fn parse_view(
    parser: &mut Parser,
    rope: &Rope,
    old: Option<&Tree>,
    cancelled: &dyn Fn() -> bool,
    joins_words: bool,
) -> Option<Tree> {
    let text_too_large = rope.len_bytes() > MAX_PARSED_BYTES;
    let mut view = ParserView::new(rope);
    view.joins_words = joins_words;
    let mut read = |byte: usize, _: Point| match text_too_large {
        // Too large to check: the tree of an empty document.
        true => ViewChunk::Text(&[]),
        false => view.read(byte),
    };
    let mut progress = |_: &ParseState| match cancelled() {
        true => ControlFlow::Break(()),
        false => ControlFlow::Continue(()),
    };
    let options = ParseOptions::new().progress_callback(&mut progress);
    let old = old.filter(|_| !text_too_large);
    // Without a timeout tree-sitter returns a tree unless the callback cancelled.
    let tree = parser.parse_with_options(&mut read, old, Some(options));
    if tree.is_none() {
        parser.reset();
    }
    tree
}

/// The text as the parser reads it: the document's bytes, except on two kinds of lines where
/// some bytes are replaced by others of the same length, so every offset, and every node's
/// range, stays the document's:
///
/// - An *empty row* (a line of only `|` and blanks, with at least two `|`) gets one byte
///   replaced so the row has a non-empty cell: the first blank becomes `x`, or, with no blank,
///   the first `|` does. This works around a tree-sitter-md 0.5.4 bug: such a row (as the
///   template's Metadata table ends) after a filled row, or a `|||` header row, turns the rest
///   of the document into one `ERROR` node, losing every heading after it.
/// - In other lines, words are joined ([`join_words`]): the block grammar makes a token of
///   every word and every space, and the tree holds them all, about 40 bytes of tree per byte
///   of prose. Joined, the server's peak memory at 10k lines went from 44 to 32 MB and its full
///   analysis from 165 to 117 ms; which blocks there are and where they lie does not change (a
///   property test checks it).
///
/// A line's view depends on that line alone, which is why [`Document::apply_change`] reports
/// whole lines as edited.
struct ParserView<'a> {
    rope: &'a Rope,
    /// Off only in tests, which compare the trees with and without.
    joins_words: bool,
    /// The last line read: the parser reads a long line in many calls.
    line: Option<ViewedLine>,
}

/// A line's start and end offsets, and its view when that differs from the text.
#[derive(Clone)]
struct ViewedLine {
    start: usize,
    end: usize,
    changed: Option<Arc<[u8]>>,
}

/// What one read returns: text borrowed from the rope, or the rest of a changed line.
enum ViewChunk<'a> {
    Text(&'a [u8]),
    Line(Arc<[u8]>, usize),
}

impl AsRef<[u8]> for ViewChunk<'_> {
    fn as_ref(&self) -> &[u8] {
        match self {
            ViewChunk::Text(text) => text,
            ViewChunk::Line(line, from) => &line[*from..],
        }
    }
}

impl<'a> ParserView<'a> {
    fn new(rope: &'a Rope) -> Self {
        ParserView {
            rope,
            joins_words: true,
            line: None,
        }
    }

    /// The view from `byte` to the end of its line at most.
    fn read(&mut self, byte: usize) -> ViewChunk<'a> {
        let rope = self.rope;
        if byte >= rope.len_bytes() {
            return ViewChunk::Text(&[]);
        }
        let line = match &self.line {
            Some(line) if (line.start..line.end).contains(&byte) => line.clone(),
            _ => {
                let line = rope.byte_to_line(byte);
                let start = rope.line_to_byte(line);
                let end = rope.line_to_byte(line + 1);
                // Borrowed when the line lies in one chunk, as almost every line does.
                let (chunk, chunk_start, _, _) = rope.chunk_at_byte(start);
                let bytes: Cow<[u8]> = match chunk_start + chunk.len() >= end {
                    true => {
                        Cow::Borrowed(&chunk.as_bytes()[start - chunk_start..end - chunk_start])
                    }
                    false => Cow::Owned(rope.byte_slice(start..end).bytes().collect()),
                };
                let line = ViewedLine {
                    start,
                    end,
                    changed: line_view(&bytes, self.joins_words).map(Into::into),
                };
                self.line = Some(line.clone());
                line
            }
        };
        let ViewedLine {
            start,
            end,
            changed,
        } = line;
        match changed {
            Some(line) => ViewChunk::Line(line, byte - start),
            None => {
                let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
                let chunk_end = (chunk_start + chunk.len()).min(end);
                ViewChunk::Text(&chunk.as_bytes()[byte - chunk_start..chunk_end - chunk_start])
            }
        }
    }
}

/// The parser's view of one line (its line break included) when it differs from the line
/// (see [`ParserView`]).
fn line_view(line: &[u8], joins_words: bool) -> Option<Vec<u8>> {
    if let Some((at, replacement)) = empty_row_replacement(line.iter().copied()) {
        let mut view = line.to_vec();
        view[at] = replacement;
        return Some(view);
    }
    join_words(line).filter(|_| joins_words)
}

/// The line with the spaces between words replaced by `x`, from its second word on; `None`
/// when nothing is replaced.
///
/// Only a single ASCII space between two ASCII letters or digits is replaced, so no block
/// marker, punctuation, quote, bracket, tab or line break moves. What a line's blocks are is
/// decided by its start (container markers, the block it opens), kept up to and including the
/// first word after the markers and the blanks after it; by `|` (table cells), kept; and, in
/// three cases, by where its words end, which such lines keep whole:
/// - an HTML block of kind 1 ends at `</pre` (`script`, `style`) followed by a blank: lines
///   holding `</` are kept;
/// - a code fence's info string starts with its language: fence lines are kept;
/// - a link reference definition (`[label]: destination 'title'`) is one only when its
///   destination is one word followed by a quoted title or nothing: lines holding `]:` are
///   kept, and a destination on the next line is that line's first word, kept.
fn join_words(line: &[u8]) -> Option<Vec<u8>> {
    let has = |needle: &[u8]| line.windows(2).any(|w| w == needle);
    if has(b"]:") || has(b"</") {
        return None;
    }
    let markers = line
        .iter()
        .take_while(|b| {
            matches!(
                b,
                b' ' | b'\t' | b'>' | b'-' | b'*' | b'+' | b'.' | b')' | b'0'..=b'9'
            )
        })
        .count();
    // A fence's info string starts with its language, a node of its own.
    if matches!(line.get(markers), Some(b'`' | b'~')) {
        return None;
    }
    let first_word = markers
        + line[markers..]
            .iter()
            .take_while(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
    let from = first_word
        + line[first_word..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    let joinable = |i: usize| {
        line[i] == b' '
            && line[i - 1].is_ascii_alphanumeric()
            && line.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
    };
    let first = (from.max(1)..line.len()).find(|&i| joinable(i))?;
    let mut view = line.to_vec();
    for (i, byte) in view.iter_mut().enumerate().skip(first) {
        if joinable(i) {
            *byte = b'x';
        }
    }
    Some(view)
}

/// For an empty row (a line's bytes, its line break optional): the index in the line of the
/// byte to replace, and its replacement.
pub(crate) fn empty_row_replacement(line: impl IntoIterator<Item = u8>) -> Option<(usize, u8)> {
    let mut pipes = 0;
    let mut first_blank_after_pipe = None;
    let mut first_pipe = None;
    for (i, b) in line.into_iter().enumerate() {
        match b {
            b'|' => {
                pipes += 1;
                first_pipe.get_or_insert(i);
            }
            b' ' | b'\t' => {
                if pipes > 0 && first_blank_after_pipe.is_none() {
                    first_blank_after_pipe = Some(i);
                }
            }
            b'\n' | b'\r' => break,
            _ => return None,
        }
        if i > 256 {
            return None;
        }
    }
    if pipes < 2 {
        return None;
    }
    match first_blank_after_pipe {
        Some(i) => Some((i, b'x')),
        None => first_pipe.map(|i| (i, b'x')),
    }
}

impl Document {
    /// A document of `text`; it is parsed when its tree is first asked for.
    pub fn new(text: &str) -> Self {
        Self::from_rope(Rope::from_str(text), EditLog::default())
    }

    fn from_rope(rope: Rope, edits: EditLog) -> Self {
        Self {
            rope,
            tree: OnceLock::new(),
            edited: Mutex::new(None),
            parser: Mutex::new(None),
            edits,
        }
    }

    /// A copy of this version for analysis elsewhere, O(1): the rope and the tree share their
    /// storage with the original. An edit still pending is parsed by the copy, when it first
    /// needs its tree (on the analysis thread); [`adopt_tree`](Document::adopt_tree) hands
    /// that tree back.
    pub fn snapshot(&self) -> Document {
        let (tree, edited) = match self.tree.get() {
            Some(tree) => (OnceLock::from(tree.clone()), None),
            None => (OnceLock::new(), lock(&self.edited).clone()),
        };
        Document {
            rope: self.rope.clone(),
            tree,
            edited: Mutex::new(edited),
            parser: Mutex::new(None),
            edits: self.edits.clone(),
        }
    }

    /// A copy of this version's text only, O(1): what needs no tree (the outline pass) takes
    /// no copy of it. Its tree, if asked for, is parsed from scratch.
    pub fn text_snapshot(&self) -> Document {
        Document::from_rope(self.rope.clone(), self.edits.clone())
    }

    /// This version, for [`changed_since`](Self::changed_since) to compare with later.
    pub fn revision(&self) -> Revision {
        self.edits.revision()
    }

    /// What the edits since `since` changed, as one change (see [`EditLog::since`]); `None`
    /// when unknown: `since` is another document's, or older than the edits remembered.
    pub fn changed_since(&self, since: Revision) -> Option<TextChange> {
        self.edits.since(since)
    }

    /// Takes the tree a snapshot of this same version parsed, if this one has not parsed yet.
    /// The caller knows the text is the same (same version).
    pub fn adopt_tree(&mut self, from: &Document) {
        debug_assert_eq!(self.len(), from.len());
        if self.tree.get().is_none() {
            if let Some(tree) = from.tree.get() {
                self.tree = OnceLock::from(tree.clone());
                *lock(&self.edited) = None;
            }
        }
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    /// Drops the tree (the next [`tree`](Document::tree) parses from scratch): for a large
    /// document, holding tens of bytes of tree per byte of text between analyses costs more than
    /// re-parsing it.
    pub fn forget_tree(&mut self) {
        self.tree = OnceLock::new();
        *lock(&self.edited) = None;
    }

    /// The block tree of the current text; parsed now (incrementally) if an edit is pending.
    pub fn tree(&self) -> &Tree {
        self.tree_unless(&|| false)
            .expect("a parse that is never cancelled returns a tree")
    }

    /// [`tree`](Document::tree), unless `cancelled()` turns true while it parses: a full
    /// analysis that a newer version made useless gives its core back at once. The edited
    /// tree is kept for the next try.
    pub fn tree_unless(&self, cancelled: &dyn Fn() -> bool) -> Option<&Tree> {
        if let Some(tree) = self.tree.get() {
            return Some(tree);
        }
        let mut parser = lock(&self.parser);
        // Parsed by another thread while this one waited for the parser.
        if let Some(tree) = self.tree.get() {
            return Some(tree);
        }
        let parser = parser.get_or_insert_with(block_parser);
        let old = lock(&self.edited).take();
        match parse_rope(parser, &self.rope, old.as_ref(), cancelled) {
            Some(tree) => Some(self.tree.get_or_init(|| tree)),
            None => {
                *lock(&self.edited) = old;
                None
            }
        }
    }

    /// The last tree, to be edited: the parsed one, or the one already waiting with edits.
    fn take_tree_for_edit(&mut self) -> Option<Tree> {
        self.tree.take().or_else(|| lock(&self.edited).take())
    }

    pub fn len(&self) -> usize {
        self.rope.len_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.len_bytes() == 0
    }

    /// Longer than [`MAX_PARSED_BYTES`]: not parsed; only the outline pass checks it.
    pub fn is_too_large(&self) -> bool {
        self.rope.len_bytes() > MAX_PARSED_BYTES
    }

    /// The whole text (a copy).
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// The text of a byte range, clamped to the document and to char boundaries.
    pub fn slice(&self, range: TextRange) -> String {
        let mut out = String::with_capacity(range.len());
        for chunk in self.chunks_in(range) {
            out.push_str(chunk);
        }
        out
    }

    /// The text of a byte range (clamped as in [`slice`](Self::slice)) in pieces, found by
    /// byte offsets alone (a rope slice would also count chars and lines).
    fn chunks_in(&self, range: TextRange) -> impl Iterator<Item = &str> {
        let start = self.floor_char_boundary(range.start);
        let end = self.floor_char_boundary(range.end).max(start);
        let (chunks, mut chunk_start, _, _) = self.rope.chunks_at_byte(start);
        chunks.map_while(move |chunk| {
            if chunk_start >= end {
                return None;
            }
            let at = chunk_start;
            chunk_start += chunk.len();
            // Chunks are split at char boundaries, and so are `start` and `end`.
            Some(&chunk[start.saturating_sub(at)..(end - at).min(chunk.len())])
        })
    }

    /// The largest char boundary at or before `offset` (clamped to the document).
    pub fn floor_char_boundary(&self, offset: usize) -> usize {
        let offset = offset.min(self.rope.len_bytes());
        // Ropey splits chunks at char boundaries, so the chunk alone decides.
        let (chunk, chunk_start, _, _) = self.rope.chunk_at_byte(offset);
        let mut i = offset - chunk_start;
        while !chunk.is_char_boundary(i) {
            i -= 1;
        }
        chunk_start + i
    }

    /// True when the text of `range` (clamped as in [`slice`](Self::slice)) holds `byte`,
    /// found without copying the text.
    pub fn contains_byte(&self, range: TextRange, byte: u8) -> bool {
        self.chunks_in(range)
            .any(|chunk| chunk.as_bytes().contains(&byte))
    }

    /// The length of `range` without its trailing white space (as `str::trim_end` counts it),
    /// found without copying the text.
    pub fn trim_end_len(&self, range: TextRange) -> usize {
        let start = self.floor_char_boundary(range.start);
        let end = self.floor_char_boundary(range.end).max(start);
        let slice = self.rope.byte_slice(start..end);
        let mut chars = slice.chars_at(slice.len_chars());
        let mut len = end - start;
        while let Some(c) = chars.prev() {
            if !c.is_whitespace() {
                break;
            }
            len -= c.len_utf8();
        }
        len
    }

    /// Replaces `range` (clamped to the document and to char boundaries) with `new_text`, and
    /// edits the kept tree to match (re-parsed when next asked for). Returns the edit made.
    pub fn apply_change(&mut self, range: TextRange, new_text: &str) -> TextChange {
        let start = self.floor_char_boundary(range.start);
        let old_end = self.floor_char_boundary(range.end).max(start);
        let change = TextChange {
            start,
            old_end,
            new_end: start + new_text.len(),
        };
        if self.is_too_large() || self.len() - (old_end - start) + new_text.len() > MAX_PARSED_BYTES
        {
            self.apply_change_unparsed(start, old_end, new_text);
            self.edits.record(change);
            return change;
        }
        // The parser sees each line through a view that depends on the whole line (see
        // `ParserView`), so tree-sitter is told that the edited lines changed as a whole, and
        // re-reads them.
        let first = self.rope.byte_to_line(start);
        let last = self.rope.byte_to_line(old_end);
        let edit_start = self.rope.line_to_byte(first);
        let edit_old_end = self.rope.line_to_byte(last + 1).max(old_end);
        let start_position = self.point(edit_start);
        let old_end_position = self.point(edit_old_end);

        let start_char = self.rope.byte_to_char(start);
        let old_end_char = self.rope.byte_to_char(old_end);
        self.rope.remove(start_char..old_end_char);
        self.rope.insert(start_char, new_text);
        let edit_new_end = edit_old_end + new_text.len() - (old_end - start);

        let edit = InputEdit {
            start_byte: edit_start,
            old_end_byte: edit_old_end,
            new_end_byte: edit_new_end,
            start_position,
            old_end_position,
            new_end_position: self.point(edit_new_end),
        };
        // Parsed when next asked for (see the type's comment).
        let mut tree = self.take_tree_for_edit();
        if let Some(tree) = &mut tree {
            tree.edit(&edit);
        }
        *lock(&self.edited) = tree;
        self.edits.record(change);
        change
    }

    /// [`apply_change`](Self::apply_change) when the document is or becomes too large to
    /// parse: the tree is made from scratch when next asked for (empty while too large, the
    /// whole document again when it shrinks back under the limit).
    fn apply_change_unparsed(&mut self, start: usize, old_end: usize, new_text: &str) {
        let start_char = self.rope.byte_to_char(start);
        let old_end_char = self.rope.byte_to_char(old_end);
        self.rope.remove(start_char..old_end_char);
        self.rope.insert(start_char, new_text);
        self.forget_tree();
    }

    /// Replaces the whole text (full-document sync); the tree is parsed from scratch when next
    /// asked for. Returns the edit made.
    pub fn replace_all(&mut self, text: &str) -> TextChange {
        let old_end = self.len();
        self.rope = Rope::from_str(text);
        self.forget_tree();
        let change = TextChange {
            start: 0,
            old_end,
            new_end: self.len(),
        };
        self.edits.record(change);
        change
    }

    /// A fresh parse of the current text, for tests that compare it with the kept tree.
    pub fn parse_from_scratch(&self) -> Tree {
        parse_rope(&mut block_parser(), &self.rope, None, &|| false)
            .expect("a parse that is never cancelled returns a tree")
    }

    /// The tree-sitter point of a byte offset, for the `InputEdit`. Tree-sitter counts columns
    /// in bytes from the last `\n`, so a line that a lone `\r` started (an LSP line break, not a
    /// tree-sitter one) belongs to the row before it. Points only label nodes (tree-sitter-md's
    /// scanner does not read columns, and re-parsing is driven by byte offsets); rows are the
    /// rope's line numbers, which differ from tree-sitter's only after a lone `\r`.
    fn point(&self, offset: usize) -> Point {
        let rope = &self.rope;
        let mut line = rope.byte_to_line(offset);
        let mut line_start = rope.line_to_byte(line);
        while line > 0 && rope.byte(line_start - 1) == b'\r' {
            line -= 1;
            line_start = rope.line_to_byte(line);
        }
        Point {
            row: line,
            column: offset - line_start,
        }
    }
}

/// Locks a document's own state; a panic elsewhere while it was held does not spoil it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Kind and byte range of every node, in pre-order, for comparing two trees.
pub fn tree_shape(tree: &Tree) -> Vec<(&'static str, usize, usize)> {
    nodes(tree, |_| true)
}

/// The nodes of a tree that `keep` keeps, in document order, with their ranges.
fn nodes(
    tree: &Tree,
    keep: impl Fn(&tree_sitter::Node) -> bool,
) -> Vec<(&'static str, usize, usize)> {
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        if keep(&node) {
            out.push((node.kind(), node.start_byte(), node.end_byte()));
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Blocks = Vec<(&'static str, usize, usize)>;

    /// The named nodes of a tree, with their ranges: what joining words must not change.
    fn blocks(tree: &Tree) -> Blocks {
        nodes(tree, |node| node.is_named())
    }

    /// The blocks of `text` parsed with and without joined words.
    fn blocks_both_ways(text: &str) -> (Blocks, Blocks) {
        let rope = Rope::from_str(text);
        let parse = |joins| parse_view(&mut block_parser(), &rope, None, &|| false, joins).unwrap();
        (blocks(&parse(true)), blocks(&parse(false)))
    }

    #[test]
    fn joined_words_change_no_block_of_the_corpus() {
        let others = [
            (
                "ATTRIBUTION.md",
                include_str!("../../../grammars/ATTRIBUTION.md"),
            ),
            (
                "joint-assessment.md",
                include_str!("../../../grammars/joint-assessment.md"),
            ),
            (
                "joint-review.md",
                include_str!("../../../grammars/joint-review.md"),
            ),
            (
                "self-assessment.md",
                include_str!("../../../grammars/self-assessment.md"),
            ),
            (
                "usecase-personas.md",
                include_str!("../../../grammars/usecase-personas.md"),
            ),
            (
                "sample",
                include_str!("../../../examples/sample-joint-review.md"),
            ),
        ];
        let files = crate::analysis::fixture::REAL_DOCUMENTS
            .into_iter()
            .chain(others);
        for (name, text) in files {
            let (joined, plain) = blocks_both_ways(text);
            assert_eq!(joined, plain, "{name}");
        }
    }

    /// Lines of every block kind, most with several words, to join or not.
    const LINES: &[&str] = &[
        "Some prose with several words",
        "more words on a line",
        "",
        "# Heading with words #",
        "## Goals and non goals",
        "===",
        "---",
        "- list item with words",
        "1. ordered item one two",
        "  continued item text here",
        "- [ ] task to do now",
        "> quoted text with words",
        "> > deep quote two three",
        "    indented code with words",
        "```",
        "``` lang info words",
        "~~~",
        "[foo]:",
        "[foo]: /url",
        "[foo]: /url 'title words'",
        "[foo bar]: /u",
        "url some words",
        "'a title with words'",
        "\"title two three\"",
        "(title four five)",
        "<div>",
        "<pre>",
        "text </pre b c",
        "</pre>",
        "<!-- comment words",
        "words end -->",
        "<?php a b c",
        "a b ?>",
        "| a b | c d |",
        "| --- | --- |",
        "a b | c d",
        "| | |",
        "   three spaces words here",
        "\ttab then words here",
        "word\tword two three",
        "10 20 30 40",
        "2. two three four",
        "+++",
        "Line with trailing spaces  ",
        "* * *",
        "a b",
    ];

    fn document() -> impl Strategy<Value = String> {
        let line = (
            proptest::sample::select(LINES),
            proptest::sample::select(&["\n", "\n", "\n", "\r\n", "\r"][..]),
        );
        prop::collection::vec(line, 0..24).prop_map(|lines| {
            lines
                .into_iter()
                .fold(String::new(), |mut text, (line, brk)| {
                    text.push_str(line);
                    // Not `||` ended by a lone CR: tree-sitter-md errs on it either way.
                    text.push_str(if line.contains("||") { "\n" } else { brk });
                    text
                })
        })
    }

    proptest! {
        #![proptest_config(crate::analysis::fixture::proptest_config(512))]
        /// Joining words changes no block (named node or range) of any document.
        #[test]
        fn joined_words_change_no_block(text in document()) {
            let (joined, plain) = blocks_both_ways(&text);
            prop_assert_eq!(joined, plain, "{:?}", text);
        }
    }

    #[test]
    fn lines_whose_word_ends_matter_are_not_joined() {
        assert_eq!(
            join_words(b"Some prose, with words here.\n").unwrap(),
            b"Some prose, withxwordsxhere.\n"
        );
        assert_eq!(
            join_words(b"> - item one two\n").unwrap(),
            b"> - item onextwo\n"
        );
        // A destination after a label, a kind 1 HTML block's end, a first word, tabs.
        for kept in [
            "[a]: url b c\n",
            "text </pre x y\n",
            "url title\n",
            "a\tb\tc\n",
        ] {
            assert_eq!(join_words(kept.as_bytes()), None, "{kept:?}");
        }
        for (text, why) in [
            (
                "[foo]:\nurl some words\n\n===\n",
                "a destination on the next line",
            ),
            ("[foo]: /url\n'a title b c'\n", "a title on the next line"),
            (
                "<pre>\ntext </pre b c\n# Heading\n",
                "the end of an HTML block",
            ),
            ("a b c | d e f\n--- | ---\ng h i | j\n", "a table"),
            ("- [ ] to do this now\n- [x] done it\n", "task list markers"),
        ] {
            let (joined, plain) = blocks_both_ways(text);
            assert_eq!(joined, plain, "{why}");
        }
    }

    /// Several edits applied before the tree is asked for (a burst) parse to the tree a fresh
    /// parse gives.
    #[test]
    fn edits_parsed_together() {
        let mut doc = Document::new(include_str!(
            "../../../tests/corpus/real/openfga-joint-assessment.md"
        ));
        let snippets = [
            "x",
            "\n",
            "## H\n",
            "```\n",
            "| a |\n| - |\n",
            "| | |\n",
            "- i\n",
            "\r\n",
        ];
        let mut next = crate::analysis::fixture::random_below(0x853c_49e6_748f_ea9b);
        for round in 0..20 {
            for _ in 0..1 + next(8) {
                let at = doc.floor_char_boundary(next(doc.len() + 1));
                let end = doc.floor_char_boundary(at + next(3) * next(30));
                doc.apply_change(TextRange::new(at, end), snippets[next(snippets.len())]);
            }
            let snapshot = doc.snapshot();
            assert_eq!(
                tree_shape(snapshot.tree()),
                tree_shape(&doc.parse_from_scratch()),
                "round {round}"
            );
            assert_eq!(tree_shape(doc.tree()), tree_shape(snapshot.tree()));
        }
    }

    #[test]
    fn a_cancelled_parse_keeps_the_edited_tree_for_the_next() {
        let real = include_str!("../../../tests/corpus/real/openfga-joint-assessment.md");
        let mut doc = Document::new(real);
        doc.tree();
        let at = real.find("## Overview").unwrap();
        doc.apply_change(TextRange::empty(at), "Some text.\n\n");
        let asked = std::cell::Cell::new(0);
        let cancelled = || {
            asked.set(asked.get() + 1);
            true
        };
        assert!(doc.tree_unless(&cancelled).is_none());
        assert!(asked.get() > 0);
        // Not parsed, and the edited tree is still there: the next parse is incremental and
        // gives the same tree as a fresh one.
        assert!(doc.tree.get().is_none());
        assert!(lock(&doc.edited).is_some());
        let tree = doc.tree_unless(&|| false).unwrap();
        assert_eq!(
            tree.root_node().to_sexp(),
            doc.parse_from_scratch().root_node().to_sexp()
        );
    }

    /// The rope-walking helpers agree with the same questions asked of a `String`.
    #[test]
    fn text_helpers_match_str() {
        let text = "a é😀\u{a0} \r\n中 #x\u{2003}\n\n";
        let doc = Document::new(text);
        for start in 0..=text.len() + 2 {
            let floor = |o: usize| {
                let mut o = o.min(text.len());
                while !text.is_char_boundary(o) {
                    o -= 1;
                }
                o
            };
            assert_eq!(doc.floor_char_boundary(start), floor(start), "{start}");
            for end in start..=text.len() + 2 {
                let range = TextRange::new(start, end);
                let s = doc.slice(range);
                assert_eq!(
                    doc.trim_end_len(range),
                    s.trim_end().len(),
                    "{start}..{end}"
                );
                assert_eq!(
                    doc.contains_byte(range, b'#'),
                    s.contains('#'),
                    "{start}..{end}"
                );
            }
        }
    }
}
