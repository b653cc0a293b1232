//! Conversions between the analysis's byte offsets and LSP's positions, in the negotiated
//! encoding, and from analysis diagnostics to LSP diagnostics. The only place that does it.

use tower_lsp_server::ls_types as lsp;

use crate::analysis::diagnostics::{self, Diagnostic, Severity};
use crate::analysis::document::Document;
use crate::analysis::text::{Encoding, LineCol, LineIndex, TextRange};
use crate::analysis::{folding, symbols};

pub fn encoding_kind(encoding: Encoding) -> lsp::PositionEncodingKind {
    match encoding {
        Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        Encoding::Utf32 => lsp::PositionEncodingKind::UTF32,
    }
}

/// The encoding to use, given what the client offers (in its order of preference): UTF-8 when
/// offered at all (no conversion), else the first one we know, else UTF-16 (the protocol's
/// default, which every client supports).
pub fn negotiate(offered: Option<&[lsp::PositionEncodingKind]>) -> Encoding {
    let offered = offered.unwrap_or_default();
    let known = |k: &lsp::PositionEncodingKind| match k.as_str() {
        "utf-8" => Some(Encoding::Utf8),
        "utf-16" => Some(Encoding::Utf16),
        "utf-32" => Some(Encoding::Utf32),
        _ => None,
    };
    if offered.iter().any(|k| k.as_str() == "utf-8") {
        return Encoding::Utf8;
    }
    offered.iter().find_map(known).unwrap_or(Encoding::Utf16)
}

pub fn offset(doc: &Document, pos: lsp::Position, encoding: Encoding) -> usize {
    LineIndex::new(doc.rope()).offset(
        LineCol {
            line: pos.line,
            col: pos.character,
        },
        encoding,
    )
}

/// `changes` with each insertion that starts where the previous one's text ended (typing, one
/// character per change) joined to it: the same text in the end, one edit to apply instead of
/// many. Only insertions of text without line breaks are extended, so where one ends is on
/// its own line, `encoding` units further.
pub fn join_insertions(
    changes: Vec<lsp::TextDocumentContentChangeEvent>,
    encoding: Encoding,
) -> Vec<lsp::TextDocumentContentChangeEvent> {
    let mut out: Vec<lsp::TextDocumentContentChangeEvent> = Vec::with_capacity(changes.len());
    for change in changes {
        if let (Some(last), Some(next)) = (out.last_mut(), change.range) {
            if let Some(range) = last.range.filter(|r| r.start == r.end) {
                let plain = !last.text.contains(['\n', '\r']);
                let end = u32::try_from(encoding.len_of(&last.text))
                    .ok()
                    .and_then(|len| range.start.character.checked_add(len))
                    .map(|character| lsp::Position {
                        line: range.start.line,
                        character,
                    });
                if plain && end == Some(next.start) && end == Some(next.end) {
                    last.text.push_str(&change.text);
                    // Stale once joined; clients no longer send it.
                    last.range_length = None;
                    continue;
                }
            }
        }
        out.push(change);
    }
    out
}

pub fn text_range(doc: &Document, range: lsp::Range, encoding: Encoding) -> TextRange {
    let start = offset(doc, range.start, encoding);
    let end = offset(doc, range.end, encoding);
    TextRange::new(start.min(end), start.max(end))
}

pub fn position(index: &LineIndex, offset: usize, encoding: Encoding) -> lsp::Position {
    let p = index.position(offset, encoding);
    lsp::Position {
        line: p.line,
        character: p.col,
    }
}

pub fn range(index: &LineIndex, range: TextRange, encoding: Encoding) -> lsp::Range {
    lsp::Range {
        start: position(index, range.start, encoding),
        end: position(index, range.end, encoding),
    }
}

pub fn severity(severity: Severity) -> lsp::DiagnosticSeverity {
    match severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// `textDocument/publishDiagnostics` as sent (through [`Outbox`](super::transport::Outbox)),
/// borrowing from the analysis: the same JSON as `ls_types::PublishDiagnosticsParams`
/// without building one.
#[derive(serde::Serialize)]
pub struct PublishDiagnostics<'a> {
    pub uri: &'a lsp::Uri,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    pub diagnostics: Vec<Published<'a>>,
}

/// A diagnostic in a publish: built now, or as serialised for an earlier one (a carried
/// diagnostic that has not moved since, see `state::CarriedPlaces`).
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum Published<'a> {
    Built(WireDiagnostic<'a>),
    Serialised(&'a serde_json::value::RawValue),
}

/// An `ls_types::Diagnostic`, borrowed (see [`PublishDiagnostics`]).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireDiagnostic<'a> {
    range: lsp::Range,
    severity: lsp::DiagnosticSeverity,
    code: &'static str,
    source: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_information: Vec<WireRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<SectionData<'a>>,
}

#[derive(serde::Serialize)]
struct WireRelated<'a> {
    location: WireLocation<'a>,
    message: &'a str,
}

#[derive(serde::Serialize)]
struct WireLocation<'a> {
    uri: &'a lsp::Uri,
    range: lsp::Range,
}

/// A diagnostic's `data`: the template section it is about (code actions read it back).
#[derive(serde::Serialize)]
struct SectionData<'a> {
    section: &'a str,
}

impl WireDiagnostic<'_> {
    /// The owned form, for answers built through tower-lsp (a code action's diagnostics).
    pub fn to_lsp(&self) -> lsp::Diagnostic {
        let related = self
            .related_information
            .iter()
            .map(|r| lsp::DiagnosticRelatedInformation {
                location: lsp::Location {
                    uri: r.location.uri.clone(),
                    range: r.location.range,
                },
                message: r.message.to_string(),
            })
            .collect::<Vec<_>>();
        lsp::Diagnostic {
            range: self.range,
            severity: Some(self.severity),
            code: Some(lsp::NumberOrString::String(self.code.to_string())),
            source: Some(self.source.to_string()),
            message: self.message.to_string(),
            related_information: (!related.is_empty()).then_some(related),
            data: self
                .data
                .as_ref()
                .map(|d| serde_json::json!({ "section": d.section })),
            ..lsp::Diagnostic::default()
        }
    }
}

/// A diagnostic at its own ranges, in the text `index` reads.
pub fn diagnostic<'a>(
    index: &LineIndex,
    uri: &'a lsp::Uri,
    d: &'a Diagnostic,
    encoding: Encoding,
) -> WireDiagnostic<'a> {
    let related_at = d
        .related
        .iter()
        .map(|r| range(index, r.range, encoding))
        .collect();
    diagnostic_at(uri, d, range(index, d.range, encoding), related_at)
}

/// A diagnostic at `at`, its related ranges at `related_at`.
pub fn diagnostic_at<'a>(
    uri: &'a lsp::Uri,
    d: &'a Diagnostic,
    at: lsp::Range,
    related_at: Vec<lsp::Range>,
) -> WireDiagnostic<'a> {
    WireDiagnostic {
        range: at,
        severity: severity(d.severity),
        code: d.code.as_str(),
        source: "joint-review-lsp",
        message: &d.message,
        related_information: d
            .related
            .iter()
            .zip(related_at)
            .map(|(r, range)| WireRelated {
                location: WireLocation { uri, range },
                message: &r.message,
            })
            .collect(),
        data: d.section.as_deref().map(|section| SectionData { section }),
    }
}

/// Markdown as the client shows it: as is where it renders Markdown, else as plain text.
pub fn markup(markdown: String, client_renders_markdown: bool) -> lsp::MarkupContent {
    if client_renders_markdown {
        lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: markdown,
        }
    } else {
        lsp::MarkupContent {
            kind: lsp::MarkupKind::PlainText,
            value: markdown_to_plain(&markdown),
        }
    }
}

/// Markdown made readable as plain text, for clients that do not render Markdown: emphasis
/// markers and rules dropped.
pub fn markdown_to_plain(markdown: &str) -> String {
    markdown
        .lines()
        .filter(|l| l.trim() != "---")
        .map(|l| l.replace("**", "").trim_matches('*').to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

// Navigation and structure: document symbols, folding ranges, edits and line links.

/// A heading and its sub-headings as a nested `DocumentSymbol`.
pub fn document_symbol(
    index: &LineIndex,
    symbol: &symbols::Symbol,
    encoding: Encoding,
) -> lsp::DocumentSymbol {
    #[allow(deprecated)] // `deprecated` is a required field of the struct.
    lsp::DocumentSymbol {
        name: symbol.name.clone(),
        detail: Some(symbol.detail.clone()),
        kind: lsp::SymbolKind::STRING,
        tags: None,
        deprecated: None,
        range: range(index, symbol.range, encoding),
        selection_range: range(index, symbol.selection, encoding),
        children: Some(
            symbol
                .children
                .iter()
                .map(|c| document_symbol(index, c, encoding))
                .collect(),
        ),
    }
}

/// The heading tree as a flat list, each heading naming its parent, for clients without
/// hierarchical symbols.
pub fn symbol_information(
    uri: &lsp::Uri,
    index: &LineIndex,
    symbols: &[symbols::Symbol],
    encoding: Encoding,
) -> Vec<lsp::SymbolInformation> {
    fn walk(
        uri: &lsp::Uri,
        index: &LineIndex,
        symbols: &[symbols::Symbol],
        parent: Option<&str>,
        encoding: Encoding,
        out: &mut Vec<lsp::SymbolInformation>,
    ) {
        for s in symbols {
            #[allow(deprecated)] // `deprecated` is a required field of the struct.
            out.push(lsp::SymbolInformation {
                name: s.name.clone(),
                kind: lsp::SymbolKind::STRING,
                tags: None,
                deprecated: None,
                location: lsp::Location {
                    uri: uri.clone(),
                    range: range(index, s.range, encoding),
                },
                container_name: parent.map(str::to_string),
            });
            walk(uri, index, &s.children, Some(&s.name), encoding, out);
        }
    }
    let mut out = Vec::new();
    walk(uri, index, symbols, None, encoding, &mut out);
    out
}

/// A fold; with `line_folding_only`, lines only. The start column is left out either way, so
/// the first line (a heading, a fence) stays visible.
pub fn folding_range(
    index: &LineIndex,
    fold: &folding::Fold,
    encoding: Encoding,
    line_folding_only: bool,
) -> lsp::FoldingRange {
    let r = range(index, fold.range, encoding);
    lsp::FoldingRange {
        start_line: r.start.line,
        start_character: None,
        end_line: r.end.line,
        end_character: (!line_folding_only).then_some(r.end.character),
        kind: (fold.kind == folding::FoldKind::Comment).then_some(lsp::FoldingRangeKind::Comment),
        collapsed_text: None,
    }
}

// Code actions.

/// The LSP kind of an action. The table of contents and the templates are source actions of
/// their own kinds, so a client can bind a key to them.
pub fn action_kind(kind: crate::analysis::actions::ActionKind) -> lsp::CodeActionKind {
    use crate::analysis::actions::ActionKind;
    match kind {
        ActionKind::QuickFix => lsp::CodeActionKind::QUICKFIX,
        ActionKind::Rewrite => lsp::CodeActionKind::REFACTOR_REWRITE,
        ActionKind::TableOfContents => lsp::CodeActionKind::new(TOC_KIND),
        ActionKind::StartFromTemplate => lsp::CodeActionKind::new(START_KIND),
        ActionKind::FixAll => lsp::CodeActionKind::new(FIX_ALL_KIND),
    }
}

/// `$/jointReview/analysed`: sent after each publish when the client asked for it (see
/// `settings::analysis_notifications`): which analysis of which version was published, and
/// whether it was the last one for that version.
pub enum Analysed {}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct AnalysedParams {
    pub uri: lsp::Uri,
    pub version: i32,
    /// `"outline"` or `"full"`.
    pub pass: String,
    pub last: bool,
}

impl lsp::notification::Notification for Analysed {
    type Params = AnalysedParams;
    const METHOD: &'static str = "$/jointReview/analysed";
}

pub const TOC_KIND: &str = "source.joint-review.toc";
pub const START_KIND: &str = "source.joint-review.start";
pub const FIX_ALL_KIND: &str = "source.fixAll.joint-review";

/// True when `kind` is one of `only` or under one of them (`source.fixAll.joint-review` is
/// under `source.fixAll` and `source`); everything passes without `only`.
pub fn kind_requested(kind: &lsp::CodeActionKind, only: Option<&[lsp::CodeActionKind]>) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|o| {
            let (k, o) = (kind.as_str(), o.as_str());
            k == o || k.strip_prefix(o).is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

pub fn text_edit(index: &LineIndex, edit: &diagnostics::Edit, encoding: Encoding) -> lsp::TextEdit {
    lsp::TextEdit {
        range: range(index, edit.range, encoding),
        new_text: edit.new_text.clone(),
    }
}

/// The document's URI with a `#L<line>` fragment (1-based), which VS Code and GitHub open at
/// that line.
pub fn uri_at_line(uri: &lsp::Uri, line: u32) -> Option<lsp::Uri> {
    let base = uri.as_str().split('#').next().unwrap_or_default();
    format!("{base}#L{}", line + 1).parse().ok()
}

/// An action as an LSP code action: its edits as a workspace edit for `uri`, with the LSP
/// form of the diagnostics it fixes.
pub fn code_action(
    doc: &Document,
    uri: &lsp::Uri,
    analysis: &crate::analysis::Analysis,
    action: &crate::analysis::actions::Action,
    encoding: Encoding,
) -> lsp::CodeAction {
    let index = LineIndex::new(doc.rope());
    let diagnostics: Vec<lsp::Diagnostic> = action
        .diagnostics
        .iter()
        .map(|&i| diagnostic(&index, uri, &analysis.diagnostics[i], encoding).to_lsp())
        .collect();
    let edits = action
        .edits
        .iter()
        .map(|e| text_edit(&index, e, encoding))
        .collect();
    lsp::CodeAction {
        title: action.title.clone(),
        kind: Some(action_kind(action.kind)),
        diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some(std::collections::HashMap::from([(uri.clone(), edits)])),
            ..lsp::WorkspaceEdit::default()
        }),
        is_preferred: action.preferred.then_some(true),
        ..lsp::CodeAction::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::diagnostics::{Code, Diagnostic};

    /// Joined or not, the changes make the same text, in every encoding.
    #[test]
    fn typing_joins_into_one_insertion_with_the_same_result() {
        let text = "# Title\r\n\nab😀中\n";
        // (line, the line's text before the insertion point, inserted text)
        let typed = [
            (2, "", "x"),
            (2, "x", "😀"),
            (2, "x😀", "中"),
            (2, "x😀中", "\r"),
            // Right after that line break: its own change.
            (3, "", "\n"),
            (0, "#", "y"),
            // Not where the last one ended.
            (0, "#y ", "z"),
        ];
        for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let changes: Vec<_> = typed
                .iter()
                .map(|&(line, before, text)| {
                    let at = lsp::Position {
                        line,
                        character: encoding.len_of(before) as u32,
                    };
                    lsp::TextDocumentContentChangeEvent {
                        range: Some(lsp::Range { start: at, end: at }),
                        range_length: Some(0),
                        text: text.to_string(),
                    }
                })
                .collect();
            let apply = |changes: &[lsp::TextDocumentContentChangeEvent]| {
                let mut doc = Document::new(text);
                for c in changes {
                    let range = text_range(&doc, c.range.unwrap(), encoding);
                    doc.apply_change(range, &c.text);
                }
                doc.text()
            };
            let joined = join_insertions(changes.clone(), encoding);
            let texts: Vec<&str> = joined.iter().map(|c| c.text.as_str()).collect();
            assert_eq!(texts, ["x😀中\r", "\n", "y", "z"], "{encoding:?}");
            assert_eq!(apply(&joined), apply(&changes), "{encoding:?}");
            assert_eq!(apply(&joined), "#y zTitle\r\n\nx😀中\r\nab😀中\n");
        }
    }

    /// What is published is what `ls_types` would have sent for the same diagnostic.
    #[test]
    fn the_wire_form_is_the_ls_types_json() {
        let doc = Document::new("# Title 😀\n\n## Goals\r\ntext\n");
        let index = LineIndex::new(doc.rope());
        let uri: lsp::Uri = "file:///review.md".parse().unwrap();
        let with_all = Diagnostic::new(Code::SectionOrder, TextRange::new(12, 20), "m \"q\"")
            .section("Goals")
            .related(TextRange::new(2, 11), "r");
        let bare = Diagnostic::new(Code::TemplateText, TextRange::new(22, 26), "t");
        for d in [&with_all, &bare] {
            for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                let wire = diagnostic(&index, &uri, d, encoding);
                assert_eq!(
                    serde_json::to_value(&wire).unwrap(),
                    serde_json::to_value(wire.to_lsp()).unwrap()
                );
            }
        }
        let published = PublishDiagnostics {
            uri: &uri,
            version: Some(3),
            diagnostics: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(&published).unwrap(),
            serde_json::to_value(lsp::PublishDiagnosticsParams::new(
                uri.clone(),
                vec![],
                Some(3)
            ))
            .unwrap()
        );
    }
}
