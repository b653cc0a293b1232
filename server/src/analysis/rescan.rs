//! The outline pass's headings for a new version, reusing the last version's when the edit
//! between them cannot change any heading.
//!
//! Typing in a paragraph is most of what an author does, and such a keystroke changes no
//! heading; the only work left is finding the edit (the document's edit log tells, see
//! `edit_log.rs`; else the two texts are compared from both ends) and moving the later
//! headings by its length. Any other edit is scanned again from the last state the scan kept
//! before it ([`line_scan::rescan`]), or from the start when there is none. "Cannot change" is
//! judged conservatively:
//! - the edit (the bytes that differ) lies within one line, does not split a CRLF, and neither
//!   removes nor inserts a line break or a character that Markdown's block structure or an
//!   HTML block's end reads (only letters, digits, spaces and `,.;:!?'"()` pass);
//! - the line starts (after blanks) with a letter, before the edit: so it is not, and does not
//!   become, a heading, fence, list item, quote, table delimiter, thematic break or blank line;
//! - the line is not part of a heading (a setext heading's text, an empty heading's bold title);
//! - no `<` or `>` lies within 12 bytes of the edit: an HTML block's end that the edit makes or
//!   unmakes (`</pre`, `-->`, `?>`, `]]>`: 11 bytes at most) has one of them;
//! - the line has no `|` when the next line may be a table's delimiter row (it starts with
//!   neither a letter nor a digit): typing after a header row's trailing pipe adds a cell, and
//!   a header with other cells than its delimiter row is no table.
//!
//! A property test checks the result against a fresh scan. The server judges each edit by the
//! same rules when it applies it ([`plain_line_edit`], [`on_heading_line`]), so that typing in
//! a paragraph needs no outline pass at all.

use ropey::Rope;

use super::document::Document;
use super::edit_log::Revision;
use super::line_scan::{self, Resume, CHECKPOINT_SPACING};
use super::markdown::{Heading, InlineCache};
use super::text::{TextChange, TextRange};

/// The text and headings of the last version scanned, and where a scan of it can resume.
pub(crate) struct LastScan {
    rope: Rope,
    /// Which version `rope` is, for the document's edit log to say what changed since.
    revision: Revision,
    headings: Vec<Heading>,
    resume: Resume,
}

/// The headings of `doc`, as [`line_scan::headings`] finds them.
pub fn headings(doc: &Document, cache: &mut InlineCache) -> Vec<Heading> {
    headings_spaced(doc, cache, CHECKPOINT_SPACING)
}

/// [`headings`], the scan keeping states `spacing` bytes apart to resume from.
pub(crate) fn headings_spaced(
    doc: &Document,
    cache: &mut InlineCache,
    spacing: usize,
) -> Vec<Heading> {
    let (headings, resume) = match cache.last_scan.take() {
        Some(last) => again(last, doc, cache, spacing),
        None => line_scan::resumable_headings(doc, cache, Some(spacing)),
    };
    cache.last_scan = Some(LastScan {
        rope: doc.rope().clone(),
        revision: doc.revision(),
        headings: headings.clone(),
        resume,
    });
    headings
}

/// The headings of `doc`, after `last`: its headings moved when the edit between them cannot
/// change any (see the module comment), else the lines around the edit scanned again
/// ([`line_scan::rescan`]), else the whole document.
fn again(
    mut last: LastScan,
    doc: &Document,
    cache: &mut InlineCache,
    spacing: usize,
) -> (Vec<Heading>, Resume) {
    // The document's edit log says what changed, if it goes back far enough; else the texts
    // are compared.
    let edit = match doc.changed_since(last.revision) {
        Some(edit) if edit.start == edit.old_end && edit.old_end == edit.new_end => None,
        Some(edit) => Some(edit),
        None => edit_between(&last.rope, doc.rope()),
    };
    let Some(edit) = edit else {
        return (last.headings, last.resume);
    };
    if let Some(headings) = reuse(&last, doc.rope(), edit) {
        last.resume.moved(edit);
        return (headings, last.resume);
    }
    let (headings, resume) = (&mut last.headings, &mut last.resume);
    if line_scan::rescan(doc, cache, headings, resume, edit, spacing) {
        return (last.headings, last.resume);
    }
    line_scan::resumable_headings(doc, cache, Some(spacing))
}

/// The bytes that differ between `old` and `new`, in whole characters; `None` when the texts
/// are the same.
fn edit_between(old: &Rope, new: &Rope) -> Option<TextChange> {
    let (old_len, new_len) = (old.len_bytes(), new.len_bytes());
    let prefix = common_prefix(old, new);
    if prefix == old_len && prefix == new_len {
        return None;
    }
    let suffix = common_suffix(old, new).min(old_len.min(new_len) - prefix);
    // Whole characters: equal bytes may end inside a character that differs.
    let start = floor_boundary(old, prefix);
    let old_end = ceil_boundary(old, old_len - suffix);
    Some(TextChange {
        start,
        old_end,
        new_end: new_len - (old_len - old_end),
    })
}

/// The last headings moved to `new`, when `edit` from the last text to `new` cannot change
/// them (see the module comment).
fn reuse(last: &LastScan, new: &Rope, edit: TextChange) -> Option<Vec<Heading>> {
    let old = &last.rope;
    let TextChange {
        start,
        old_end,
        new_end,
    } = edit;
    let line = plain_line_edit_of(
        old,
        TextRange::new(start, old_end),
        new.byte_slice(start..new_end).chars(),
        None,
    )?;
    if on_heading_line(old, &last.headings, line) {
        return None;
    }
    // The end of the text (where the last sections end) stays the end.
    let (old_len, new_len) = (old.len_bytes(), new.len_bytes());
    let moved = |at: usize| match at {
        _ if at == old_len => new_len,
        _ => edit.moved(at),
    };
    let range = |r: TextRange| TextRange::new(moved(r.start), moved(r.end));
    Some(
        last.headings
            .iter()
            .map(|h| Heading {
                range: range(h.range),
                content: range(h.content),
                section: range(h.section),
                bold_line_title: h.bold_line_title.map(range),
                ..h.clone()
            })
            .collect(),
    )
}

/// The line of an edit to `old` (`replaced` becomes `inserted`) that changes no heading,
/// unless the line is part of one ([`on_heading_line`] tells): an edit of plain text within a
/// line that starts with a letter, as the module comment says; `None` for any other edit.
/// Reads the edit and its line only; not even the line when it is `known_plain`, the line the
/// edit before this one found so (a plain edit adds no character that blocks read, so typing
/// on along a 1 MB line does not read it at each keystroke).
pub fn plain_line_edit(
    old: &Rope,
    replaced: TextRange,
    inserted: &str,
    known_plain: Option<usize>,
) -> Option<usize> {
    let whole_characters = replaced.start <= replaced.end
        && replaced.end <= old.len_bytes()
        && is_boundary(old, replaced.start)
        && is_boundary(old, replaced.end);
    if !whole_characters {
        return None;
    }
    plain_line_edit_of(old, replaced, inserted.chars(), known_plain)
}

fn plain_line_edit_of(
    old: &Rope,
    replaced: TextRange,
    mut inserted: impl Iterator<Item = char>,
    known_plain: Option<usize>,
) -> Option<usize> {
    let plain = |c: char| {
        c.is_alphanumeric()
            || matches!(
                c,
                ' ' | ',' | '.' | ';' | ':' | '!' | '?' | '\'' | '"' | '(' | ')'
            )
    };
    let start = replaced.start;
    if !old.byte_slice(start..replaced.end).chars().all(plain) || !inserted.all(plain) {
        return None;
    }
    // Text typed between a CR and its LF splits one line break into two.
    if start > 0 && old.byte(start - 1) == b'\r' {
        return None;
    }
    // The line's first non-blank character: a letter, before the edit.
    let line = old.byte_to_line(start);
    let line_start = old.line_to_byte(line);
    let first = old
        .byte_slice(line_start..start)
        .chars()
        .find(|c| !matches!(c, ' ' | '\t'))?;
    if !first.is_alphabetic() {
        return None;
    }
    // An HTML block's end the edit makes or unmakes has its `<` or `>` near it.
    let line_end = old.line_to_byte((line + 1).min(old.len_lines()));
    let (near_start, near_end) = (
        start.saturating_sub(HTML_END_REACH).max(line_start),
        (replaced.end + HTML_END_REACH).min(line_end),
    );
    if old
        .bytes_at(near_start)
        .take(near_end - near_start)
        .any(|b| matches!(b, b'<' | b'>'))
    {
        return None;
    }
    // A table's header row, if the next line may be a delimiter row (the edit before this
    // one on the line found it not: a plain edit adds no pipe and leaves the next line).
    if known_plain == Some(line) {
        return Some(line);
    }
    let next_may_delimit = line + 1 < old.len_lines()
        && old
            .line(line + 1)
            .chars()
            .find(|c| !matches!(c, ' ' | '\t'))
            .is_some_and(|c| !c.is_alphanumeric() && !matches!(c, '\n' | '\r'));
    let has_pipe = || {
        old.byte_slice(line_start..line_end)
            .chunks()
            .any(|c| memchr::memchr(b'|', c.as_bytes()).is_some())
    };
    (!(next_may_delimit && has_pipe())).then_some(line)
}

/// How far from an edit the `<` or `>` of an HTML block's end it makes or unmakes can be: the
/// longest end is `</textarea` and the character after it.
const HTML_END_REACH: usize = 12;

/// Whether line `line` of `text` is part of one of its `headings` (a setext heading's text,
/// an empty heading's bold title) or touches one. The headings are in order, so only the last
/// few that start before the line's end can: a binary search, not a pass over them all. A
/// line past the text's is taken for one (the caller then scans again).
pub fn on_heading_line(text: &Rope, headings: &[Heading], line: usize) -> bool {
    if line >= text.len_lines() {
        return true;
    }
    let line_start = text.line_to_byte(line);
    let line_end = text.line_to_byte((line + 1).min(text.len_lines()));
    let touches_line = |r: TextRange| r.start <= line_end && line_start <= r.end;
    let before_end = headings.partition_point(|h| h.range.start <= line_end);
    // A heading ends where the next begins at the latest, and its bold title lies before the
    // next: of those before, only the last two can reach this line.
    headings[before_end.saturating_sub(2)..before_end]
        .iter()
        .any(|h| touches_line(h.range) || h.bold_line_title.is_some_and(&touches_line))
}

/// Equal slices of equal length. A rope and its edited copy share every chunk the edits did
/// not touch (ropey copies only the path to an edited chunk), so most compare by address
/// alone: typing in a 6 MB document compares a few chunks' bytes, not 6 MB.
fn same_bytes(x: &[u8], y: &[u8]) -> bool {
    std::ptr::eq(x, y) || x == y
}

/// The number of equal bytes at the start of both texts.
fn common_prefix(a: &Rope, b: &Rope) -> usize {
    let (mut a_chunks, mut b_chunks) = (a.chunks(), b.chunks());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    let mut n = 0;
    loop {
        if x.is_empty() {
            match a_chunks.next() {
                Some(c) => x = c.as_bytes(),
                None => return n,
            }
            continue;
        }
        if y.is_empty() {
            match b_chunks.next() {
                Some(c) => y = c.as_bytes(),
                None => return n,
            }
            continue;
        }
        let m = x.len().min(y.len());
        if !same_bytes(&x[..m], &y[..m]) {
            return n + x.iter().zip(y).take_while(|(p, q)| p == q).count();
        }
        n += m;
        (x, y) = (&x[m..], &y[m..]);
    }
}

/// The number of equal bytes at the end of both texts.
fn common_suffix(a: &Rope, b: &Rope) -> usize {
    let (mut a_chunks, mut b_chunks) = (
        a.chunks_at_byte(a.len_bytes()).0,
        b.chunks_at_byte(b.len_bytes()).0,
    );
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    let mut n = 0;
    loop {
        if x.is_empty() {
            match a_chunks.prev() {
                Some(c) => x = c.as_bytes(),
                None => return n,
            }
            continue;
        }
        if y.is_empty() {
            match b_chunks.prev() {
                Some(c) => y = c.as_bytes(),
                None => return n,
            }
            continue;
        }
        let m = x.len().min(y.len());
        let (xs, ys) = (&x[x.len() - m..], &y[y.len() - m..]);
        if !same_bytes(xs, ys) {
            return n + xs
                .iter()
                .rev()
                .zip(ys.iter().rev())
                .take_while(|(p, q)| p == q)
                .count();
        }
        n += m;
        (x, y) = (&x[..x.len() - m], &y[..y.len() - m]);
    }
}

fn is_boundary(rope: &Rope, at: usize) -> bool {
    at == 0 || at >= rope.len_bytes() || (rope.byte(at) & 0xC0) != 0x80
}

fn floor_boundary(rope: &Rope, mut at: usize) -> usize {
    while !is_boundary(rope, at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(rope: &Rope, mut at: usize) -> usize {
    while !is_boundary(rope, at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reused_after(last: &LastScan, new: &str) -> Option<Vec<Heading>> {
        let new = Document::new(new);
        let edit = edit_between(&last.rope, new.rope()).expect("the texts differ");
        reuse(last, new.rope(), edit)
    }

    /// What a fresh scan finds, and what `headings` finds after `last`.
    fn both(last: &str, new: &str) -> (Vec<Heading>, Vec<Heading>) {
        let mut cache = InlineCache::new();
        headings(&Document::new(last), &mut cache);
        let doc = Document::new(new);
        let incremental = headings(&doc, &mut cache);
        let fresh = line_scan::headings(&doc, &mut InlineCache::new());
        (incremental, fresh)
    }

    #[test]
    fn typing_in_a_paragraph_reuses_and_moves_the_headings() {
        let last = "# T\n\nSome text here.\n\n## Goals\n\nMore.\n";
        let new = "# T\n\nSome texty here.\n\n## Goals\n\nMore.\n";
        let mut cache = InlineCache::new();
        headings(&Document::new(last), &mut cache);
        let reused = reused_after(cache.last_scan.as_ref().unwrap(), new);
        let reused = reused.expect("plain typing in a paragraph is reused");
        assert_eq!(reused, line_scan::headings(&Document::new(new), &mut cache));
    }

    #[test]
    fn edits_that_may_change_headings_are_scanned_again() {
        let last = "# T\n\nSome text\n\n## Goals\n";
        let cases = [
            "# T\n\nSome text\n===\n## Goals\n", // a setext underline
            "# T\n\nSome te\nxt\n\n## Goals\n",  // a line break
            "# T\n\n## Some text\n\n## Goals\n", // at the line's start
            "# T\n\nSome text `\n\n## Goals\n",  // a character blocks read
            "# Tx\n\nSome text\n\n## Goals\n",   // in a heading
        ];
        for new in cases {
            let mut cache = InlineCache::new();
            headings(&Document::new(last), &mut cache);
            let last_scan = cache.last_scan.as_ref().unwrap();
            assert!(reused_after(last_scan, new).is_none(), "{new:?}");
            let (incremental, fresh) = both(last, new);
            assert_eq!(incremental, fresh, "{new:?}");
        }
    }

    #[test]
    fn text_typed_between_cr_and_lf_is_scanned_again() {
        // The new blank line " \n" ends the HTML block, so `# Goals` becomes a heading.
        let last = "# T\n\n<div>\nText\r\n# Goals\n";
        let new = "# T\n\n<div>\nText\r \n# Goals\n";
        let (incremental, fresh) = both(last, new);
        assert_eq!(fresh.len(), 2);
        assert_eq!(incremental, fresh);
    }

    #[test]
    fn lines_with_pipes_or_angle_brackets_are_scanned_again() {
        // A cell added to a table's header row (it no longer matches its delimiter row), and
        // an HTML block of kind 1 ended by `</pre` at the end of a line.
        for (last, new) in [
            ("# T\n\nText|\n---\n", "# T\n\nText|x\n---\n"),
            (
                "# T\n<pre>\nText </\n# Goals\n",
                "# T\n<pre>\nText </pre\n# Goals\n",
            ),
        ] {
            let (incremental, fresh) = both(last, new);
            assert_eq!(incremental, fresh, "{new:?}");
        }
    }

    #[test]
    fn multibyte_edits_are_whole_characters() {
        let (incremental, fresh) = both(
            "# T\n\nCafé au lait\n\n## Goals 中文\n",
            "# T\n\nCafè au lait\n\n## Goals 中文\n",
        );
        assert_eq!(incremental, fresh);
    }

    /// On the real documents, with states kept as far apart as the server keeps them: line
    /// breaks, blank lines, headings, fences and HTML put in and taken out at random lines
    /// are scanned again around the edit (rarely from the start), and find what a scan from
    /// the start finds.
    #[test]
    fn edits_of_the_real_documents_are_scanned_again_around_them() {
        let inserted = [
            "\n",
            "\n\n",
            "\r\n",
            "## Goals\n",
            "```\n",
            "<div>\n",
            "---\n",
            "x",
            "|",
            "- ",
        ];
        let (mut around, mut from_start) = (0, 0);
        for (seed, (name, real)) in crate::analysis::fixture::REAL_DOCUMENTS
            .into_iter()
            .enumerate()
        {
            let mut random = crate::analysis::fixture::random_below(seed as u64 + 1);
            let mut text = real.to_string();
            let mut cache = InlineCache::new();
            headings(&Document::new(&text), &mut cache);
            for _ in 0..60 {
                let doc = Document::new(&text);
                let line = random(doc.rope().len_lines());
                let start = doc.rope().line_to_byte(line);
                let end = match random(3) {
                    // Take a line out, or put text in at its start.
                    0 => doc
                        .rope()
                        .line_to_byte((line + 1).min(doc.rope().len_lines())),
                    _ => start,
                };
                text.replace_range(start..end, inserted[random(inserted.len())]);
                let doc = Document::new(&text);
                let last = cache.last_scan.as_ref().expect("a scan is kept");
                let resumes = last.resume.resumes_before(start);
                let incremental = headings(&doc, &mut cache);
                assert_eq!(
                    incremental,
                    line_scan::headings(&doc, &mut InlineCache::new()),
                    "{name}"
                );
                match resumes {
                    true => around += 1,
                    false => from_start += 1,
                }
            }
        }
        // Most edits lie after the first state kept (a few hundred bytes into a document).
        assert!(
            around > 8 * from_start,
            "{around} around the edit, {from_start} from the start"
        );
    }

    const SNIPPETS: &[&str] = &[
        "# Title\n",
        "## Goals\n",
        "### Sub section\n",
        "Plain text line\n",
        "Another, longer (line) of text.\n",
        "\n",
        "```\n",
        "~~~\n",
        "<!--\n",
        "-->\n",
        "<div>\n",
        "- item\n",
        "1. item\n",
        "> quote\n",
        "| a | b |\n",
        "| - | - |\n",
        "===\n",
        "---\n",
        "##\n",
        "**Bold title**\n",
        "Text\r\n",
        "Lone CR\r",
        "  Indented text\n",
        "中文 text 😀\n",
        "Cell|\n",
        "Text </\n",
        "<pre>\n",
        "Some </pre text\n",
        "Text ?> more\n",
        "Text --> more\n",
        "Text ]]> more\n",
        "Text <https://x.y> and a -> b\n",
        "Cell | cell\n",
        "<?php\n",
        "<![CDATA[\n",
        "<script>\n",
        "|---|---|\n",
        ":-:|\n",
    ];
    const TYPED: &[&str] = &[
        "x", " ", "é", "中", "(", ".", "", "ab cd", "#", "`", "|", "\n", "-", "pre", "?", "script",
    ];

    proptest! {
        #![proptest_config(crate::analysis::fixture::proptest_config(300))]
        /// The binary search finds what a look at every heading finds.
        #[test]
        fn on_heading_line_looks_at_every_heading_that_matters(
            parts in proptest::collection::vec(0..SNIPPETS.len(), 1..40),
        ) {
            let text: String = parts.iter().map(|&i| SNIPPETS[i]).collect();
            let doc = Document::new(&text);
            let headings = line_scan::headings(&doc, &mut InlineCache::new());
            let rope = doc.rope();
            for line in 0..rope.len_lines() {
                let (start, end) = (
                    rope.line_to_byte(line),
                    rope.line_to_byte((line + 1).min(rope.len_lines())),
                );
                let touches = |r: TextRange| r.start <= end && start <= r.end;
                let every = headings
                    .iter()
                    .any(|h| touches(h.range) || h.bold_line_title.is_some_and(touches));
                prop_assert_eq!(on_heading_line(rope, &headings, line), every, "line {} of {:?}", line, text);
            }
            prop_assert!(on_heading_line(rope, &headings, rope.len_lines()));
        }
    }

    proptest! {
        #![proptest_config(crate::analysis::fixture::proptest_config(1000))]
        /// Whatever the edits, the result is a fresh scan's, whether the headings were moved,
        /// scanned again around the edit or scanned from the start, and whether the edit log
        /// told what changed (one edit or several since the last scan) or the texts were
        /// compared (a document made anew).
        #[test]
        fn reuse_agrees_with_a_fresh_scan(
            parts in proptest::collection::vec(0..SNIPPETS.len(), 1..30),
            spacing in 0usize..64,
            edits in proptest::collection::vec(
                (any::<prop::sample::Index>(), 0usize..4, 0..TYPED.len(), 0u8..4),
                1..12,
            ),
        ) {
            let mut text: String = parts.iter().map(|&i| SNIPPETS[i]).collect();
            let mut doc = Document::new(&text);
            let mut cache = InlineCache::new();
            headings_spaced(&doc, &mut cache, spacing);
            for (at, removed, typed, then) in edits {
                let (start, end) =
                    crate::analysis::fixture::replace_at(&mut text, at, removed, TYPED[typed]);
                doc.apply_change(TextRange::new(start, end), TYPED[typed]);
                prop_assert_eq!(doc.text(), text.as_str());
                match then {
                    0 => continue,
                    1 => doc = Document::new(&text),
                    _ => {}
                }
                let incremental = headings_spaced(&doc, &mut cache, spacing);
                let fresh = line_scan::headings(&doc, &mut InlineCache::new());
                prop_assert_eq!(incremental, fresh, "{:?}", text);
                let resume = &cache.last_scan.as_ref().expect("a scan is kept").resume;
                if let Err(e) = line_scan::check_resume(&doc, resume) {
                    prop_assert!(false, "{} in {:?}", e, text);
                }
            }
        }
    }
}
