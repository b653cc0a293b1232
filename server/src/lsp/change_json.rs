//! A `textDocument/didChange` notification read straight from its JSON text, without serde:
//! the message a server gets most, fifty at a time in a burst of keystrokes.
//!
//! It reads the shape editors send (the three top-level fields, `textDocument` with `uri` and
//! `version`, `contentChanges` of `range`, `rangeLength` and `text`), in any order, and gives
//! `None` for anything else (another field, a `null`, a number with a fraction, a duplicate
//! field...): the caller then parses the text with serde as before. So it never accepts what
//! serde would refuse, nor reads a message differently (a property test compares the two).
//! Why: a burst of 50 changes read after a pause is decoded before any of it is applied, and
//! serde's typed parse was most of that decoding (~0.55 µs a change warm, 2.6 times its bare
//! scan of the same JSON). This reader borrows what it can, and takes the document's URI from
//! the last change when it is the same text (a burst's changes all name one document) instead
//! of parsing it again.

use std::borrow::Cow;

use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, Position, Range, TextDocumentContentChangeEvent, Uri,
    VersionedTextDocumentIdentifier,
};

use super::transport::DID_CHANGE;

/// `text` as a `didChange` notification (no `id`), when it has exactly the usual shape;
/// `None` otherwise, whether or not it is one. `last` is the URI of the last change read, if
/// any: taken again when this one names the same.
pub fn read(text: &str, last: Option<&Uri>) -> Option<DidChangeTextDocumentParams> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        last,
    };
    let (mut jsonrpc, mut method, mut params) = (false, false, None);
    r.object(|r, key| {
        match key {
            "jsonrpc" if !jsonrpc => jsonrpc = r.string()? == "2.0",
            "method" if !method => method = r.string()? == DID_CHANGE,
            "params" if params.is_none() => params = Some(r.params()?),
            _ => return None,
        }
        Some(())
    })?;
    r.ws();
    (jsonrpc && method && r.at == r.bytes.len())
        .then_some(params)
        .flatten()
}

/// The bytes that end a run of plain characters in a string: `"`, `\` and the control
/// characters, which JSON does not allow unescaped (one look-up a byte).
const ENDS_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    last: Option<&'a Uri>,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, consumed when it is `byte`.
    fn eat(&mut self, byte: u8) -> bool {
        self.ws();
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    /// An object, each member's value read by `member` (given the key); `None` when `member`
    /// gives `None` or the object is malformed.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            member(self, &key)?;
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// A string: borrowed when it holds no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.at;
        let mut out: Option<String> = None;
        let mut run = start;
        loop {
            // Up to the next byte that ends a run of plain characters.
            self.at += self.bytes[self.at..]
                .iter()
                .position(|&b| ENDS_RUN[usize::from(b)])?;
            match self.bytes[self.at] {
                b'"' => {
                    // Quotes and backslashes are ASCII: the slices fall on character bounds.
                    let tail = &self.text[run..self.at];
                    self.at += 1;
                    return Some(match out {
                        None => Cow::Borrowed(tail),
                        Some(mut out) => {
                            out.push_str(tail);
                            Cow::Owned(out)
                        }
                    });
                }
                b'\\' => {
                    let out = out.get_or_insert_with(String::new);
                    out.push_str(&self.text[run..self.at]);
                    self.at += 1;
                    out.push(self.escape()?);
                    run = self.at;
                }
                _ => return None,
            }
        }
    }

    /// The character of an escape, after its backslash.
    fn escape(&mut self) -> Option<char> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate: its low half must follow (lone ones were replaced
                        // before this reads the text; anything else is left to serde).
                        if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                            return None;
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    _ => char::from_u32(unit)?,
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let mut value = 0;
        for &d in digits {
            value = value * 16 + char::from(d).to_digit(16)?;
        }
        self.at += 4;
        Some(value)
    }

    /// An integer without fraction or exponent, in `i64`.
    fn integer(&mut self) -> Option<i64> {
        self.ws();
        let negative = self.bytes.get(self.at) == Some(&b'-');
        self.at += usize::from(negative);
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        // No leading zero (not JSON), nothing a float would continue with (left to serde).
        let leading_zero = digits.len() > 1 && digits[0] == b'0';
        if digits.is_empty()
            || digits.len() > 18
            || leading_zero
            || matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let value = digits
            .iter()
            .fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
        Some(if negative { -value } else { value })
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.integer()?).ok()
    }

    /// An object of the two members `a` and `b`, each once and nothing else, read by
    /// `read_a` and `read_b`.
    fn pair<A, B>(
        &mut self,
        (a, mut read_a): (&str, impl FnMut(&mut Self) -> Option<A>),
        (b, mut read_b): (&str, impl FnMut(&mut Self) -> Option<B>),
    ) -> Option<(A, B)> {
        let (mut first, mut second) = (None, None);
        self.object(|r, key| {
            if key == a && first.is_none() {
                first = Some(read_a(r)?);
            } else if key == b && second.is_none() {
                second = Some(read_b(r)?);
            } else {
                return None;
            }
            Some(())
        })?;
        Some((first?, second?))
    }

    fn params(&mut self) -> Option<DidChangeTextDocumentParams> {
        let (text_document, content_changes) = self.pair(
            ("textDocument", Self::document),
            ("contentChanges", Self::changes),
        )?;
        Some(DidChangeTextDocumentParams {
            text_document,
            content_changes,
        })
    }

    fn document(&mut self) -> Option<VersionedTextDocumentIdentifier> {
        let version = |r: &mut Self| i32::try_from(r.integer()?).ok();
        let (uri, version) = self.pair(("uri", Self::uri), ("version", version))?;
        Some(VersionedTextDocumentIdentifier { uri, version })
    }

    /// The document's URI: the last change's again when it is the same text.
    fn uri(&mut self) -> Option<Uri> {
        let text = self.string()?;
        match self.last.filter(|last| last.as_str() == text) {
            Some(last) => Some(last.clone()),
            None => text.parse().ok(),
        }
    }

    fn changes(&mut self) -> Option<Vec<TextDocumentContentChangeEvent>> {
        if !self.eat(b'[') {
            return None;
        }
        let mut changes = Vec::with_capacity(1);
        if self.eat(b']') {
            return Some(changes);
        }
        loop {
            changes.push(self.change()?);
            if self.eat(b']') {
                return Some(changes);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn change(&mut self) -> Option<TextDocumentContentChangeEvent> {
        let (mut range, mut range_length, mut text) = (None, None, None);
        self.object(|r, key| {
            match key {
                "range" if range.is_none() => range = Some(r.range()?),
                "rangeLength" if range_length.is_none() => range_length = Some(r.u32()?),
                "text" if text.is_none() => text = Some(r.string()?.into_owned()),
                _ => return None,
            }
            Some(())
        })?;
        Some(TextDocumentContentChangeEvent {
            range,
            range_length,
            text: text?,
        })
    }

    fn range(&mut self) -> Option<Range> {
        let (start, end) = self.pair(("start", Self::position), ("end", Self::position))?;
        Some(Range { start, end })
    }

    fn position(&mut self) -> Option<Position> {
        let (line, character) = self.pair(("line", Self::u32), ("character", Self::u32))?;
        Some(Position { line, character })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::transport::as_change;
    use proptest::prelude::*;

    /// Reads `text` as serde does, and checks that this reader reads it (`usual`) or leaves it
    /// to serde, and never reads it otherwise, with or without the last change's URI.
    fn same_as_serde(text: &str, usual: bool) -> Result<(), TestCaseError> {
        let serde = as_change(text);
        let fresh = read(text, None);
        if usual {
            prop_assert!(fresh.is_some(), "not read: {}", text);
        }
        if let Some(fresh) = &fresh {
            prop_assert_eq!(Some(fresh), serde.as_ref(), "{}", text);
            let same = fresh.text_document.uri.clone();
            let other: Uri = "file:///elsewhere.md".parse().unwrap();
            prop_assert_eq!(read(text, Some(&same)), Some(fresh.clone()));
            prop_assert_eq!(read(text, Some(&other)), Some(fresh.clone()));
        }
        Ok(())
    }

    #[test]
    fn reads_what_editors_send() {
        for text in [
            // VS Code (`rangeLength` too) and Neovim.
            r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///home/a/review.md","version":7},"contentChanges":[{"range":{"start":{"line":3,"character":5},"end":{"line":3,"character":5}},"rangeLength":0,"text":"x"}]}}"#,
            // Helix: no `rangeLength`, keys in another order, spaces.
            r#"{ "jsonrpc": "2.0", "params": { "contentChanges": [ { "text": "é\n", "range": { "end": { "character": 0, "line": 4 }, "start": { "line": 3, "character": 9 } } } ], "textDocument": { "version": 8, "uri": "file:///home/a/review%20b.md" } }, "method": "textDocument/didChange" }"#,
            // The whole text, and two changes in one notification.
            r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///r.md","version":-1},"contentChanges":[{"text":"\u00e9\ud83d\ude00 \"q\" \\ \/ \b\f\r\t"}]}}"#,
            r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"untitled:Untitled-1","version":2},"contentChanges":[{"range":{"start":{"line":0,"character":0},"end":{"line":0,"character":1}},"text":""},{"range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"text":"ab"}]}}"#,
        ] {
            same_as_serde(text, true).unwrap();
        }
    }

    #[test]
    fn leaves_the_unusual_to_serde() {
        let usual = r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///r.md","version":2},"contentChanges":[{"range":{"start":{"line":0,"character":1},"end":{"line":0,"character":1}},"text":"a"}]}}"#;
        assert!(read(usual, None).is_some());
        for (from, to) in [
            (r#""jsonrpc":"2.0","#, r#""jsonrpc":"2.0","id":1,"#),
            (r#""jsonrpc":"2.0","#, r#""jsonrpc":"2.0","id":null,"#),
            (r#""2.0""#, r#""1.0""#),
            ("didChange", "didSave"),
            (
                r#""range":{"start":{"line":0,"character":1},"end":{"line":0,"character":1}}"#,
                r#""range":null"#,
            ),
            (r#""text":"a""#, r#""text":"a","extra":true"#),
            (r#""version":2"#, r#""version":2.0"#),
            (r#""version":2"#, r#""version":02"#),
            (r#""version":2"#, r#""version":2,"version":3"#),
            (r#""line":0,"#, r#""line":-1,"#),
            (r#""line":0,"#, r#""line":4294967296,"#),
            (r#""text":"a""#, r#""text":"\ud83d""#),
            (r#""text":"a""#, r#""text":"\x""#),
            (r#""text":"a""#, "\"text\":\"\t\""),
            (r#""a"}]}}"#, r#""a"}]}} x"#),
            (r#""a"}]}}"#, r#""a"}]}"#),
            (r#""file:///r.md""#, r#""not a uri""#),
        ] {
            let text = usual.replacen(from, to, 1);
            assert_ne!(text, usual, "{from}");
            assert_eq!(read(&text, None), None, "{text}");
            // serde reads some of them (a `null` range, an unknown field...): then as before.
            same_as_serde(&text, false).unwrap();
        }
    }

    /// A JSON string for `s`, each character written plainly or escaped at random.
    fn json_string(s: &str, escapes: &[bool]) -> String {
        let mut out = String::from("\"");
        for (i, c) in s.chars().enumerate() {
            let escape = escapes
                .get(i % escapes.len().max(1))
                .copied()
                .unwrap_or(false);
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' if !escape => out.push_str("\\n"),
                c if (c as u32) < 0x20 || escape => {
                    let mut units = [0; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Members written in the order `order` gives (a permutation of their indices).
    fn object(members: Vec<String>, order: &[usize], space: &str) -> String {
        let mut keyed: Vec<(usize, String)> = members.into_iter().enumerate().collect();
        keyed.sort_by_key(|(i, _)| order.get(*i).copied().unwrap_or(*i));
        let body: Vec<String> = keyed.into_iter().map(|(_, m)| m).collect();
        format!("{{{space}{}{space}}}", body.join(&format!(",{space}")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn reads_as_serde_does(
            uri in prop_oneof![Just("file:///r.md".to_string()), "[a-z]{1,8}:[a-zA-Z0-9/%._é -]{0,20}"],
            version in prop_oneof![any::<i32>().prop_map(i64::from), any::<i64>()],
            changes in prop::collection::vec(
                (
                    prop::option::of(prop::array::uniform4(prop_oneof![0u32..100, any::<u32>().prop_map(u64::from).prop_map(|v| v as u32)])),
                    prop::option::of(any::<u32>()),
                    "(.|\n){0,6}",
                    prop::collection::vec(any::<bool>(), 1..4),
                ),
                0..3,
            ),
            order in Just(()).prop_perturb(|_, mut rng| (0..3).map(|_| rng.random_range(0..3usize)).collect::<Vec<_>>()),
            space in prop_oneof![Just(""), Just(" "), Just("\n  ")],
            extra in prop_oneof![4 => Just(None), 1 => Just(Some(r#""id":3"#)), 1 => Just(Some(r#""other":[1,{"a":null}]"#))],
        ) {
            let contents: Vec<String> = changes
                .iter()
                .map(|(range, length, text, escapes)| {
                    let mut members = vec![format!(r#""text":{}"#, json_string(text, escapes))];
                    if let Some([a, b, c, d]) = range {
                        members.push(format!(
                            r#""range":{{"start":{{"line":{a},"character":{b}}},"end":{{"line":{c},"character":{d}}}}}"#
                        ));
                    }
                    if let Some(length) = length {
                        members.push(format!(r#""rangeLength":{length}"#));
                    }
                    object(members, &order, space)
                })
                .collect();
            let document = object(
                vec![format!(r#""uri":{}"#, json_string(&uri, &[false])), format!(r#""version":{version}"#)],
                &order,
                space,
            );
            let params = object(
                vec![format!(r#""textDocument":{document}"#), format!(r#""contentChanges":[{}]"#, contents.join(","))],
                &order,
                space,
            );
            let mut members = vec![
                r#""jsonrpc":"2.0""#.to_string(),
                r#""method":"textDocument/didChange""#.to_string(),
                format!(r#""params":{params}"#),
            ];
            members.extend(extra.map(String::from));
            let text = object(members, &order, space);
            let usual = extra.is_none() && i32::try_from(version).is_ok() && uri.parse::<Uri>().is_ok();
            same_as_serde(&text, usual)?;
        }
    }
}
