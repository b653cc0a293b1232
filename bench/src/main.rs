//! `joint-review-bench`: drives the compiled `joint-review-lsp` as an editor does (stdio,
//! `initialize` with UTF-16, `didOpen`, incremental `didChange`) and times it end to end over
//! the protocol, per document: cold open, typing, line breaks, keystrokes after a pause, a
//! burst, hover, completion, typing in a heading, peak RSS, CPU.
//!
//! With `--peers` it runs `rumdl server` through the same driver (when installed), and times
//! `joint-review-lsp check` against `markdownlint-cli2` (MD043 set to the template's headings)
//! over 50 real documents. Progress and a plain table go to stderr; the Markdown report (with
//! the machine and the command) goes to stdout.

use std::cell::Cell;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use joint_review_bench::docs::{self, BenchDoc};
use joint_review_bench::lsp::Client;
use joint_review_bench::stats::{mb, ms, Summary};

const USAGE: &str = "usage: joint-review-bench [--peers] [--server PATH] [--only TEXT] \
[--keystrokes N] [--requests N]

  --peers          also run rumdl (`rumdl server`) and compare `check` with markdownlint-cli2
  --server PATH    the joint-review-lsp binary (default: build target/release/joint-review-lsp)
  --only TEXT      only documents whose label contains TEXT (repeatable)
  --keystrokes N   characters typed one at a time (default 200)
  --requests N     hover and completion requests each (default 50)";

/// The name our server's rows carry (peers are named by their `--version`).
const OURS: &str = "joint-review-lsp";

/// Characters typed, in turn.
const TYPED: &str = "the quick brown fox jumps over the lazy dog ";
/// Line breaks timed: Enter at the end of the typing line, then Backspace, in turn (edits
/// that may change headings: the outline pass runs for each). Even: the document ends as it
/// began.
const LINE_BREAKS: usize = 100;
/// Keystrokes typed at the end of a heading, each awaited.
const HEADING_KEYSTROKES: usize = 50;
/// Keystrokes sent back to back in a burst.
const BURST: usize = 50;
/// Bursts timed (one for a peer). As many as [`PAUSED`], taken in turn with them, so that
/// their p95s compare like with like (the slowest of 10 bursts is over the p95 of the same
/// distribution two times in five).
const BURSTS: usize = 100;
/// Single keystrokes sent each after a pause, as the burst is.
const PAUSED: usize = 100;
/// The pause: a server (and a virtual machine's CPU) that has been idle for a while takes
/// longer to wake than one answering keystrokes back to back, so the burst, which follows a
/// pause, is compared with keystrokes that do too.
const PAUSE: Duration = Duration::from_millis(50);

struct Options {
    peers: bool,
    server: Option<PathBuf>,
    only: Vec<String>,
    keystrokes: usize,
    requests: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        peers: false,
        server: None,
        only: Vec::new(),
        keystrokes: 200,
        requests: 50,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--peers" => o.peers = true,
            "--server" => o.server = Some(PathBuf::from(value("--server")?)),
            "--only" => o.only.push(value("--only")?),
            "--keystrokes" => {
                o.keystrokes = value("--keystrokes")?
                    .parse()
                    .map_err(|_| "--keystrokes takes a number")?
            }
            "--requests" => {
                o.requests = value("--requests")?
                    .parse()
                    .map_err(|_| "--requests takes a number")?
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// A language server to benchmark.
struct ServerSpec {
    name: String,
    program: String,
    args: Vec<String>,
}

/// One server on one document.
struct Row {
    server: String,
    doc: String,
    lines: usize,
    bytes: usize,
    cold: Duration,
    /// Cold open -> the last publish for the first version (ours: the full analysis's).
    cold_full: Option<Duration>,
    keystroke: Summary,
    /// Single keystrokes, each after [`PAUSE`].
    after_pause: Summary,
    /// Server CPU time per keystroke while typing.
    cpu_per_key: Duration,
    /// Typing at the end of a heading: each keystroke changes the heading's text.
    heading_keystroke: Summary,
    /// Enter or Backspace at the end of the typing line -> diagnostics for its version.
    line_break: Summary,
    /// Server CPU time per line break.
    cpu_per_line_break: Duration,
    /// From sending a burst's last change to diagnostics for it, over the bursts.
    burst: Summary,
    /// Versions of a burst that got diagnostics, on average (the last one always does).
    burst_published: f64,
    hover: Option<Summary>,
    completion: Option<Summary>,
    /// `completionItem/resolve` of the list's first item, when the server resolves items: what
    /// an editor asks next, for the documentation it shows beside the list.
    completion_resolve: Option<Summary>,
    rss: Option<u64>,
    cpu: Option<Duration>,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let ours = match options.server.clone() {
        // Absolute: `check` is timed from another directory.
        Some(p) => fs::canonicalize(&p).unwrap_or(p),
        None => match build_server() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot build the server: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let mut servers = vec![ServerSpec {
        name: OURS.into(),
        program: ours.to_string_lossy().into_owned(),
        args: Vec::new(),
    }];
    let mut notes = Vec::new();
    if options.peers {
        match version_of("rumdl", &["--version"]) {
            Some(v) => servers.push(ServerSpec {
                name: v,
                program: "rumdl".into(),
                args: vec!["server".into()],
            }),
            None => notes.push("rumdl is not installed (`cargo install rumdl`): not run.".into()),
        }
    }

    let documents: Vec<BenchDoc> = docs::all()
        .into_iter()
        .filter(|d| options.only.is_empty() || options.only.iter().any(|o| d.label.contains(o)))
        .collect();
    let scratch = std::env::temp_dir().join(format!("joint-review-bench-{}", std::process::id()));
    let _ = fs::create_dir_all(&scratch);

    eprintln!(
        "{:<28} {:<18} {:>8} {:>8} {:>20} {:>8} {:>20} {:>20} {:>8} {:>20} {:>20} {:>14} {:>14} {:>7} {:>7}",
        "document",
        "server",
        "cold",
        "full",
        "key p50/p95/max",
        "cpu/key",
        "heading p50/p95/max",
        "break p50/p95/max",
        "cpu/brk",
        "paused p50/p95/max",
        "burst p50/p95/max",
        "hover p50/p95",
        "compl p50/p95",
        "RSS MB",
        "CPU s"
    );
    // Each server's rows run together, ours first: a peer's rows keep the machine's CPUs busy
    // for minutes (rumdl: ~9 at 100k lines), and rows of ours run right after such rows were
    // the slow ones (see README, "Performance"). The report keeps the documents' order.
    let mut rows = Vec::new();
    for server in &servers {
        for (index, doc) in documents.iter().enumerate() {
            let row = run(server, doc, &options, &scratch);
            eprintln!("{}", plain_row(&row));
            rows.push((index, row));
        }
    }
    // Stable: within a document, the servers stay in their order.
    rows.sort_by_key(|&(index, _)| index);
    let rows: Vec<Row> = rows.into_iter().map(|(_, row)| row).collect();

    let check = if options.peers {
        Some(check_vs_markdownlint(&ours, &scratch, &mut notes))
    } else {
        None
    };
    let _ = fs::remove_dir_all(&scratch);
    print!("{}", markdown_report(&rows, check.flatten(), &notes));
    ExitCode::SUCCESS
}

/// Builds the release server and returns its path.
fn build_server() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = docs::workspace_root();
    eprintln!("building the release server ...");
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "joint-review-lsp",
            "--bin",
            "joint-review-lsp",
        ])
        .current_dir(&root)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo build exited with {status}"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/joint-review-lsp"))
}

/// The first line `program args` prints, when it can be started (markdownlint-cli2 prints its
/// version with its usage and exits with 2).
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or(program).trim().to_string())
}

fn initialize_params() -> Value {
    json!({
        "processId": std::process::id(),
        "rootUri": null,
        // Ours then says which publish is the full analysis's (other servers ignore it).
        "initializationOptions": { "analysisNotifications": true },
        "capabilities": {
            "general": { "positionEncodings": ["utf-16"] },
            "textDocument": {
                "synchronization": { "didSave": false },
                "publishDiagnostics": { "versionSupport": true },
                "hover": { "contentFormat": ["markdown", "plaintext"] },
                // As VS Code's: documentation may come later, in `completionItem/resolve`.
                "completion": { "completionItem": {
                    "snippetSupport": true,
                    "documentationFormat": ["markdown", "plaintext"],
                    "resolveSupport": { "properties": ["documentation", "detail", "additionalTextEdits"] }
                } }
            }
        }
    })
}

/// Length of a line in UTF-16 code units (the negotiated encoding).
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn run(server: &ServerSpec, doc: &BenchDoc, o: &Options, scratch: &Path) -> Row {
    let mut c = Client::spawn(&server.program, &server.args)
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.program));
    let (caps, _) = c.request("initialize", initialize_params());
    c.notify("initialized", json!({}));
    let caps = &caps["capabilities"];
    let path = scratch.join(&doc.file_name);
    let _ = fs::write(&path, &doc.text);
    let uri = format!("file://{}", path.display());

    // Diagnostics for `version` of our document (or any, for a server that sends no version).
    let for_version = |version: i64| {
        let uri = uri.clone();
        move |p: &Value| {
            p["uri"] == uri.as_str() && (p["version"].is_null() || p["version"] == version)
        }
    };

    // Cold: didOpen -> first diagnostics.
    let start = Instant::now();
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "markdown", "version": 1, "text": doc.text } }),
    );
    let (at, _) = c.wait_notification("textDocument/publishDiagnostics", for_version(1));
    let cold = at - start;
    let cold_full = (server.name == OURS).then(|| {
        let (at, _) = c.wait_notification("$/jointReview/analysed", |p| {
            p["version"] == 1 && p["last"] == true
        });
        at - start
    });
    c.drain(Duration::from_millis(50));

    // Typing at the end of the typing line, one character at a time.
    let line = doc.typing_line;
    let mut col = utf16_len(doc.line(line));
    let mut version = 1;
    let mut typed = TYPED.chars().cycle();
    // One change: `text` in place of the range from `start` to `end`.
    let replace = |c: &mut Client, version: i64, start: Value, end: Value, text: &str| {
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "range": { "start": start, "end": end }, "text": text }]
            }),
        );
    };
    let pos = |line: usize, character: usize| json!({ "line": line, "character": character });
    // One character typed at `line`, `col`.
    let change = |c: &mut Client, version: i64, line: usize, col: usize, ch: char| {
        replace(c, version, pos(line, col), pos(line, col), &ch.to_string());
    };
    // One keystroke: the time from sending it to diagnostics for its version.
    let type_one = |c: &mut Client, version: i64, line: usize, col: usize, ch: char| {
        let start = Instant::now();
        change(c, version, line, col, ch);
        let (at, _) = c.wait_notification("textDocument/publishDiagnostics", for_version(version));
        at - start
    };
    let cpu_before = c.cpu_snapshot();
    let mut samples = Vec::with_capacity(o.keystrokes);
    for _ in 0..o.keystrokes {
        version += 1;
        samples.push(type_one(&mut c, version, line, col, typed.next().unwrap()));
        col += 1;
    }
    let cpu_per_key = match cpu_before.and_then(|before| c.cpu_since(&before)) {
        Some(ran) if o.keystrokes > 0 => ran / o.keystrokes as u32,
        _ => Duration::ZERO,
    };
    let keystroke = Summary::of(&samples).unwrap_or(Summary {
        p50: Duration::ZERO,
        p95: Duration::ZERO,
        max: Duration::ZERO,
    });
    c.drain(PAUSE);

    // Line breaks: Enter at the end of the typing line, then Backspace, in turn.
    let cpu_before = c.cpu_snapshot();
    let mut samples = Vec::with_capacity(LINE_BREAKS);
    for i in 0..LINE_BREAKS {
        version += 1;
        let (end, text) = match i % 2 {
            0 => (pos(line, col), "\n"),
            _ => (pos(line + 1, 0), ""),
        };
        let start = Instant::now();
        replace(&mut c, version, pos(line, col), end, text);
        let (at, _) = c.wait_notification("textDocument/publishDiagnostics", for_version(version));
        samples.push(at - start);
    }
    let cpu_per_line_break = match cpu_before.and_then(|before| c.cpu_since(&before)) {
        Some(ran) => ran / LINE_BREAKS as u32,
        _ => Duration::ZERO,
    };
    let line_break = Summary::of(&samples).expect("LINE_BREAKS > 0");
    c.drain(PAUSE);

    // Single keystrokes and bursts (changes back to back, then diagnostics for the last one),
    // each after a pause, taken in turn so that both meet the machine in the same state.
    let bursts = if server.name == OURS {
        BURSTS
    } else {
        // A peer may take seconds per burst (it publishes every version).
        1
    };
    let mut paused = Vec::with_capacity(PAUSED);
    let mut samples = Vec::with_capacity(bursts);
    let published = Cell::new(0);
    for i in 0..PAUSED.max(bursts) {
        if i < PAUSED {
            version += 1;
            paused.push(type_one(&mut c, version, line, col, typed.next().unwrap()));
            col += 1;
            c.drain(PAUSE);
        }
        if i >= bursts {
            continue;
        }
        let first = version + 1;
        let mut last_sent = Instant::now();
        for _ in 0..BURST {
            version += 1;
            last_sent = Instant::now();
            change(&mut c, version, line, col, typed.next().unwrap());
            col += 1;
        }
        let last = version;
        let uri_ = uri.clone();
        let (at, _) = c.wait_notification("textDocument/publishDiagnostics", |p| {
            let v = p["version"].as_i64();
            if p["uri"] == uri_.as_str() && v.is_some_and(|v| v >= first) {
                published.set(published.get() + 1);
            }
            p["uri"] == uri_.as_str() && (v.is_none() || v == Some(last))
        });
        samples.push(at - last_sent);
        c.drain(PAUSE);
    }
    let after_pause = Summary::of(&paused).expect("PAUSED > 0");
    let burst = Summary::of(&samples).expect("at least one burst");
    let burst_published = published.get() as f64 / bursts as f64;

    // Hover on a heading, and completion at its end when offered.
    let heading_end = utf16_len(doc.line(doc.heading_line));
    let position = |character: usize| json!({ "textDocument": { "uri": uri }, "position": { "line": doc.heading_line, "character": character } });
    let timed = |c: &mut Client, method: &str, params: Value| {
        let times: Vec<Duration> = (0..o.requests)
            .map(|_| c.request(method, params.clone()).1)
            .collect();
        Summary::of(&times)
    };
    let offers = |key: &str| caps.get(key).is_some_and(|v| !v.is_null() && *v != false);
    let hover = if offers("hoverProvider") {
        timed(&mut c, "textDocument/hover", position(4))
    } else {
        None
    };
    let completion = if offers("completionProvider") {
        timed(&mut c, "textDocument/completion", position(heading_end))
    } else {
        None
    };
    let resolves = caps["completionProvider"]["resolveProvider"] == true;
    let completion_resolve = if completion.is_some() && resolves {
        let (list, _) = c.request("textDocument/completion", position(heading_end));
        let items = list.get("items").unwrap_or(&list).as_array().cloned();
        // The item a client selects first: the lowest sort text.
        let first = items.unwrap_or_default().into_iter().min_by_key(|i| {
            let sort = i.get("sortText").or_else(|| i.get("label"));
            sort.and_then(Value::as_str).unwrap_or("").to_string()
        });
        first.and_then(|item| timed(&mut c, "completionItem/resolve", item))
    } else {
        None
    };

    // Typing at the end of a heading near the middle (last: it renames that heading). Each
    // keystroke changes a heading's text, which typing in a paragraph never does.
    let heading_keystroke = {
        let line = doc.heading_line;
        let mut samples = Vec::with_capacity(HEADING_KEYSTROKES);
        for col in heading_end..heading_end + HEADING_KEYSTROKES {
            version += 1;
            samples.push(type_one(&mut c, version, line, col, typed.next().unwrap()));
        }
        Summary::of(&samples).expect("HEADING_KEYSTROKES > 0")
    };

    let rss = c.peak_rss();
    let cpu = c.cpu_time();
    c.shutdown();
    let _ = fs::remove_file(&path);
    Row {
        server: server.name.clone(),
        doc: doc.label.clone(),
        lines: doc.lines(),
        bytes: doc.text.len(),
        cold,
        cold_full,
        keystroke,
        after_pause,
        cpu_per_key,
        heading_keystroke,
        line_break,
        cpu_per_line_break,
        burst,
        burst_published,
        hover,
        completion,
        completion_resolve,
        rss,
        cpu,
    }
}

fn pair(s: Option<Summary>) -> String {
    s.map_or("n/a".into(), |s| format!("{} / {}", ms(s.p50), ms(s.p95)))
}

/// The completion list's times, then its first item's resolve's where the server resolves.
fn completion(r: &Row) -> String {
    match r.completion_resolve {
        Some(resolve) => format!("{} (resolve {})", pair(r.completion), pair(Some(resolve))),
        None => pair(r.completion),
    }
}

fn triple(s: Summary) -> String {
    format!("{} / {} / {}", ms(s.p50), ms(s.p95), ms(s.max))
}

fn plain_row(r: &Row) -> String {
    format!(
        "{:<28} {:<18} {:>8} {:>8} {:>20} {:>8} {:>20} {:>20} {:>8} {:>20} {:>20} {:>14} {:>14} {:>7} {:>7}",
        r.doc,
        r.server.chars().take(18).collect::<String>(),
        ms(r.cold),
        r.cold_full.map_or("-".into(), ms),
        triple(r.keystroke),
        ms(r.cpu_per_key),
        triple(r.heading_keystroke),
        triple(r.line_break),
        ms(r.cpu_per_line_break),
        triple(r.after_pause),
        triple(r.burst),
        pair(r.hover),
        completion(r),
        r.rss.map_or("?".into(), mb),
        r.cpu
            .map_or("?".into(), |c| format!("{:.2}", c.as_secs_f64())),
    )
}

/// `check` over 50 real documents against `markdownlint-cli2` with MD043: median wall times.
struct CheckTimes {
    files: usize,
    ours: Duration,
    markdownlint: Duration,
    markdownlint_version: String,
}

fn median_of(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

fn check_vs_markdownlint(
    ours: &Path,
    scratch: &Path,
    notes: &mut Vec<String>,
) -> Option<CheckTimes> {
    let Some(version) = version_of("markdownlint-cli2", &["--help"]) else {
        notes.push(
            "markdownlint-cli2 is not installed (`npm install -g markdownlint-cli2`): the `check` comparison was not run."
                .into(),
        );
        return None;
    };
    let dir = scratch.join("fifty");
    let _ = fs::create_dir_all(&dir);
    let real = docs::real_docs();
    let files = 50;
    for i in 0..files {
        let d = &real[i % real.len()];
        let _ = fs::write(dir.join(format!("{i:02}-{}", d.file_name)), &d.text);
    }
    // MD043 alone, with the joint-assessment template's headings after its title; "*" (any
    // headings) stands for the preamble and the title, which name the project.
    let template = fs::read_to_string(docs::workspace_root().join("grammars/joint-assessment.md"))
        .unwrap_or_default();
    let headings: Vec<&str> = std::iter::once("*")
        .chain(
            template
                .lines()
                .filter(|l| l.starts_with('#'))
                .skip_while(|l| !l.contains("Joint-assessment of"))
                .skip(1),
        )
        .collect();
    let config = json!({ "config": { "default": false, "MD043": { "headings": headings } } });
    let _ = fs::write(dir.join(".markdownlint-cli2.jsonc"), config.to_string());

    let time = |program: &Path, args: &[&str]| {
        let start = Instant::now();
        let _ = Command::new(program)
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        start.elapsed()
    };
    eprintln!("timing `check` and markdownlint-cli2 over {files} documents ...");
    let ours = median_of(5, || time(ours, &["check", "."]));
    let markdownlint = median_of(5, || time(Path::new("markdownlint-cli2"), &["*.md"]));
    let _ = fs::remove_dir_all(&dir);
    Some(CheckTimes {
        files,
        ours,
        markdownlint,
        markdownlint_version: version,
    })
}

fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let kb: u64 = m.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!(", {:.0} GiB RAM", kb as f64 / 1024.0 / 1024.0))
        })
        .unwrap_or_default();
    format!(
        "{model}, {cores} CPUs (nproc){mem}, {}",
        std::env::consts::OS
    )
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        "cargo run --release -p joint-review-bench".into()
    } else {
        format!(
            "cargo run --release -p joint-review-bench -- {}",
            args.join(" ")
        )
    }
}

fn markdown_report(rows: &[Row], check: Option<CheckTimes>, notes: &[String]) -> String {
    let mut out = String::new();
    let revision = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(docs::workspace_root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(out, "Machine: {}. Commit: {revision}.", machine());
    let _ = writeln!(out, "Command: `{}`.", command_line());
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| document | lines | server | cold open -> first diagnostics (ms) | cold open -> full analysis (ms) | keystroke -> diagnostics p50 / p95 / max (ms) | server CPU per keystroke (ms) | keystroke at the end of a heading -> diagnostics p50 / p95 / max (ms) | line break -> diagnostics p50 / p95 / max (ms) | server CPU per line break (ms) | keystroke after a {} ms pause p50 / p95 / max (ms) | burst of {BURST} after a pause -> diagnostics for its last version p50 / p95 / max (ms) | hover p50 / p95 (ms) | completion p50 / p95 (ms), then resolve of its first item | peak RSS (MB) | CPU total (s) |",
        PAUSE.as_millis()
    );
    let _ = writeln!(
        out,
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} ({} KB) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({:.1} published) | {} | {} | {} | {} |",
            r.doc,
            r.bytes / 1000,
            r.lines,
            r.server,
            ms(r.cold),
            r.cold_full.map_or("-".into(), ms),
            triple(r.keystroke),
            ms(r.cpu_per_key),
            triple(r.heading_keystroke),
            triple(r.line_break),
            ms(r.cpu_per_line_break),
            triple(r.after_pause),
            triple(r.burst),
            r.burst_published,
            pair(r.hover),
            completion(r),
            r.rss.map_or("?".into(), mb),
            r.cpu.map_or("?".into(), |c| format!("{:.2}", c.as_secs_f64())),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", burst_verdict(rows));
    if let Some(c) = check {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "`joint-review-lsp check` over {} real documents (copies of the six): {} ms; `markdownlint-cli2` ({}) with only MD043 set to the joint-assessment template's headings, same files: {} ms (wall time, median of 5 runs each).",
            c.files,
            ms(c.ours),
            c.markdownlint_version,
            ms(c.markdownlint)
        );
    }
    for n in notes {
        let _ = writeln!(out);
        let _ = writeln!(out, "{n}");
    }
    out
}

/// The performance issue's rule for bursts, from the unrounded figures (the table's two
/// digits can show a burst p95 level with the paused p95 that is over it): on how many of our
/// rows the burst p95 is within the p95 of keystrokes after a pause, each pair in µs.
fn burst_verdict(rows: &[Row]) -> String {
    let ours: Vec<&Row> = rows.iter().filter(|r| r.server == OURS).collect();
    let within = ours
        .iter()
        .filter(|r| r.burst.p95 <= r.after_pause.p95)
        .count();
    let pairs: Vec<String> = ours
        .iter()
        .map(|r| {
            format!(
                "{} {} / {}",
                r.doc,
                r.burst.p95.as_micros(),
                r.after_pause.p95.as_micros()
            )
        })
        .collect();
    format!(
        "Burst p95 within the p95 of keystrokes after a pause (joint-review-lsp): {within} of {} \
         (burst / paused, µs: {}).",
        ours.len(),
        pairs.join("; ")
    )
}
