//! The documents to check: PATH arguments expanded (directories searched for review
//! documents, `-` for stdin) and read as UTF-8 text.
//!
//! A directory search never follows a symbolic link, to a file or a directory: it could lead
//! out of the tree being checked (or round in a loop). A link named on the command line is
//! read: the user chose it.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::warn;

/// Words in a file name that mark a review document (compared case-insensitively).
const NAME_MARKERS: [&str; 3] = ["joint-review", "joint-assessment", "self-assessment"];
/// File name extensions of Markdown (compared case-insensitively).
const MARKDOWN_EXTENSIONS: [&str; 2] = ["md", "markdown"];
/// Directories never searched, besides hidden ones.
const SKIPPED_DIRECTORIES: [&str; 2] = ["node_modules", "target"];

/// One document to check.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name printed in results: the path as given (or found), or `<stdin>`.
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// The file name the analysis may use to pick an outline.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Input::Stdin => None,
            Input::File(path) => Some(path.to_string_lossy().into_owned()),
        }
    }
}

/// The expanded inputs, and whether some PATH could not be used (already reported).
pub struct Inputs {
    pub inputs: Vec<Input>,
    pub trouble: bool,
}

/// Expands the PATH arguments, in their order; the files found in a directory are sorted.
/// A file or stdin named twice is checked once. With `verbose`, the symbolic links a directory
/// search passed over are named on stderr.
pub fn collect(paths: &[PathBuf], verbose: bool) -> Inputs {
    let mut found = Inputs {
        inputs: Vec::new(),
        trouble: false,
    };
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input::Stdin);
            continue;
        }
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => collect_directory(path, verbose, &mut found),
            Ok(_) => found.inputs.push(Input::File(path.clone())),
            Err(e) => {
                warn(&format!(
                    "error: {}: {}",
                    path.display(),
                    describe_io_error(&e)
                ));
                found.trouble = true;
            }
        }
    }
    let mut seen = HashSet::new();
    found.inputs.retain(|input| seen.insert(input.clone()));
    found
}

fn collect_directory(dir: &Path, verbose: bool, found: &mut Inputs) {
    let mut files = Vec::new();
    walk(dir, verbose, &mut files, &mut found.trouble);
    if files.is_empty() {
        warn(&format!(
            "{}: no Markdown files named *joint-review*, *joint-assessment* or *self-assessment* found",
            dir.display()
        ));
    }
    files.sort();
    found.inputs.extend(files.into_iter().map(Input::File));
}

/// Collects review documents under `dir`, recursively, without following symbolic links.
fn walk(dir: &Path, verbose: bool, files: &mut Vec<PathBuf>, trouble: &mut bool) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            warn(&format!(
                "error: {}: {}",
                dir.display(),
                describe_io_error(&e)
            ));
            *trouble = true;
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_lowercase();
        // The entry's own type: a symbolic link is a link here, whatever it points to.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            if verbose && !name.starts_with('.') {
                warn(&format!(
                    "{}: a symbolic link, not followed",
                    path.display()
                ));
            }
        } else if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRECTORIES.contains(&name.as_str()) {
                walk(&path, verbose, files, trouble);
            }
        } else if kind.is_file() && is_review_document(&name) {
            files.push(path);
        }
    }
}

/// True for a (lowercased) file name of a Markdown review document.
fn is_review_document(name: &str) -> bool {
    let is_markdown = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MARKDOWN_EXTENSIONS.contains(&e));
    is_markdown && NAME_MARKERS.iter().any(|m| name.contains(m))
}

/// Reads an input as text. A leading byte order mark is dropped, so that columns on the first
/// line are the ones an editor shows.
pub fn read(input: &Input) -> Result<String, String> {
    let name = input.display_name();
    let bytes = match input {
        Input::Stdin => {
            let mut bytes = Vec::new();
            io::stdin().lock().read_to_end(&mut bytes).map(|_| bytes)
        }
        Input::File(path) => fs::read(path),
    }
    .map_err(|e| format!("{name}: {}", describe_io_error(&e)))?;
    let mut text = String::from_utf8(bytes).map_err(|e| not_utf8(&name, &e))?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// The message for a file that is not UTF-8, with where its first bad byte is.
fn not_utf8(name: &str, e: &std::string::FromUtf8Error) -> String {
    let valid = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
    format!("{name}: not valid UTF-8 (first invalid byte at offset {valid}, line {line}); only UTF-8 documents can be checked")
}

/// An I/O error as a short phrase ("No such file or directory").
fn describe_io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_documents_are_recognised_by_name() {
        assert!(is_review_document("flux-self-assessment.md"));
        assert!(is_review_document("joint-review.markdown"));
        assert!(is_review_document(
            &"OpenFGA-Joint-Assessment.MD".to_lowercase()
        ));
        assert!(!is_review_document("readme.md"));
        assert!(!is_review_document("joint-review.txt"));
        assert!(!is_review_document("self-assessment"));
    }
}
