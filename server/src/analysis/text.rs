//! Byte ranges and conversions between byte offsets and line/column positions.
//!
//! The analysis speaks byte offsets only. Protocol and command-line layers convert with
//! [`LineIndex`] at their boundary, in the position encoding they negotiated. Line breaks are
//! exactly LSP's: `\n`, `\r\n` and a lone `\r`; nothing else (U+2028, U+0085, form feed) breaks
//! a line. That is what ropey does with only its `cr_lines` feature.

use ropey::Rope;

/// A half-open byte range `[start, end)` into a document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Self { start, end }
    }
    pub fn empty(at: usize) -> Self {
        Self { start: at, end: at }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn contains(&self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }
    /// Like [`contains`](Self::contains) but also true at the end (a cursor after the text).
    pub fn touches(&self, offset: usize) -> bool {
        self.start <= offset && offset <= self.end
    }

    /// Where this range is after `edit`: moved when the edit is wholly before it, the same when
    /// wholly after it, `None` when the edit touches it (its text may have changed).
    pub fn after_edit(self, edit: TextChange) -> Option<TextRange> {
        if self.end < edit.start {
            Some(self)
        } else if self.start > edit.old_end {
            Some(TextRange::new(edit.moved(self.start), edit.moved(self.end)))
        } else {
            None
        }
    }
}

/// A change to a text: the bytes `start..old_end` became `start..new_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextChange {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl TextChange {
    /// Where an offset of the old text lies in the new one: unmoved up to the change's start,
    /// moved by its length after it (an offset inside it is taken to its end).
    pub fn moved(&self, at: usize) -> usize {
        match at {
            _ if at <= self.start => at,
            _ => at.max(self.old_end) - self.old_end + self.new_end,
        }
    }

    /// This change, then `next` (a change to the text this one made), as one change from the
    /// text before this one to the text after `next`, covering what either changed.
    pub fn then(self, next: TextChange) -> TextChange {
        // The end of both, in the text between them; after each one's end there, so moving it
        // back through this change and on through `next` is a shift.
        let end = self.new_end.max(next.old_end);
        TextChange {
            start: self.start.min(next.start),
            old_end: end + self.old_end - self.new_end,
            new_end: end + next.new_end - next.old_end,
        }
    }
}

/// Columns up to this many bytes are counted from the line's start (see
/// [`LineIndex::position`]).
const SHORT_COLUMN: usize = 256;

/// How the columns of a position are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (LSP's default).
    #[default]
    Utf16,
    /// Unicode scalar values.
    Utf32,
}

impl Encoding {
    /// The length of `text` in this encoding's units.
    pub fn len_of(self, text: &str) -> usize {
        match self {
            Encoding::Utf8 => text.len(),
            Encoding::Utf16 => text.chars().map(char::len_utf16).sum(),
            Encoding::Utf32 => text.chars().count(),
        }
    }
}

/// A zero-based line and column, the column counted in some [`Encoding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Converts between byte offsets and [`LineCol`] over a rope.
pub struct LineIndex<'a> {
    rope: &'a Rope,
}

impl<'a> LineIndex<'a> {
    pub fn new(rope: &'a Rope) -> Self {
        Self { rope }
    }

    /// Byte offset of `pos`, clamped: a line past the end gives the end of the document, a
    /// column past the end of its line gives the end of the line (before its line break), and
    /// a column inside a character (half a surrogate pair, a byte inside UTF-8) gives that
    /// character's start.
    pub fn offset(&self, pos: LineCol, encoding: Encoding) -> usize {
        let rope = self.rope;
        let line = pos.line as usize;
        if line >= rope.len_lines() {
            return rope.len_bytes();
        }
        let line_start_char = rope.line_to_char(line);
        let line_slice = rope.line(line);
        let content_end_char =
            line_start_char + line_slice.len_chars() - line_break_chars(&line_slice);
        let want = pos.col as usize;
        // Ropey's indexes make each conversion O(log n), whatever the line's length (a 1 MB
        // line is converted on every keystroke). Each rounds a column inside a character
        // down to that character.
        let char_idx = match encoding {
            Encoding::Utf8 => {
                let start = rope.char_to_byte(line_start_char);
                let end = rope.char_to_byte(content_end_char);
                rope.byte_to_char((start + want).min(end))
            }
            Encoding::Utf16 => {
                let start = rope.char_to_utf16_cu(line_start_char);
                let end = rope.char_to_utf16_cu(content_end_char);
                rope.utf16_cu_to_char((start + want).min(end))
            }
            Encoding::Utf32 => (line_start_char + want).min(content_end_char),
        };
        rope.char_to_byte(char_idx)
    }

    /// Position of a byte offset (clamped to the document, rounded down to a char boundary).
    pub fn position(&self, offset: usize, encoding: Encoding) -> LineCol {
        let rope = self.rope;
        let mut offset = offset.min(rope.len_bytes());
        // Most positions are near their line's start: two lookups and a count of the few bytes
        // before it are cheaper than five lookups (a publish converts hundreds of positions).
        let line = rope.byte_to_line(offset);
        let line_start = rope.line_to_byte(line);
        if offset - line_start <= SHORT_COLUMN {
            while offset > line_start
                && offset < rope.len_bytes()
                && (rope.byte(offset) & 0xC0) == 0x80
            {
                offset -= 1;
            }
            let before = rope.byte_slice(line_start..offset);
            let col: usize = before.chunks().map(|c| encoding.len_of(c)).sum();
            return LineCol {
                line: line as u32,
                col: col as u32,
            };
        }
        let char_idx = rope.byte_to_char(offset);
        let line = rope.char_to_line(char_idx);
        let line_start_char = rope.line_to_char(line);
        let col = match encoding {
            Encoding::Utf8 => rope.char_to_byte(char_idx) - rope.char_to_byte(line_start_char),
            Encoding::Utf16 => {
                rope.char_to_utf16_cu(char_idx) - rope.char_to_utf16_cu(line_start_char)
            }
            Encoding::Utf32 => char_idx - line_start_char,
        };
        LineCol {
            line: line as u32,
            col: col as u32,
        }
    }
}

/// Number of chars (0, 1 or 2) of the line break that ends this line slice.
fn line_break_chars(line: &ropey::RopeSlice) -> usize {
    let n = line.len_chars();
    if n == 0 {
        return 0;
    }
    match line.char(n - 1) {
        '\n' if n >= 2 && line.char(n - 2) == '\r' => 2,
        '\n' | '\r' => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_an_edit() {
        // "abc def ghi": "def" (4..7) replaced by "xy".
        let edit = TextChange {
            start: 4,
            old_end: 7,
            new_end: 6,
        };
        let r = |s, e| TextRange::new(s, e);
        assert_eq!(r(0, 3).after_edit(edit), Some(r(0, 3)));
        assert_eq!(r(8, 11).after_edit(edit), Some(r(7, 10)));
        assert_eq!(r(0, 4).after_edit(edit), None, "touches the start");
        assert_eq!(r(7, 11).after_edit(edit), None, "touches the end");
        assert_eq!(r(5, 6).after_edit(edit), None, "inside");
    }

    fn round_trip(text: &str) {
        let rope = Rope::from_str(text);
        let index = LineIndex::new(&rope);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                let pos = index.position(offset, enc);
                // The offset between `\r` and `\n` of a CRLF is not a position of its own.
                if offset > 0 && text[..offset].ends_with('\r') && text[offset..].starts_with('\n')
                {
                    continue;
                }
                assert_eq!(
                    index.offset(pos, enc),
                    offset,
                    "{text:?} at {offset} in {enc:?}"
                );
            }
        }
    }

    #[test]
    fn line_breaks_are_lsp_ones() {
        let rope = Rope::from_str("a\nb\r\nc\rd\u{2028}e\u{85}f\u{c}g");
        assert_eq!(rope.len_lines(), 4);
        let index = LineIndex::new(&rope);
        assert_eq!(
            index.position(rope.len_bytes(), Encoding::Utf32),
            LineCol { line: 3, col: 7 }
        );
    }

    #[test]
    fn columns_in_each_encoding() {
        let rope = Rope::from_str("# 😀 中x\r\nnext");
        let index = LineIndex::new(&rope);
        let x = "# 😀 中".len();
        assert_eq!(
            index.position(x, Encoding::Utf8),
            LineCol { line: 0, col: 10 }
        );
        assert_eq!(
            index.position(x, Encoding::Utf16),
            LineCol { line: 0, col: 6 }
        );
        assert_eq!(
            index.position(x, Encoding::Utf32),
            LineCol { line: 0, col: 5 }
        );
        // Half a surrogate pair rounds down; past the end clamps to the line end, not into CRLF.
        assert_eq!(
            index.offset(LineCol { line: 0, col: 3 }, Encoding::Utf16),
            2
        );
        assert_eq!(
            index.offset(LineCol { line: 0, col: 99 }, Encoding::Utf16),
            x + 1
        );
        assert_eq!(
            index.offset(LineCol { line: 9, col: 0 }, Encoding::Utf16),
            rope.len_bytes()
        );
    }

    #[test]
    fn round_trips() {
        round_trip("");
        round_trip("plain\n");
        round_trip("é😀中\r\n\r\n👩‍👩‍👧 e\u{301}\rz");
    }
}
