//! What the analysis needs from a Markdown document, read off the block tree: headings with
//! their sections, content blocks, tables and `#anchor` links.
//!
//! Inline content (heading text, table cells, link targets) is parsed with the inline grammar
//! only for the blocks that need it, through an [`InlineCache`] keyed by the block's text, so a
//! keystroke re-parses only the inline content it changed.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use tree_sitter::{Node, Parser, Tree};

use super::document::Document;
use super::text::TextRange;

/// A heading (ATX or setext).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    /// The heading's lines, without the final line break.
    pub range: TextRange,
    /// The raw text after the `#` marker (or the setext paragraph), trimmed.
    pub content: TextRange,
    /// The rendered text: markup removed, code and link text kept, images dropped. Shared: a
    /// heading kept from the last scan keeps its text, so its words are found by address.
    pub text: Arc<str>,
    /// From the heading's start to the next heading of the same or a higher level.
    pub section: TextRange,
    /// An empty ATX heading directly followed by a line of bold text (`##` then
    /// `**Metadata**`, as documents exported from word processors have): `content` and `text`
    /// come from that line, and this is the whole bold line.
    pub bold_line_title: Option<TextRange>,
}

/// What kind of content block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Paragraph,
    List,
    Table,
    Code,
    Html,
    /// An HTML block that is only comments: not content a reader sees.
    Comment,
    Quote,
    Other,
}

/// A content block that is not a heading: a paragraph, a list item's paragraph, a table ...
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub range: TextRange,
}

/// A pipe table: rows of cells, the header row first (the delimiter row left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub range: TextRange,
    pub rows: Vec<Vec<TextRange>>,
}

/// A link whose target is an anchor in this document (`[text](#anchor)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorLink {
    /// The whole link.
    pub range: TextRange,
    /// The target after `#`, as written (the `#` excluded).
    pub target: TextRange,
    pub anchor: String,
    /// The link's rendered text.
    pub text: String,
}

/// A list item that is an entry of a list of links (a table of contents candidate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    pub range: TextRange,
    /// Nesting depth: 0 for a top-level item.
    pub depth: usize,
    pub marker: String,
}

/// Everything the rules read, for one version of a document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Syntax {
    pub headings: Vec<Heading>,
    pub blocks: Vec<Block>,
    pub tables: Vec<Table>,
    pub lists: Vec<(TextRange, Vec<ListItem>)>,
    /// Inline content ranges (paragraph text, table cells), where links may be.
    pub inlines: Vec<TextRange>,
    pub len: usize,
}

impl Syntax {
    /// Reads the block tree of `doc`.
    ///
    /// A `section` node that the last edit left alone is the same tree-sitter subtree (same
    /// node id) in the new tree, so what was read from it last time is reused from the
    /// cache's [`Part`]s rather than read again: a keystroke re-reads only the sections on the
    /// path to the edit.
    pub fn new(doc: &Document, cache: &mut InlineCache) -> Syntax {
        let mut sections = std::mem::take(&mut cache.sections);
        let mut next = HashMap::with_capacity(sections.parts.len());
        let root = doc.tree().root_node();
        let top = read_part(doc, root, cache, &sections.parts, &mut next);
        // The old tree is kept while its node ids are keys: a live subtree's id is never reused.
        sections.parts = next;
        sections.tree = Some(doc.tree().clone());
        cache.sections = sections;

        let mut syntax = Syntax {
            len: doc.len(),
            ..Syntax::default()
        };
        top.flatten_into(root.start_byte(), &mut syntax);
        // Document order (a part's sub-sections come after its own content); stable sorts
        // keep the depth-first order of nested nodes that start together.
        syntax.headings.sort_by_key(|h| h.range.start);
        syntax.blocks.sort_by_key(|b| b.range.start);
        syntax.tables.sort_by_key(|t| t.range.start);
        syntax.lists.sort_by_key(|l| l.0.start);
        syntax.inlines.sort();
        set_sections(&mut syntax.headings, syntax.len);
        syntax
    }

    /// The blocks inside a range.
    pub fn blocks_in(&self, range: TextRange) -> impl Iterator<Item = &Block> {
        let first = self.blocks.partition_point(|b| b.range.start < range.start);
        self.blocks[first..]
            .iter()
            .take_while(move |b| b.range.start < range.end)
    }

    /// Every `#anchor` link in the document, in order.
    pub fn anchor_links(&self, doc: &Document, cache: &mut InlineCache) -> Vec<AnchorLink> {
        let mut links = Vec::new();
        for &inline in &self.inlines {
            // An anchor link's destination starts with a `#` written in the text.
            if !doc.contains_byte(inline, b'#') {
                continue;
            }
            let facts = cache.facts(&doc.slice(inline));
            for link in &facts.links {
                if let Some(anchor) = link.destination.strip_prefix('#') {
                    links.push(AnchorLink {
                        range: shift(link.range, inline.start),
                        target: shift(
                            TextRange::new(
                                link.destination_range.start + 1,
                                link.destination_range.end,
                            ),
                            inline.start,
                        ),
                        anchor: percent_decode(anchor),
                        text: link.text.clone(),
                    });
                }
            }
        }
        links
    }

    /// The heading whose line holds `offset`.
    pub fn heading_at(&self, offset: usize) -> Option<usize> {
        // Headings are in document order and do not overlap: the only candidate is the last
        // one starting at or before `offset`.
        let after = self.headings.partition_point(|h| h.range.start <= offset);
        let h = after.checked_sub(1)?;
        self.headings[h].range.touches(offset).then_some(h)
    }
}

/// Sets each heading's section: from its start to the next heading of the same or a higher
/// level (the nearest one after it, found with a stack of candidates from the end), or `len`.
pub(crate) fn set_sections(headings: &mut [Heading], len: usize) {
    let mut later: Vec<usize> = Vec::new();
    for i in (0..headings.len()).rev() {
        let level = headings[i].level;
        while later.last().is_some_and(|&j| headings[j].level > level) {
            later.pop();
        }
        let end = later.last().map_or(len, |&j| headings[j].range.start);
        let h = &mut headings[i];
        h.section = TextRange::new(h.range.start, end.max(h.range.end));
        later.push(i);
    }
}

/// What was read from one `section` node (or the document), offsets relative to its start;
/// sub-sections are parts of their own, kept in the cache by node id.
#[derive(Default)]
struct Part {
    headings: Vec<Heading>,
    blocks: Vec<Block>,
    tables: Vec<Table>,
    lists: Vec<(TextRange, Vec<ListItem>)>,
    inlines: Vec<TextRange>,
    /// Sub-sections: node id, start relative to this part's, and what was read from it.
    sections: Vec<(usize, usize, Arc<Part>)>,
}

/// The cache's parts of the last tree read, by node id, and that tree (see [`Syntax::new`]).
#[derive(Default)]
pub(crate) struct SectionParts {
    tree: Option<Tree>,
    parts: HashMap<usize, Arc<Part>>,
}

impl Part {
    /// Moves every range of this part's own content by `f`.
    fn map_ranges(&mut self, f: impl Fn(TextRange) -> TextRange) {
        for h in &mut self.headings {
            h.range = f(h.range);
            h.content = f(h.content);
            h.section = f(h.section);
            h.bold_line_title = h.bold_line_title.map(&f);
        }
        for b in &mut self.blocks {
            b.range = f(b.range);
        }
        for t in &mut self.tables {
            t.range = f(t.range);
            for cell in t.rows.iter_mut().flatten() {
                *cell = f(*cell);
            }
        }
        for (r, items) in &mut self.lists {
            *r = f(*r);
            for item in items {
                item.range = f(item.range);
            }
        }
        for r in &mut self.inlines {
            *r = f(*r);
        }
    }

    /// Appends this part, and its sub-sections, to `out` with offsets from `base`.
    fn flatten_into(&self, base: usize, out: &mut Syntax) {
        let mut own = Part {
            headings: self.headings.clone(),
            blocks: self.blocks.clone(),
            tables: self.tables.clone(),
            lists: self.lists.clone(),
            inlines: self.inlines.clone(),
            sections: Vec::new(),
        };
        own.map_ranges(|r| shift(r, base));
        out.headings.append(&mut own.headings);
        out.blocks.append(&mut own.blocks);
        out.tables.append(&mut own.tables);
        out.lists.append(&mut own.lists);
        out.inlines.append(&mut own.inlines);
        for (_, at, part) in &self.sections {
            part.flatten_into(base + at, out);
        }
    }

    /// Records this part and its sub-sections under their ids in `next`.
    fn keep(self: &Arc<Part>, id: usize, next: &mut HashMap<usize, Arc<Part>>) {
        next.insert(id, self.clone());
        for (sub, _, part) in &self.sections {
            part.keep(*sub, next);
        }
    }
}

/// Reads one node's content into a part: sub-sections from `prev` when unchanged, else read.
fn read_part(
    doc: &Document,
    node: Node,
    cache: &mut InlineCache,
    prev: &HashMap<usize, Arc<Part>>,
    next: &mut HashMap<usize, Arc<Part>>,
) -> Arc<Part> {
    let mut part = Part::default();
    // Depth-first, in document order; with each node, whether its parent is a list item
    // (asking tree-sitter for a node's parent walks down from the root).
    let mut stack = Vec::new();
    let mut cursor = node.walk();
    stack.extend(node.children(&mut cursor).map(|c| (c, false)));
    stack.reverse();
    while let Some((node, in_list_item)) = stack.pop() {
        match node.kind() {
            "section" => {
                let id = node.id();
                let sub = match prev.get(&id) {
                    Some(sub) => sub.clone(),
                    None => read_part(doc, node, cache, prev, next),
                };
                sub.keep(id, next);
                part.sections.push((id, node.start_byte(), sub));
                continue;
            }
            "atx_heading" | "setext_heading" => {
                if let Some(h) = read_heading(doc, node, cache) {
                    part.headings.push(h);
                }
                continue;
            }
            "paragraph" => {
                part.blocks.push(block(BlockKind::Paragraph, node));
                collect_inlines(node, &mut part.inlines);
                continue;
            }
            "pipe_table" => {
                part.blocks.push(block(BlockKind::Table, node));
                part.tables.push(read_table(doc, node, &mut part.inlines));
                continue;
            }
            // Nested lists are read with their top-level list.
            "list" if !in_list_item => {
                let mut items = Vec::new();
                read_list(doc, node, 0, &mut items);
                part.lists.push((range(node), items));
            }
            "fenced_code_block" | "indented_code_block" => {
                part.blocks.push(block(BlockKind::Code, node));
                continue;
            }
            "html_block" => {
                let kind = if is_only_comments(&doc.slice(range(node))) {
                    BlockKind::Comment
                } else {
                    BlockKind::Html
                };
                part.blocks.push(block(kind, node));
                continue;
            }
            "block_quote" => part.blocks.push(block(BlockKind::Quote, node)),
            "thematic_break" | "link_reference_definition" | "minus_metadata" | "plus_metadata" => {
                part.blocks.push(block(BlockKind::Other, node));
                continue;
            }
            _ => {}
        }
        let is_list_item = node.kind() == "list_item";
        let first = stack.len();
        stack.extend(node.children(&mut cursor).map(|c| (c, is_list_item)));
        stack[first..].reverse();
    }
    let start = node.start_byte();
    part.map_ranges(|r| TextRange::new(r.start - start, r.end - start));
    for (_, at, _) in &mut part.sections {
        *at -= start;
    }
    Arc::new(part)
}

/// The range of `text.trim()`, for `text` found at byte `at`.
fn trim_range(text: &str, at: usize) -> TextRange {
    let start = at + text.len() - text.trim_start().len();
    TextRange::new(start, start + text.trim().len())
}

fn shift(r: TextRange, by: usize) -> TextRange {
    TextRange::new(r.start + by, r.end + by)
}

fn range(node: Node) -> TextRange {
    TextRange::new(node.start_byte(), node.end_byte())
}

fn block(kind: BlockKind, node: Node) -> Block {
    Block {
        kind,
        range: trim_end_newlines_range(node),
    }
}

/// A block node's range without its trailing line breaks (tree-sitter-md includes them).
fn trim_end_newlines_range(node: Node) -> TextRange {
    range(node)
}

fn collect_inlines(node: Node, out: &mut Vec<TextRange>) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if child.kind() == "inline" {
            out.push(range(child));
        }
    }
}

fn read_heading(doc: &Document, node: Node, cache: &mut InlineCache) -> Option<Heading> {
    let mut level = 0u8;
    let mut content = None;
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.kind() {
            "atx_h1_marker" | "setext_h1_underline" => level = 1,
            "atx_h2_marker" | "setext_h2_underline" => level = 2,
            "atx_h3_marker" => level = 3,
            "atx_h4_marker" => level = 4,
            "atx_h5_marker" => level = 5,
            "atx_h6_marker" => level = 6,
            "inline" => content = Some(range(child)),
            "paragraph" => {
                let mut c = child.walk();
                content = child
                    .children(&mut c)
                    .find(|n| n.kind() == "inline")
                    .map(range);
            }
            _ => {}
        }
    }
    if level == 0 {
        return None;
    }
    let mut heading = heading(doc, level, range(node), content, cache);
    if heading.text.is_empty() && node.kind() == "atx_heading" {
        if let Some(next) = node.next_sibling().filter(|n| n.kind() == "paragraph") {
            take_bold_line(doc, &mut heading, range(next), cache);
        }
    }
    Some(heading)
}

/// A heading from its node's range (`node`, line breaks included) and its `inline` content's,
/// before any bold line title; the section is left to [`set_sections`].
pub(crate) fn heading(
    doc: &Document,
    level: u8,
    node: TextRange,
    inline: Option<TextRange>,
    cache: &mut InlineCache,
) -> Heading {
    // The node without its trailing line breaks, read off the rope (a slice would copy it).
    let mut end = node.end.min(doc.len());
    while end > node.start && matches!(doc.rope().byte(end - 1), b'\r' | b'\n') {
        end -= 1;
    }
    let range = TextRange::new(node.start, end);
    let (content, text) = match inline {
        Some(c) => {
            let raw = doc.slice(c);
            let trimmed = trim_range(strip_closing_hashes(&raw), c.start);
            let text = &raw[trimmed.start - c.start..trimmed.end - c.start];
            (trimmed, cache.facts(text).rendered.clone())
        }
        None => (TextRange::empty(range.end), String::new()),
    };
    Heading {
        level,
        range,
        content,
        text: text.into(),
        section: range,
        bold_line_title: None,
    }
}

/// For an empty ATX heading whose next block is the paragraph `para`: when that paragraph
/// starts on the next line and its first line is wholly bold text, that text is the heading's
/// title.
pub(crate) fn take_bold_line(
    doc: &Document,
    heading: &mut Heading,
    para: TextRange,
    cache: &mut InlineCache,
) {
    let line_start = para.start;
    if doc.rope().byte_to_line(line_start) != doc.rope().byte_to_line(heading.range.start) + 1 {
        return;
    }
    let para = doc.slice(para);
    let first_line = para.lines().next().unwrap_or("");
    let trimmed = first_line.trim();
    let inner = trimmed
        .strip_prefix("**")
        .and_then(|t| t.strip_suffix("**"));
    let Some(inner) = inner.filter(|i| !i.trim().is_empty() && !i.contains("**")) else {
        return;
    };
    let inner_start = line_start + first_line.find("**").unwrap_or(0) + 2;
    let content = trim_range(inner, inner_start);
    heading.text = cache.facts(&doc.slice(content)).rendered.as_str().into();
    heading.content = content;
    heading.bold_line_title = Some(TextRange::new(line_start, line_start + first_line.len()));
}

/// `## Title ##` -> `## Title` (the optional closing sequence of an ATX heading).
fn strip_closing_hashes(raw: &str) -> &str {
    let t = raw.trim_end();
    let without = t.trim_end_matches('#');
    if without.len() < t.len() && (without.is_empty() || without.ends_with([' ', '\t'])) {
        without
    } else {
        raw
    }
}

fn read_table(doc: &Document, node: Node, inlines: &mut Vec<TextRange>) -> Table {
    let mut rows = Vec::new();
    let mut cursor = node.walk();
    for row in node.children(&mut cursor) {
        if !matches!(row.kind(), "pipe_table_header" | "pipe_table_row") {
            continue;
        }
        let mut cells = Vec::new();
        let mut c = row.walk();
        for cell in row.children(&mut c) {
            if cell.kind() == "pipe_table_cell" {
                let cell = trim_range(&doc.slice(range(cell)), range(cell).start);
                inlines.push(cell);
                cells.push(cell);
            }
        }
        rows.push(cells);
    }
    Table {
        range: range(node),
        rows,
    }
}

fn read_list(doc: &Document, list: Node, depth: usize, out: &mut Vec<ListItem>) {
    let mut cursor = list.walk();
    for item in list.children(&mut cursor) {
        if item.kind() != "list_item" {
            continue;
        }
        let mut marker = String::new();
        let mut c = item.walk();
        for child in item.children(&mut c) {
            if child.kind().starts_with("list_marker") {
                marker = doc.slice(range(child)).trim().to_string();
            }
        }
        let r = range(item);
        out.push(ListItem {
            range: TextRange::new(r.start, r.start + doc.trim_end_len(r)),
            depth,
            marker,
        });
        let mut c = item.walk();
        for child in item.children(&mut c) {
            if child.kind() == "list" {
                read_list(doc, child, depth + 1, out);
            }
        }
    }
}

fn is_only_comments(html: &str) -> bool {
    let mut rest = html.trim();
    while let Some(after) = rest.strip_prefix("<!--") {
        match after.find("-->") {
            Some(end) => rest = after[end + 3..].trim_start(),
            None => return true,
        }
    }
    rest.is_empty()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A link found in inline content, offsets relative to that content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineLink {
    pub range: TextRange,
    pub destination: String,
    pub destination_range: TextRange,
    pub text: String,
}

/// What one piece of inline content holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InlineFacts {
    pub rendered: String,
    pub links: Vec<InlineLink>,
}

/// The bytes that can start or end inline markup that [`render`] removes or that makes a link.
const INLINE_MARKUP: &[u8] = b"*_~`[<\\";
/// Inline content with more markup characters than this is not parsed (see `InlineCache::parse`);
/// real headings, table cells and link lists have a few dozen at most.
const MAX_INLINE_MARKUP: usize = 256;
/// Inline content longer than this is not parsed either.
const MAX_INLINE_BYTES: usize = 64 * 1024;

/// Inline parses, keyed by the inline text, kept from one analysis to the next. Entries not
/// used by the last analysis are dropped by [`InlineCache::sweep`].
pub struct InlineCache {
    parser: Parser,
    entries: HashMap<Box<str>, (Arc<InlineFacts>, bool)>,
    /// What rules derived from an inline text (see [`InlineCache::derived`]), by the type
    /// derived and the outline, then by text; swept like `entries`.
    derived: HashMap<(TypeId, &'static str), DerivedEntries>,
    /// What [`Syntax::new`] read from each section of the last tree.
    sections: SectionParts,
    /// The outline pass's last text and headings (see `rescan.rs`).
    pub(crate) last_scan: Option<super::rescan::LastScan>,
    /// The last analysis's alignment and anchors (see `analysis::finish`).
    pub(crate) last_outline: Option<super::LastOutline>,
}

type DerivedEntries = HashMap<Box<str>, (Arc<dyn Any + Send + Sync>, bool)>;

impl Default for InlineCache {
    fn default() -> Self {
        Self::new()
    }
}

impl InlineCache {
    pub fn new() -> Self {
        let mut parser = Parser::new();
        parser
            .set_language(&tree_sitter_md::INLINE_LANGUAGE.into())
            .expect("the bundled tree-sitter-md inline grammar matches the tree-sitter version");
        Self {
            parser,
            entries: HashMap::new(),
            derived: HashMap::new(),
            sections: SectionParts::default(),
            last_scan: None,
            last_outline: None,
        }
    }

    pub fn facts(&mut self, text: &str) -> Arc<InlineFacts> {
        if let Some((facts, used)) = self.entries.get_mut(text) {
            *used = true;
            return facts.clone();
        }
        let facts = Arc::new(self.parse(text));
        self.entries.insert(text.into(), (facts.clone(), true));
        facts
    }

    /// Drops what was kept of the last tree (see [`Document::forget_tree`]).
    pub fn forget_tree(&mut self) {
        self.sections = SectionParts::default();
    }

    /// Drops entries not asked for since the last sweep.
    pub fn sweep(&mut self) {
        self.entries.retain(|_, (_, used)| std::mem::take(used));
        for entries in self.derived.values_mut() {
            entries.retain(|_, (_, used)| std::mem::take(used));
        }
        self.derived.retain(|_, entries| !entries.is_empty());
    }

    /// `derive(text)`, remembered between analyses while the text is used: for rule work that
    /// depends only on an inline text and the outline (named by `outline`), so a keystroke
    /// redoes it only for the text it changed.
    pub fn derived<T: Any + Send + Sync>(
        &mut self,
        outline: &'static str,
        text: &str,
        derive: impl FnOnce(&str) -> T,
    ) -> Arc<T> {
        let entries = self
            .derived
            .entry((TypeId::of::<T>(), outline))
            .or_default();
        if let Some((value, used)) = entries.get_mut(text) {
            if let Ok(value) = value.clone().downcast::<T>() {
                *used = true;
                return value;
            }
        }
        let value = Arc::new(derive(text));
        entries.insert(text.into(), (value.clone(), true));
        value
    }

    fn parse(&mut self, text: &str) -> InlineFacts {
        let plain = || InlineFacts {
            rendered: text.trim().to_string(),
            links: Vec::new(),
        };
        // Without markup characters the rendered text is the text itself. With too many, or
        // too much text, it is taken as written: tree-sitter-md's inline scanner is quadratic
        // in runs of delimiters and in unmatched openers (16 000 `*` take seconds).
        let markup = text.bytes().filter(|b| INLINE_MARKUP.contains(b)).count();
        if markup == 0 || markup > MAX_INLINE_MARKUP || text.len() > MAX_INLINE_BYTES {
            return plain();
        }
        let Some(tree) = self.parser.parse(text, None) else {
            return plain();
        };
        let root = tree.root_node();
        let mut links = Vec::new();
        collect_links(root, text, &mut links);
        InlineFacts {
            rendered: render(root, text).trim().to_string(),
            links,
        }
    }
}

fn collect_links(node: Node, text: &str, out: &mut Vec<InlineLink>) {
    if node.kind() == "inline_link" {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.children(&mut cursor).collect();
        let dest = children.iter().find(|c| c.kind() == "link_destination");
        let label = children.iter().find(|c| c.kind() == "link_text");
        if let Some(dest) = dest {
            out.push(InlineLink {
                range: range(node),
                destination: text[dest.byte_range()].to_string(),
                destination_range: range(*dest),
                text: label.map(|l| render(*l, text)).unwrap_or_default(),
            });
        }
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect_links(child, text, out);
    }
}

/// The rendered text of an inline node, as GitHub's anchor rules see it.
fn render(node: Node, text: &str) -> String {
    match node.kind() {
        "image"
        | "emphasis_delimiter"
        | "code_span_delimiter"
        | "html_tag"
        | "link_destination"
        | "link_title"
        | "link_label" => return String::new(),
        "backslash_escape" => return text[node.byte_range()].chars().skip(1).collect(),
        "uri_autolink" | "email_autolink" => {
            return text[node.byte_range()]
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        }
        // `[Project]` with no link definition (the template's placeholder) shows as written;
        // definitions are rare in these documents, and anchors drop the brackets either way.
        "shortcut_link" => return text[node.byte_range()].to_string(),
        "inline_link" | "full_reference_link" | "collapsed_reference_link" => {
            let mut cursor = node.walk();
            let label = node.children(&mut cursor).find(|c| c.kind() == "link_text");
            return label.map(|l| render(l, text)).unwrap_or_default();
        }
        _ => {}
    }
    let mut out = String::new();
    let mut pos = node.start_byte();
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        out.push_str(&text[pos..child.start_byte()]);
        out.push_str(&render(child, text));
        pos = child.end_byte();
    }
    out.push_str(&text[pos..node.end_byte()]);
    // Brackets of a link text are not part of its rendered text.
    if node.kind() == "link_text" {
        return out
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(text: &str) -> Syntax {
        Syntax::new(&Document::new(text), &mut InlineCache::new())
    }

    #[test]
    fn headings_with_markup_and_sections() {
        let s = syntax("# Title\n\n## **Background** `x` [l](y)\ntext\n### Sub ##\n## Next\n");
        let got: Vec<_> = s.headings.iter().map(|h| (h.level, &*h.text)).collect();
        assert_eq!(
            got,
            [(1, "Title"), (2, "Background x l"), (3, "Sub"), (2, "Next")]
        );
        assert_eq!(s.headings[1].section.end, s.headings[3].range.start);
        assert_eq!(s.headings[0].section.end, s.len);
    }

    #[test]
    fn empty_table_rows_do_not_swallow_the_rest() {
        let s = syntax("# A\n\n|||\n| -- | -- |\n| x | y |\n| | |\n\n## B\n");
        assert_eq!(s.headings.len(), 2);
        let s = syntax("# A\n\n| a | b |\n| -- | -- |\n| x | y |\n| | |\n| z | w |\n\n## B\n");
        assert_eq!(s.headings.len(), 2);
        assert_eq!(s.tables[0].rows.len(), 4);
    }

    /// Reading a tree with parts kept from earlier versions gives what a fresh read gives,
    /// through edits that add, remove and move headings, fences, lists and tables.
    #[test]
    fn reused_sections_read_as_fresh() {
        let mut doc = Document::new(include_str!(
            "../../../tests/corpus/real/openfga-joint-assessment.md"
        ));
        let mut warm = InlineCache::new();
        let snippets = [
            "x",
            "\n",
            "\n\n",
            "## New",
            "\n### Sub\n",
            "#",
            "```\n",
            "- a\n- b\n",
            "| a | b |\n| - | - |\n",
            "**",
            "[l](#goal)",
            "\r\n",
            "\n# Top\n",
            "> q\n",
        ];
        let mut next = crate::analysis::fixture::random_below(0x2545_f491_4f6c_dd1d);
        for step in 0..150 {
            let len = doc.len();
            let at = doc.floor_char_boundary(next(len + 1));
            let range = if next(3) == 0 {
                TextRange::new(at, doc.floor_char_boundary(at + next(200)))
            } else {
                TextRange::empty(at)
            };
            doc.apply_change(range, snippets[next(snippets.len())]);
            let reused = Syntax::new(&doc, &mut warm);
            warm.sweep();
            assert_eq!(
                reused,
                Syntax::new(&doc, &mut InlineCache::new()),
                "step {step}"
            );
        }
    }

    #[test]
    fn inline_text_without_markup_is_not_parsed_but_renders_the_same() {
        let mut cache = InlineCache::new();
        for text in [
            "Plain words",
            "  padded  ",
            "a & b; c > d",
            "Q&amp;A 1.0 (x)",
            "x  \ny",
        ] {
            let parsed = cache.parser.parse(text, None).unwrap();
            assert_eq!(
                cache.facts(text).rendered,
                render(parsed.root_node(), text).trim(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn pathological_inline_content_is_taken_as_written() {
        let mut cache = InlineCache::new();
        for text in [
            "*".repeat(100_000),
            "*a **b ".repeat(10_000),
            "x".repeat(100_000),
        ] {
            let start = std::time::Instant::now();
            assert_eq!(cache.facts(&text).rendered, text.trim());
            assert!(start.elapsed() < std::time::Duration::from_secs(2));
        }
        assert_eq!(cache.facts("**Bold** and `code`").rendered, "Bold and code");
    }

    #[test]
    fn anchor_links() {
        let doc = Document::new("* [Meta data](#meta%20data)\n* [x](http://a)\n");
        let mut cache = InlineCache::new();
        let s = Syntax::new(&doc, &mut cache);
        let links = s.anchor_links(&doc, &mut cache);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].anchor, "meta data");
        assert_eq!(links[0].text, "Meta data");
        assert_eq!(doc.slice(links[0].target), "meta%20data");
    }
}
