//! `joint-review-lsp check`, driven through the compiled binary: every output format on the
//! sample document, exit codes, directory search, stdin and the flags.
//!
//! Snapshots use expect-test; refresh them with `UPDATE_EXPECT=1 cargo test --test cli`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use expect_test::expect;
use serde_json::Value;

const SAMPLE: &str = "examples/sample-joint-review.md";
const CLEAN: &str = "tests/fixtures/cli/clean-joint-review.md";

/// The workspace root: paths in arguments and output are relative to it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_joint-review-lsp"));
    cmd.current_dir(root()).arg("check").args(args);
    cmd
}

/// Runs `check ARGS` with empty stdin.
fn check(args: &[&str]) -> Output {
    command(args).stdin(Stdio::null()).output().unwrap()
}

/// Runs `check ARGS` with `input` on stdin.
fn check_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-tests")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The codes of a json-format file object's diagnostics.
fn codes(file: &Value) -> Vec<&str> {
    file["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

#[test]
fn human_format_on_the_sample() {
    let out = check(&[SAMPLE]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    expect![[r#"
        examples/sample-joint-review.md:23:14: error[toc-link]: Link target '#road-map' matches no heading; the heading 'Roadmap' has the anchor '#roadmap'.
        examples/sample-joint-review.md:70:82: warning[template-text]: '[Project]' is the template's placeholder; replace it with the project's name.
        examples/sample-joint-review.md:93:1: warning[heading-level]: Section 'Security functions and features' is a level-3 heading; the template puts it at level 4 (####).
        examples/sample-joint-review.md:112:1: error[missing-section]: The template's section 'Threat Model' is missing; it belongs after 'Security Analysis'.
        checked 1 file against the joint-review outline: 2 errors, 2 warnings
    "#]]
    .assert_eq(&stdout(&out));
}

#[test]
fn verbose_shows_the_outline_and_reworded_headings() {
    let out = check(&["--verbose", SAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let head: Vec<&str> = text.lines().take(3).collect();
    expect![[r#"
        examples/sample-joint-review.md: outline joint-review (detected from the title)
        note: 'Project Goals' (line 54) taken as 'Goal' (reworded)
        note: 27 of 28 required sections present; 28 of 33 template sections matched"#]]
    .assert_eq(&head.join("\n"));
    // The diagnostics follow, as without --verbose.
    assert!(text.contains("examples/sample-joint-review.md:23:14: error[toc-link]"));
    let short = check(&["-v", SAMPLE]);
    assert_eq!(stdout(&short), text);
}

#[test]
fn json_format_on_the_sample() {
    let out = check(&["--format", "json", SAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    let files = json(&out);
    let files = files.as_array().unwrap();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file["path"], SAMPLE);
    assert_eq!(file["outline"], "joint-review");
    assert_eq!(
        codes(file),
        [
            "toc-link",
            "template-text",
            "heading-level",
            "missing-section"
        ]
    );
    let diagnostics = file["diagnostics"].as_array().unwrap();
    let toc = &diagnostics[0];
    assert_eq!(toc["severity"], "error");
    assert_eq!(toc["section"], "Roadmap");
    assert!(toc["message"].as_str().unwrap().contains("'#road-map'"));
    assert_eq!(
        toc["range"],
        serde_json::json!({ "start": { "line": 22, "character": 13 }, "end": { "line": 22, "character": 21 } })
    );
    let missing = &diagnostics[3];
    assert_eq!(missing["severity"], "error");
    assert_eq!(missing["section"], "Threat Model");
    assert_eq!(
        missing["range"]["start"],
        serde_json::json!({ "line": 111, "character": 0 })
    );
    // Rules without a template section say so with null, never by leaving the key out.
    let placeholder = &diagnostics[1];
    assert_eq!(placeholder["severity"], "warning");
    assert!(placeholder["section"].is_null());
    for d in diagnostics {
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5, "{d}");
    }
    // Deterministic.
    assert_eq!(check(&["--format", "json", SAMPLE]).stdout, out.stdout);
}

#[test]
fn github_format_on_the_sample() {
    let out = check(&["--format", "github", SAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    expect![[r#"
        ::error file=examples/sample-joint-review.md,line=23,col=14,endLine=23,endColumn=22,title=toc-link::Link target '#road-map' matches no heading; the heading 'Roadmap' has the anchor '#roadmap'.
        ::warning file=examples/sample-joint-review.md,line=70,col=82,endLine=70,endColumn=91,title=template-text::'[Project]' is the template's placeholder; replace it with the project's name.
        ::warning file=examples/sample-joint-review.md,line=93,col=1,endLine=93,endColumn=36,title=heading-level::Section 'Security functions and features' is a level-3 heading; the template puts it at level 4 (####).
        ::error file=examples/sample-joint-review.md,line=112,col=1,endLine=112,endColumn=21,title=missing-section::The template's section 'Threat Model' is missing; it belongs after 'Security Analysis'.
    "#]]
    .assert_eq(&stdout(&out));
}

#[test]
fn github_format_escapes_properties_and_notices_lower_severities() {
    let dir = scratch("github-escape");
    let file = dir.join("a,b:c%-joint-review.md");
    fs::write(&file, "# Joint-review of X\n\nSee [here](#nowhere).\n").unwrap();
    let out = check(&[
        "--format",
        "github",
        "--severity",
        "toc-link=hint",
        file.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    let line = text.lines().find(|l| l.contains("title=toc-link")).unwrap();
    assert!(line.starts_with("::notice file="), "{line}");
    assert!(
        line.contains("a%2Cb%3Ac%25-joint-review.md,line=3,"),
        "{line}"
    );
}

#[test]
fn sarif_format_on_the_sample() {
    let out = check(&["--format", "sarif", SAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    let log = json(&out);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "joint-review-lsp");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "missing-section",
            "section-order",
            "heading-level",
            "duplicate-section",
            "empty-section",
            "template-text",
            "metadata-table",
            "toc-link",
            "toc-entry"
        ]
    );
    assert!(rules
        .iter()
        .all(|r| !r["shortDescription"]["text"].as_str().unwrap().is_empty()));
    let results = run["results"].as_array().unwrap();
    let rule_ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        rule_ids,
        [
            "toc-link",
            "template-text",
            "heading-level",
            "missing-section"
        ]
    );
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "warning", "warning", "error"]);
    let toc = &results[0];
    assert!(toc["message"]["text"]
        .as_str()
        .unwrap()
        .contains("'#road-map'"));
    let location = &toc["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], SAMPLE);
    assert_eq!(
        location["region"],
        serde_json::json!({ "startLine": 23, "startColumn": 14, "endLine": 23, "endColumn": 22 })
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
}

#[test]
fn sarif_with_no_results_is_still_a_log() {
    let out = check(&["--format", "sarif", CLEAN]);
    assert_eq!(out.status.code(), Some(0));
    let log = json(&out);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn exit_0_on_a_clean_document() {
    let out = check(&[CLEAN]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "checked 1 file against the joint-review outline: 0 errors, 0 warnings\n"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn severity_flags_change_the_exit_code() {
    let out = check(&[
        "--severity",
        "toc-link=warning",
        "--severity",
        "missing-section=off",
        SAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains(":23:14: warning[toc-link]"), "{text}");
    assert!(!text.contains("missing-section"), "{text}");
    assert!(
        text.ends_with("checked 1 file against the joint-review outline: 0 errors, 3 warnings\n"),
        "{text}"
    );

    // The last setting for a code wins; information and hints are counted as notes.
    let out = check(&[
        "--severity",
        "toc-link=off",
        "--severity",
        "toc-link=info",
        "--severity",
        "missing-section=hint",
        SAMPLE,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains(":23:14: information[toc-link]"), "{text}");
    assert!(
        text.ends_with(
            "checked 1 file against the joint-review outline: 0 errors, 2 warnings, 2 notes\n"
        ),
        "{text}"
    );

    let out = check(&["--severity", "heading-level=error", CLEAN]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_2() {
    let no_paths = check(&[]);
    assert_eq!(no_paths.status.code(), Some(2));
    assert!(stderr(&no_paths).contains("PATH"), "{}", stderr(&no_paths));
    assert_eq!(stdout(&no_paths), "");

    let bad_flag = check(&["--no-such-flag", SAMPLE]);
    assert_eq!(bad_flag.status.code(), Some(2));
    assert!(stderr(&bad_flag).contains("--no-such-flag"));

    let bad_format = check(&["--format", "xml", SAMPLE]);
    assert_eq!(bad_format.status.code(), Some(2));

    let bad_code = check(&["--severity", "no-such-rule=error", SAMPLE]);
    assert_eq!(bad_code.status.code(), Some(2));
    let message = stderr(&bad_code);
    assert!(
        message.contains("unknown rule code 'no-such-rule'"),
        "{message}"
    );
    assert!(
        message.contains("missing-section") && message.contains("toc-entry"),
        "{message}"
    );

    let bad_level = check(&["--severity", "toc-link=loud", SAMPLE]);
    assert_eq!(bad_level.status.code(), Some(2));
    assert!(
        stderr(&bad_level).contains("unknown level 'loud'"),
        "{}",
        stderr(&bad_level)
    );
    assert_eq!(stdout(&bad_level), "");
}

#[test]
fn a_missing_file_exits_2_and_the_others_are_still_checked() {
    let out = check(&["no/such-joint-review.md", SAMPLE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no/such-joint-review.md: no such file or directory"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out)
        .contains("checked 1 file against the joint-review outline: 2 errors, 2 warnings"));
}

#[test]
fn a_non_utf8_file_exits_2_with_a_message() {
    let dir = scratch("non-utf8");
    let bad = dir.join("latin1-joint-review.md");
    fs::write(&bad, b"# Joint-review of Caf\xe9\n").unwrap();
    let out = check(&["--format", "json", bad.to_str().unwrap(), CLEAN]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("latin1-joint-review.md: not valid UTF-8"),
        "{message}"
    );
    // The other file is still reported.
    let files = json(&out);
    let paths: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [CLEAN]);
}

#[test]
fn directories_are_searched_for_review_documents_only() {
    let dir = scratch("search");
    let corpus = Path::new("/work/shared/corpus/real");
    let real = |name: &str| -> String {
        fs::read_to_string(corpus.join(name))
            .unwrap_or_else(|_| "# Joint-review of X\n".to_string())
    };
    let place = |relative: &str, text: &str| {
        let path = dir.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    place(
        "docs/flux-self-assessment.md",
        &real("flux-self-assessment.md"),
    );
    place(
        "docs/security/OpenFGA-Joint-Assessment.MD",
        &real("openfga-joint-assessment.md"),
    );
    place("b-joint-review.md", &real("openfga-joint-assessment.md"));
    place(
        "a/notes-self-assessment.markdown",
        "# Self-assessment of X\n",
    );
    place(".github/hidden-joint-review.md", "# Joint-review of X\n");
    place("node_modules/pkg/joint-review.md", "# Joint-review of X\n");
    place("target/doc/self-assessment.md", "# Self-assessment of X\n");
    place("docs/README.md", "# Readme\n");
    place("docs/joint-review.txt", "not markdown\n");
    place("docs/roadmap.md", "# Roadmap\n");

    let out = check(&["--format", "json", dir.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let files = json(&out);
    let paths: Vec<String> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = Path::new(f["path"].as_str().unwrap());
            path.strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    assert_eq!(
        paths,
        [
            "a/notes-self-assessment.markdown",
            "b-joint-review.md",
            "docs/flux-self-assessment.md",
            "docs/security/OpenFGA-Joint-Assessment.MD",
        ]
    );
    let outlines: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outline"].as_str().unwrap())
        .collect();
    assert_eq!(outlines[2], "self-assessment");
    assert_eq!(outlines[3], "joint-assessment");
}

/// A directory search does not follow symbolic links (they could lead outside the tree being
/// checked); a link named as an argument is read.
#[cfg(unix)]
#[test]
fn symbolic_links_are_not_followed_in_a_directory() {
    use std::os::unix::fs::symlink;
    let outside = scratch("symlinks-outside");
    fs::write(
        outside.join("outside-joint-review.md"),
        "# Joint-review of X\n",
    )
    .unwrap();
    fs::create_dir_all(outside.join("docs")).unwrap();
    fs::write(
        outside.join("docs/self-assessment.md"),
        "# Self-assessment of X\n",
    )
    .unwrap();
    let dir = scratch("symlinks");
    fs::write(dir.join("inside-joint-review.md"), "# Joint-review of X\n").unwrap();
    let linked_file = dir.join("linked-joint-review.md");
    symlink(outside.join("outside-joint-review.md"), &linked_file).unwrap();
    symlink(outside.join("docs"), dir.join("docs")).unwrap();
    let checked = |out: &Output| -> Vec<String> {
        json(out)
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };

    let out = check(&["--format", "json", dir.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let inside = dir.join("inside-joint-review.md");
    assert_eq!(checked(&out), [inside.to_str().unwrap()]);
    assert_eq!(stderr(&out), "");

    // --verbose says which links were passed over.
    let out = check(&["--verbose", dir.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let message = stderr(&out);
    for link in [linked_file.clone(), dir.join("docs")] {
        let note = format!("{}: a symbolic link, not followed", link.display());
        assert!(message.contains(&note), "{message}");
    }
    assert!(!stdout(&out).contains("outside"), "{}", stdout(&out));

    // Named on the command line, a link is read.
    let out = check(&["--format", "json", linked_file.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    assert_eq!(checked(&out), [linked_file.to_str().unwrap()]);
}

#[test]
fn a_directory_without_documents_is_reported() {
    let dir = scratch("empty-search");
    fs::write(dir.join("README.md"), "# Readme\n").unwrap();
    let out = check(&[dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("no Markdown files named"), "{message}");
    assert!(message.contains("no documents were checked"), "{message}");

    // With another document checked, an empty directory is only a message.
    let out = check(&[dir.to_str().unwrap(), CLEAN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("no Markdown files named"));
}

#[test]
fn dash_reads_stdin() {
    let sample = fs::read(root().join(SAMPLE)).unwrap();
    let out = check_stdin(&["-"], &sample);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("<stdin>:23:14: error[toc-link]: "),
        "{text}"
    );
    assert!(
        text.ends_with("checked 1 file against the joint-review outline: 2 errors, 2 warnings\n"),
        "{text}"
    );

    let clean = fs::read(root().join(CLEAN)).unwrap();
    let out = check_stdin(&["--format", "json", "-"], &clean);
    assert_eq!(out.status.code(), Some(0));
    let files = json(&out);
    assert_eq!(files[0]["path"], "<stdin>");
    assert_eq!(files[0]["diagnostics"], serde_json::json!([]));
}

#[test]
fn the_outline_flag_sets_the_outline() {
    let out = check(&["--format", "json", "--outline", "self-assessment", SAMPLE]);
    let files = json(&out);
    assert_eq!(files[0]["outline"], "self-assessment");
    assert!(codes(&files[0]).contains(&"missing-section"));

    let out = check(&["--verbose", "--outline", "joint-assessment", SAMPLE]);
    let first = stdout(&out).lines().next().unwrap().to_string();
    assert_eq!(
        first,
        "examples/sample-joint-review.md: outline joint-assessment (set by configuration)"
    );

    let out = check(&["--format", "json", "--outline", "auto", SAMPLE]);
    assert_eq!(json(&out)[0]["outline"], "joint-review");
}

#[test]
fn columns_count_code_points() {
    let text = "# Joint-review of Ünïcode\n\nSee [😀 x](#nowhere).\n";
    let out = check_stdin(
        &["--format", "json", "--severity", "missing-section=off", "-"],
        text.as_bytes(),
    );
    let files = json(&out);
    let toc: Vec<&Value> = files[0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "toc-link")
        .collect();
    assert_eq!(toc.len(), 1, "{files}");
    // "See [😀 x](#" is 11 code points (12 UTF-16 units, 14 bytes).
    assert_eq!(
        toc[0]["range"],
        serde_json::json!({ "start": { "line": 2, "character": 11 }, "end": { "line": 2, "character": 18 } })
    );
    let out = check_stdin(&["--severity", "missing-section=off", "-"], text.as_bytes());
    assert!(
        stdout(&out).contains("<stdin>:3:12: error[toc-link]"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn odd_inputs_do_not_crash() {
    let inputs: [&[u8]; 9] = [
        b"",
        b"\r",
        b"\xef\xbb\xbf# Joint-review of BOM\n",
        b"#\n##\n###\n",
        b"|||\n| | |\n",
        b"\0\0\0",
        b"[x](#)\n[y](#\xf0\x9f\x98\x80)\n",
        b"# Joint-review of X\r\n## Table of Contents\r\n* [a](#a\r\n",
        b"```\n# not a heading\n",
    ];
    for input in inputs {
        for format in ["human", "json", "github", "sarif"] {
            let out = check_stdin(&["--format", format, "-"], input);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{input:?} {format}: {}",
                stderr(&out)
            );
            assert_eq!(stderr(&out), "", "{input:?} {format}");
        }
    }
}

#[test]
fn help_documents_positions() {
    let out = check(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    assert!(help.contains("Unicode scalar values"), "{help}");
    assert!(help.contains("Exit status"), "{help}");
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_line() {
    let out = check_stdin(
        &["--verbose", "-"],
        b"\xef\xbb\xbf# Joint-review of Bom\n\nSee [x](#nowhere).\n",
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("<stdin>: outline joint-review (detected from the title)\n"),
        "{text}"
    );
    assert!(text.contains("<stdin>:3:10: error[toc-link]"), "{text}");
}
