//! The document model: text in a rope and the Markdown *block* syntax tree, kept in step.
//!
//! Each edit is applied to the rope and, as a tree-sitter [`InputEdit`], to the kept block tree,
//! which is then re-parsed incrementally. The inline grammar is never run over the whole
//! document here (see `../shared/docs/design-notes.md`, section 1): `markdown.rs` parses inline
//! content only where the analysis needs it.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::{Mutex, OnceLock};

use ropey::Rope;
use tree_sitter::{InputEdit, ParseOptions, ParseState, Parser, Point, Tree};

use super::text::TextRange;

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
}

/// Documents longer than this (2 MiB) are kept, so positions still convert, but not parsed
/// (only the outline pass, which scans lines, checks them): tree-sitter-md takes up to a
/// second per megabyte on a slow machine, its block tree takes about 40 bytes per byte of
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

/// Parses the rope's text, reusing `old` (already edited) when given.
///
/// Tree-sitter reads the text through [`parser_view`], which works around a tree-sitter-md
/// 0.5.4 bug: a table row whose cells are all empty (`| | |`, as the template's Metadata
/// table ends) after a filled row, or a `|||` header row, turns the rest of the document into
/// one `ERROR` node, losing every heading after it.
///
/// `None` when `cancelled()` turned true during the parse (tree-sitter asks every hundred or so
/// steps); the parser is then reset, ready for another text.
fn parse_rope(
    parser: &mut Parser,
    rope: &Rope,
    old: Option<&Tree>,
    cancelled: &dyn Fn() -> bool,
) -> Option<Tree> {
    let text_too_large = rope.len_bytes() > MAX_PARSED_BYTES;
    let mut read = |byte: usize, _: Point| match text_too_large {
        // Too large to check: the tree of an empty document.
        true => Cow::Borrowed(&[][..]),
        false => parser_view(rope, byte),
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

/// The bytes the parser sees from `byte` on. They are the document's bytes except on
/// "empty rows" (lines of only `|` and blanks, with at least two `|`), where one byte is
/// replaced so the row has a non-empty cell: the first blank becomes `x`, or, with no blank,
/// the first `|` becomes `x`. Offsets do not move, so the tree's ranges are the document's.
fn parser_view(rope: &Rope, byte: usize) -> Cow<'_, [u8]> {
    if byte >= rope.len_bytes() {
        return Cow::Borrowed(&[]);
    }
    let line = rope.byte_to_line(byte);
    let line_start = rope.line_to_byte(line);
    if let Some(fixed) = empty_row_replacement(rope.line(line).bytes()) {
        let mut bytes: Vec<u8> = rope.line(line).bytes().collect();
        bytes[fixed.0] = fixed.1;
        return Cow::Owned(bytes.split_off(byte - line_start));
    }
    let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
    let rest = &chunk.as_bytes()[byte - chunk_start..];
    // Stop before the next line that could be an empty row; the next call handles it.
    let mut end = rest.len();
    let mut pos = 0;
    while let Some(nl) = rest[pos..].iter().position(|&b| b == b'\n' || b == b'\r') {
        let next = pos + nl + 1;
        if next < rest.len() && may_start_empty_row(&rest[next..]) {
            end = next;
            break;
        }
        pos = next;
    }
    Cow::Borrowed(&rest[..end])
}

/// True when these bytes (the start of a line, possibly cut by a chunk boundary) could begin
/// an empty row.
fn may_start_empty_row(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .take_while(|&&b| b != b'\n' && b != b'\r')
        .all(|&b| matches!(b, b'|' | b' ' | b'\t'))
        && bytes
            .iter()
            .take_while(|&&b| b != b'\n' && b != b'\r')
            .any(|&b| b == b'|')
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

/// True when the line holding `offset` is an empty row (see [`parser_view`]).
fn is_empty_row_at(rope: &Rope, offset: usize) -> bool {
    let line = rope.byte_to_line(offset.min(rope.len_bytes()));
    empty_row_replacement(rope.line(line).bytes()).is_some()
}

impl Document {
    /// A document of `text`; it is parsed when its tree is first asked for.
    pub fn new(text: &str) -> Self {
        Self::from_rope(Rope::from_str(text))
    }

    fn from_rope(rope: Rope) -> Self {
        Self {
            rope,
            tree: OnceLock::new(),
            edited: Mutex::new(None),
            parser: Mutex::new(None),
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
        }
    }

    /// A copy of this version's text only, O(1): what needs no tree (the outline pass) takes
    /// no copy of it. Its tree, if asked for, is parsed from scratch.
    pub fn text_snapshot(&self) -> Document {
        Document::from_rope(self.rope.clone())
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
    /// document, holding ~40 bytes of tree per byte of text between analyses costs more than
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
    /// re-parses incrementally. Returns the edit given to tree-sitter.
    pub fn apply_change(&mut self, range: TextRange, new_text: &str) -> InputEdit {
        let start = self.floor_char_boundary(range.start);
        let old_end = self.floor_char_boundary(range.end).max(start);
        if self.is_too_large() || self.len() - (old_end - start) + new_text.len() > MAX_PARSED_BYTES
        {
            return self.apply_change_unparsed(start, old_end, new_text);
        }
        // An empty row is seen by the parser with one byte changed (see `parser_view`); when an
        // edit makes or unmakes one, the whole line is reported as edited so the parser
        // re-reads the changed view. Widening is always allowed: an edit may claim more.
        let touches_empty_row = |rope: &Rope, from: usize, to: usize| {
            is_empty_row_at(rope, from) || is_empty_row_at(rope, to)
        };
        let widen = touches_empty_row(&self.rope, start, old_end) || {
            let mut probe = self.rope.clone();
            let c = probe.byte_to_char(start);
            probe.remove(c..probe.byte_to_char(old_end));
            probe.insert(c, new_text);
            touches_empty_row(&probe, start, start + new_text.len())
        };
        let (edit_start, edit_old_end) = if widen {
            let first = self.rope.byte_to_line(start);
            let last = self.rope.byte_to_line(old_end);
            let end_line = (last + 1).min(self.rope.len_lines());
            (
                self.rope.line_to_byte(first),
                self.rope.line_to_byte(end_line).max(old_end),
            )
        } else {
            (start, old_end)
        };
        let start_position = self.point(edit_start);
        let old_end_position = self.point(edit_old_end);

        let start_char = self.rope.byte_to_char(start);
        let old_end_char = self.rope.byte_to_char(old_end);
        self.rope.remove(start_char..old_end_char);
        self.rope.insert(start_char, new_text);
        let new_end = edit_old_end + start + new_text.len() - old_end;
        let start = edit_start;
        let old_end = edit_old_end;

        let edit = InputEdit {
            start_byte: start,
            old_end_byte: old_end,
            new_end_byte: new_end,
            start_position,
            old_end_position,
            new_end_position: self.point(new_end),
        };
        // Parsed when next asked for (see the type's comment).
        let mut tree = self.take_tree_for_edit();
        if let Some(tree) = &mut tree {
            tree.edit(&edit);
        }
        *lock(&self.edited) = tree;
        edit
    }

    /// [`apply_change`](Self::apply_change) when the document is or becomes too large to
    /// parse: the tree is made from scratch when next asked for (empty while too large, the
    /// whole document again when it shrinks back under the limit).
    fn apply_change_unparsed(&mut self, start: usize, old_end: usize, new_text: &str) -> InputEdit {
        let start_position = self.point(start);
        let old_end_position = self.point(old_end);
        let start_char = self.rope.byte_to_char(start);
        let old_end_char = self.rope.byte_to_char(old_end);
        self.rope.remove(start_char..old_end_char);
        self.rope.insert(start_char, new_text);
        let new_end = start + new_text.len();
        self.tree = OnceLock::new();
        *lock(&self.edited) = None;
        InputEdit {
            start_byte: start,
            old_end_byte: old_end,
            new_end_byte: new_end,
            start_position,
            old_end_position,
            new_end_position: self.point(new_end),
        }
    }

    /// Replaces the whole text (full-document sync); the tree is parsed from scratch when next
    /// asked for.
    pub fn replace_all(&mut self, text: &str) {
        self.rope = Rope::from_str(text);
        self.tree = OnceLock::new();
        *lock(&self.edited) = None;
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
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        out.push((node.kind(), node.start_byte(), node.end_byte()));
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
        let mut seed: u64 = 0x853c_49e6_748f_ea9b;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
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

    /// The rope-walking helpers agree with the same questions asked of a `String`.
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
