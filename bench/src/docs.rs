//! The documents benchmarked: the real ones in `tests/corpus/real/`, larger ones generated from
//! `openfga-joint-assessment.md`, and one with a 1 MB line.
//!
//! A generated document keeps the real one's front matter (preamble, title, table of contents,
//! Metadata) and then repeats its body sections, the copies' headings renamed ("Threat Model
//! (part 2)"), so it stays a plausible document: one outline, many extra sections, links that
//! resolve. Each document also names the line where typing happens (the end of a paragraph
//! line in the middle) and a heading near the middle for hover and completion.

use std::fs;
use std::path::{Path, PathBuf};

/// A document to benchmark.
pub struct BenchDoc {
    /// A short label for tables ("openfga-joint-assessment", "10k lines", ...).
    pub label: String,
    /// A file name that lets the server pick the outline as it would for the real file.
    pub file_name: String,
    pub text: String,
    /// 0-based line where characters are typed, at its end.
    pub typing_line: usize,
    /// 0-based line of a heading near the middle (hover, completion).
    pub heading_line: usize,
}

impl BenchDoc {
    pub fn new(label: &str, file_name: &str, text: String) -> BenchDoc {
        let typing_line = typing_line(&text);
        let heading_line = heading_line(&text);
        BenchDoc {
            label: label.to_string(),
            file_name: file_name.to_string(),
            text,
            typing_line,
            heading_line,
        }
    }

    pub fn lines(&self) -> usize {
        self.text.lines().count()
    }

    /// The text of a 0-based line, without its line break.
    pub fn line(&self, line: usize) -> &str {
        self.text.lines().nth(line).unwrap_or("")
    }

    /// Byte offset of the end of a 0-based line (before its line break).
    pub fn line_end_offset(&self, line: usize) -> usize {
        let mut offset = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i == line {
                return offset + l.trim_end_matches(['\n', '\r']).len();
            }
            offset += l.len();
        }
        self.text.len()
    }
}

/// The workspace root (holds `tests/` and `target/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the workspace")
        .to_path_buf()
}

/// The real documents, sorted by name.
pub fn real_docs() -> Vec<BenchDoc> {
    let dir = workspace_root().join("tests/corpus/real");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let text = fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            BenchDoc::new(name.trim_end_matches(".md"), &name, text)
        })
        .collect()
}

/// The real document the others are generated from.
pub const SEED: &str = "openfga-joint-assessment.md";

fn seed_text() -> String {
    let path = workspace_root().join("tests/corpus/real").join(SEED);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A document of at least `lines` lines: the seed's front matter, then its body sections
/// (from `## Overview` on) repeated, each copy's headings renamed.
pub fn generated(lines: usize) -> BenchDoc {
    let seed = seed_text();
    let body_start = seed
        .find("\n## Overview")
        .map_or(0, |i| i + 1)
        .min(seed.len());
    let (front, body) = seed.split_at(body_start);
    let mut text = String::with_capacity(seed.len() * (lines / 700 + 1));
    text.push_str(front);
    text.push_str(body);
    let body_lines = body.lines().count() + 1;
    let mut count = text.lines().count();
    let mut part = 2;
    while count < lines {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&renamed_headings(body, part));
        count += body_lines;
        part += 1;
    }
    let label = if lines >= 1000 {
        format!("{}k lines", lines / 1000)
    } else {
        format!("{lines} lines")
    };
    BenchDoc::new(&label, SEED, text)
}

/// `body` with " (part N)" after each ATX heading's text (headings in code fences left alone).
fn renamed_headings(body: &str, part: usize) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    let mut fence: Option<&str> = None;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_start();
        for marker in ["```", "~~~"] {
            if trimmed.starts_with(marker) {
                match fence {
                    Some(open) if open == marker => fence = None,
                    None => fence = Some(marker),
                    Some(_) => {}
                }
            }
        }
        let hashes = line.bytes().take_while(|&b| b == b'#').count();
        if fence.is_none() && (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let content = line.trim_end_matches(['\n', '\r']);
            out.push_str(content);
            out.push_str(&format!(" (part {part})"));
            out.push_str(&line[content.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The seed with one paragraph of one line of about `bytes` bytes in its middle: the seed's
/// own prose joined and repeated, as a document pasted from a word processor would have.
pub fn long_line(bytes: usize) -> BenchDoc {
    let seed = seed_text();
    let prose: Vec<&str> = seed
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty()
                && t.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '[')
                && !t.starts_with('|')
        })
        .collect();
    let mut line = String::with_capacity(bytes + 4096);
    'fill: loop {
        for p in &prose {
            line.push_str(p.trim());
            line.push(' ');
            if line.len() >= bytes {
                break 'fill;
            }
        }
    }
    let line = line.trim_end();
    let lines: Vec<&str> = seed.lines().collect();
    // After a blank line near the middle, so the long line is a paragraph of its own.
    let mut at = lines.len() / 2;
    while at < lines.len() && !lines[at].trim().is_empty() {
        at += 1;
    }
    let mut text = String::with_capacity(seed.len() + line.len() + 2);
    for l in &lines[..=at.min(lines.len() - 1)] {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(line);
    text.push_str("\n\n");
    for l in lines.iter().skip(at + 1) {
        text.push_str(l);
        text.push('\n');
    }
    let mut doc = BenchDoc::new(&format!("one {} MB line", bytes / 1_000_000), SEED, text);
    doc.typing_line = at + 1;
    doc
}

/// Every document the end-to-end benchmark runs on, in table order.
pub fn all() -> Vec<BenchDoc> {
    let mut docs = real_docs();
    docs.push(generated(10_000));
    docs.push(generated(100_000));
    docs.push(long_line(1_000_000));
    docs
}

fn is_paragraph_line(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty()
        && line.len() == t.len()
        && t.chars().next().is_some_and(char::is_alphanumeric)
        && !t.ends_with('|')
}

/// The first plain paragraph line at or after the middle (outside code fences).
fn typing_line(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let in_fence = fence_map(&lines);
    (lines.len() / 2..lines.len())
        .chain(0..lines.len() / 2)
        .find(|&i| !in_fence[i] && is_paragraph_line(lines[i]))
        .unwrap_or(lines.len().saturating_sub(1))
}

/// The first ATX heading at or after the middle (outside code fences).
fn heading_line(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let in_fence = fence_map(&lines);
    (lines.len() / 2..lines.len())
        .chain(0..lines.len() / 2)
        .find(|&i| !in_fence[i] && lines[i].starts_with("## "))
        .unwrap_or(0)
}

fn fence_map(lines: &[&str]) -> Vec<bool> {
    let mut inside = false;
    lines
        .iter()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("```") || t.starts_with("~~~") {
                inside = !inside;
                return true;
            }
            inside
        })
        .collect()
}
