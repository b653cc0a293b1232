//! Architecture and style rules, checked as tests (in the spirit of rust-analyzer's `tidy.rs`).
//!
//! Each test lists every violation as `path:line: what is wrong`, paths relative to the
//! repository root. Source is read with a small Rust lexer so that comments (and the contents
//! of string and char literals) never count as code.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

/// Crates the analysis must not name: it knows neither LSP nor async.
const FORBIDDEN_CRATE_PREFIXES: &[&str] = &["tower_lsp", "ls_types", "lsp_types", "tokio"];

/// Paths the analysis must not use: no file system, network or processes, and no untyped JSON.
const FORBIDDEN_PATHS: &[&[&str]] = &[
    &["std", "fs"],
    &["std", "net"],
    &["std", "process"],
    &["serde_json", "Value"],
];

#[test]
fn analysis_knows_no_lsp_async_io_or_untyped_json() {
    let mut problems = Vec::new();
    let files = rust_files(&server_dir().join("src/analysis"));
    assert!(
        !files.is_empty(),
        "no .rs files found under server/src/analysis"
    );
    for file in files {
        let source = read(&file);
        problems.extend(forbidden_mentions(&source).into_iter().map(|(line, what)| {
            format!("{}:{line}: the analysis mentions `{what}`", shown(&file))
        }));
    }
    assert_no_problems(
        "server/src/analysis must stay free of LSP, tokio and I/O",
        &problems,
    );
}

#[test]
fn every_module_starts_with_a_module_doc() {
    let mut problems = Vec::new();
    for file in rust_files(&server_dir().join("src")) {
        let source = read(&file);
        let first = source.lines().next().unwrap_or("");
        if !first.trim_start_matches('\u{feff}').starts_with("//!") {
            problems.push(format!(
                "{}:1: the first line is {first:?}, not a `//!` line saying what the module is for",
                shown(&file)
            ));
        }
    }
    assert_no_problems(
        "every .rs file under server/src starts with a `//!` line",
        &problems,
    );
}

#[test]
fn stdout_belongs_to_the_protocol() {
    let src = server_dir().join("src");
    let cli = src.join("cli");
    let mut problems = Vec::new();
    for file in rust_files(&src) {
        if file.starts_with(&cli) {
            continue;
        }
        let source = read(&file);
        for (line, what) in print_macros(&source) {
            problems.push(format!(
                "{}:{line}: `{what}!` outside server/src/cli (stdout is the protocol's; use tracing)",
                shown(&file)
            ));
        }
    }
    assert_no_problems("no print!/println! outside server/src/cli", &problems);
}

#[test]
fn every_query_file_compiles() {
    let queries = repo_dir().join("grammars/queries");
    if !queries.is_dir() {
        eprintln!("{} does not exist; no queries to check", shown(&queries));
        return;
    }
    let block: tree_sitter::Language = tree_sitter_md::LANGUAGE.into();
    let inline: tree_sitter::Language = tree_sitter_md::INLINE_LANGUAGE.into();
    let mut problems = Vec::new();
    for file in files_with_extension(&queries, "scm") {
        let source = read(&file);
        let Err(block_error) = tree_sitter::Query::new(&block, &source) else {
            continue;
        };
        let Err(inline_error) = tree_sitter::Query::new(&inline, &source) else {
            continue;
        };
        // Report first the error of the grammar the file seems meant for.
        let mut errors = [("inline", inline_error), ("block", block_error)];
        if !file.to_string_lossy().contains("inline") {
            errors.reverse();
        }
        for (grammar, e) in errors {
            problems.push(format!(
                "{}:{}:{}: does not compile against the {grammar} grammar: {:?}: {}",
                shown(&file),
                e.row + 1,
                e.column + 1,
                e.kind,
                e.message.trim()
            ));
        }
    }
    assert_no_problems(
        "every grammars/queries/**/*.scm compiles against the Markdown block or inline grammar",
        &problems,
    );
}

#[test]
fn every_rule_has_its_tests_beside_it() {
    let rules = server_dir().join("src/analysis/rules");
    let mut problems = Vec::new();
    for file in rust_files(&rules) {
        if file.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        let source = read(&file);
        if !has_cfg_test(&source) {
            let lines = source.lines().count().max(1);
            problems.push(format!(
                "{}:{lines}: no `#[cfg(test)]` module (a rule's fixture tests live beside it)",
                shown(&file)
            ));
        }
    }
    assert_no_problems("every rule file has #[cfg(test)] fixture tests", &problems);
}

/// What nothing in the server may do (SECURITY.md): run a program, open a connection or touch
/// the file system. Only `check` (server/src/cli) reads the files it is given.
const SERVER_FORBIDDEN_PATHS: &[&[&str]] = &[
    &["std", "fs"],
    &["tokio", "fs"],
    &["std", "net"],
    &["tokio", "net"],
    &["std", "process", "Command"],
    &["process", "Command"],
    &["process", "Stdio"],
    &["tokio", "process"],
    &["std", "os", "unix", "net"],
    &["std", "os", "unix", "process"],
];

#[test]
fn the_server_runs_nothing_connects_nowhere_and_reads_no_files() {
    let src = server_dir().join("src");
    let cli = src.join("cli");
    let mut problems = Vec::new();
    for file in rust_files(&src) {
        if file.starts_with(&cli) {
            continue;
        }
        let source = read(&file);
        for (line, what) in path_mentions(&source, SERVER_FORBIDDEN_PATHS) {
            problems.push(format!(
                "{}:{line}: `{what}` outside server/src/cli (the server never runs programs, opens connections or reads files)",
                shown(&file)
            ));
        }
    }
    assert_no_problems(
        "no process, network or file system use outside server/src/cli (SECURITY.md)",
        &problems,
    );
}

/// Crate names of regular-expression engines.
const REGEX_CRATES: &[&str] = &[
    "regex",
    "fancy-regex",
    "fancy_regex",
    "pcre",
    "pcre2",
    "onig",
];

#[test]
fn no_regular_expressions_on_document_text() {
    let mut problems = Vec::new();
    let manifest = read(&server_dir().join("Cargo.toml"));
    let mut in_dependencies = false;
    for (i, line) in manifest.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line.ends_with("dependencies]");
            continue;
        }
        let name = line.split(['=', ' ', '.']).next().unwrap_or("");
        if in_dependencies && REGEX_CRATES.contains(&name) {
            problems.push(format!("server/Cargo.toml:{}: depends on `{name}`", i + 1));
        }
    }
    for file in rust_files(&server_dir().join("src")) {
        for token in lex(&read(&file)) {
            if let Kind::Ident(name) = &token.kind {
                let lower = name.to_lowercase();
                if REGEX_CRATES.contains(&lower.as_str()) || lower.ends_with("regex") {
                    problems.push(format!(
                        "{}:{}: mentions `{name}`",
                        shown(&file),
                        token.line
                    ));
                }
            }
        }
    }
    assert_no_problems(
        "no regular-expression engine in the server (SECURITY.md: bounded work on document text)",
        &problems,
    );
}

/// The checkers themselves, on made-up sources.
#[test]
fn checkers_see_code_and_ignore_comments_and_strings() {
    let source = r####"//! A module.
use std::{
    collections::HashMap,
    fs::{self, File},
};
use serde_json::{json, Value as Json};
// use tokio::sync::Mutex;
/* println!("x"); /* nested */ tokio */
fn f<'a>(x: &'a str) -> char {
    let _ = "std::fs::read println!(\"\") tokio";
    let _ = r#"tower_lsp " std::process"#;
    let _ = b'"';
    let _ = '\'';
    print!("{}", x);
    let _ = ::std::net::TcpStream::connect;
    tower_lsp_server::ls_types::Uri::default();
    'a'
}
#[cfg(test)]
mod tests {}
"####;
    let mentions = forbidden_mentions(source);
    assert_eq!(
        mentions,
        vec![
            (4, "std::fs".to_string()),
            (6, "serde_json::Value".to_string()),
            (15, "std::net".to_string()),
            (16, "ls_types".to_string()),
            (16, "tower_lsp_server".to_string()),
        ]
    );
    assert_eq!(print_macros(source), vec![(14, "print".to_string())]);
    assert_eq!(
        path_mentions(
            "use std::process::{self, Command};\nfn f() { process::exit(1); let _ = std::process::ExitCode::SUCCESS; }\nuse tokio::{net::TcpStream, fs};\n// std::fs::read\n",
            SERVER_FORBIDDEN_PATHS
        ),
        vec![
            (1, "process::Command".to_string()),
            (1, "std::process::Command".to_string()),
            (3, "tokio::fs".to_string()),
            (3, "tokio::net".to_string()),
        ]
    );
    assert!(has_cfg_test(source));
    assert!(!has_cfg_test(
        "// #[cfg(test)]\nconst X: &str = \"#[cfg(test)]\";\n"
    ));
    assert!(
        forbidden_mentions("use serde_json::json;\nlet x: Vec<std::string::String>;").is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Checks on one file's source
// ---------------------------------------------------------------------------------------------

/// Every mention of a forbidden crate or path in code: (1-based line, what).
fn forbidden_mentions(source: &str) -> Vec<(usize, String)> {
    let tokens = lex(source);
    let mut found = Vec::new();
    for token in &tokens {
        if let Kind::Ident(name) = &token.kind {
            if FORBIDDEN_CRATE_PREFIXES.iter().any(|p| {
                name.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
            }) {
                found.push((token.line, name.clone()));
            }
        }
    }
    for path in paths(&tokens) {
        for forbidden in FORBIDDEN_PATHS {
            for window in path.windows(forbidden.len()) {
                if window
                    .iter()
                    .zip(forbidden.iter())
                    .all(|(seg, want)| seg.0 == *want)
                {
                    found.push((
                        window[0].1.max(window[window.len() - 1].1),
                        forbidden.join("::"),
                    ));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Every use of one of `forbidden` (paths, matched on whole segments anywhere in a path, `use`
/// groups expanded) in code: (1-based line, the path).
fn path_mentions(source: &str, forbidden: &[&[&str]]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for path in paths(&lex(source)) {
        for want in forbidden {
            for window in path.windows(want.len()) {
                if window.iter().zip(want.iter()).all(|(seg, w)| seg.0 == *w) {
                    found.push((window[window.len() - 1].1, want.join("::")));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Every `print!` or `println!` invocation in code: (1-based line, macro name).
fn print_macros(source: &str) -> Vec<(usize, String)> {
    let tokens = lex(source);
    tokens
        .windows(2)
        .filter_map(|w| match (&w[0].kind, &w[1].kind) {
            (Kind::Ident(name), Kind::Punct("!")) if name == "print" || name == "println" => {
                Some((w[0].line, name.clone()))
            }
            _ => None,
        })
        .collect()
}

/// True when the code (not a comment or string) holds `#[cfg(test)]`.
fn has_cfg_test(source: &str) -> bool {
    let tokens = lex(source);
    let want = ["#", "[", "cfg", "(", "test", ")", "]"];
    tokens.windows(want.len()).any(|w| {
        w.iter().zip(want).all(|(t, want)| match &t.kind {
            Kind::Ident(name) => name == want,
            Kind::Punct(p) => *p == want,
        })
    })
}

// ---------------------------------------------------------------------------------------------
// A small Rust lexer: identifiers and punctuation with their lines; comments and literals dropped
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Ident(String),
    /// `::` or a single punctuation character.
    Punct(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// 1-based.
    line: usize,
}

const PUNCT: &[&str] = &[
    "#", "[", "]", "(", ")", "{", "}", "<", ">", "!", ",", ";", ":", "*", "&", "=", ".", "-", "+",
    "/", "|", "?", "@", "^", "%", "~", "$",
];

fn lex(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Advances over `n` chars, counting lines.
    let skip = |i: &mut usize, line: &mut usize, n: usize| {
        for _ in 0..n {
            if chars.get(*i) == Some(&'\n') {
                *line += 1;
            }
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    skip(&mut i, &mut line, 2);
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    skip(&mut i, &mut line, 2);
                    if depth == 0 {
                        break;
                    }
                } else {
                    skip(&mut i, &mut line, 1);
                }
            }
        } else if c == '"' {
            skip_string(&chars, &mut i, &mut line, &skip);
        } else if c == '\'' {
            // A char literal (`'x'`, `'\n'`, `'\u{1F600}'`) or a lifetime / label (`'a`).
            if next == Some('\\') {
                skip(&mut i, &mut line, 3);
                while i < chars.len() && chars[i] != '\'' {
                    skip(&mut i, &mut line, 1);
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                skip(&mut i, &mut line, 3);
            } else {
                i += 1;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let at = chars.get(i).copied();
            match (word.as_str(), at) {
                ("r" | "br" | "cr", Some('#' | '"')) if is_raw_string(&chars, i) => {
                    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
                    skip(&mut i, &mut line, hashes + 1);
                    while i < chars.len() {
                        if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                            skip(&mut i, &mut line, hashes + 1);
                            break;
                        }
                        skip(&mut i, &mut line, 1);
                    }
                }
                ("b" | "c", Some('"')) => skip_string(&chars, &mut i, &mut line, &skip),
                ("b", Some('\'')) => {
                    // A byte literal: `b'x'` or `b'\n'`.
                    skip(&mut i, &mut line, 1);
                    if chars.get(i) == Some(&'\\') {
                        skip(&mut i, &mut line, 2);
                    }
                    while i < chars.len() && chars[i] != '\'' {
                        skip(&mut i, &mut line, 1);
                    }
                    i += 1;
                }
                ("r", Some('#')) => {
                    // A raw identifier: `r#type`.
                    i += 1;
                    let start = i;
                    while i < chars.len() && is_ident_char(chars[i]) {
                        i += 1;
                    }
                    tokens.push(Token {
                        kind: Kind::Ident(chars[start..i].iter().collect()),
                        line,
                    });
                }
                _ => tokens.push(Token {
                    kind: Kind::Ident(word),
                    line,
                }),
            }
        } else if c.is_ascii_digit() {
            while i < chars.len()
                && (is_ident_char(chars[i])
                    || chars[i] == '.' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
            {
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            tokens.push(Token {
                kind: Kind::Punct("::"),
                line,
            });
            i += 2;
        } else if let Some(p) = PUNCT.iter().find(|p| p.starts_with(c)) {
            tokens.push(Token {
                kind: Kind::Punct(p),
                line,
            });
            i += 1;
        } else {
            skip(&mut i, &mut line, 1);
        }
    }
    tokens
}

/// Skips a `"..."` string starting at `chars[*i] == '"'`.
fn skip_string(
    chars: &[char],
    i: &mut usize,
    line: &mut usize,
    skip: &dyn Fn(&mut usize, &mut usize, usize),
) {
    skip(i, line, 1);
    while *i < chars.len() {
        match chars[*i] {
            '\\' => skip(i, line, 2),
            '"' => {
                skip(i, line, 1);
                return;
            }
            _ => skip(i, line, 1),
        }
    }
}

/// After `r`, `br` or `cr` at `i`: `#`* then `"`.
fn is_raw_string(chars: &[char], i: usize) -> bool {
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    chars.get(i + hashes) == Some(&'"')
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// A path's segments with their lines.
type PathSegs = Vec<(String, usize)>;

/// Every path in the code, with `use` groups expanded: `use std::{fs::{self, File}}` gives
/// `std::fs::self` and `std::fs::File`.
fn paths(tokens: &[Token]) -> Vec<PathSegs> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if matches!(tokens[i].kind, Kind::Ident(_)) {
            i = parse_path(tokens, i, &[], &mut out);
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a path (or a `{...}` group) at `i` under `prefix`; returns the index after it.
fn parse_path(
    tokens: &[Token],
    mut i: usize,
    prefix: &[(String, usize)],
    out: &mut Vec<PathSegs>,
) -> usize {
    let mut segs = prefix.to_vec();
    loop {
        match tokens.get(i).map(|t| &t.kind) {
            Some(Kind::Ident(name)) => {
                segs.push((name.clone(), tokens[i].line));
                i += 1;
            }
            Some(Kind::Punct("{")) => return parse_group(tokens, i + 1, &segs, out),
            _ => {
                out.push(segs);
                return i;
            }
        }
        if tokens.get(i).map(|t| &t.kind) == Some(&Kind::Punct("::")) {
            i += 1;
        } else {
            out.push(segs);
            return i;
        }
    }
}

/// Parses the items of a `use` group after its `{`; returns the index after its `}`.
fn parse_group(
    tokens: &[Token],
    mut i: usize,
    prefix: &[(String, usize)],
    out: &mut Vec<PathSegs>,
) -> usize {
    while let Some(token) = tokens.get(i) {
        match &token.kind {
            Kind::Punct("}") => return i + 1,
            // `Value as Json`: the alias is not a path.
            Kind::Ident(name) if name == "as" => i += 2,
            Kind::Ident(_) | Kind::Punct("{") => i = parse_path(tokens, i, prefix, out),
            _ => i += 1,
        }
    }
    i
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

fn server_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo_dir() -> PathBuf {
    server_dir()
        .parent()
        .expect("server/ has a parent")
        .to_path_buf()
}

/// A path relative to the repository root, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(repo_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", shown(path)))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "rs")
}

/// Every file under `dir` (recursively, following symbolic links) with this extension, sorted.
/// A missing directory has none.
fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", shown(&dir)))
                .path();
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn assert_no_problems(rule: &str, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let mut message = format!("{rule}: {} violation(s)\n", problems.len());
    for problem in problems {
        let _ = writeln!(message, "  {problem}");
    }
    panic!("{message}");
}
