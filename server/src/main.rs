//! `joint-review-lsp`: the language server (the default) and the `check` command line.

#![deny(clippy::print_stdout)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use joint_review_lsp::cli;

/// Language server and checker for CNCF TAG-Security joint-review and self-assessment documents.
///
/// With no command, or with `server`, it speaks the Language Server Protocol on stdin/stdout.
#[derive(Parser)]
#[command(name = "joint-review-lsp", version, about, long_about = None)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Use stdin/stdout for the protocol (the default; accepted because editors pass it).
    #[arg(long, global = true, hide = true)]
    stdio: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the language server over stdio (the default).
    Server,
    /// Check documents against their outline, for CI.
    Check(cli::CheckArgs),
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // Help and version go to stdout as usual; errors exit with 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match args.command {
        None | Some(Command::Server) => {
            joint_review_lsp::lsp::init_logging();
            joint_review_lsp::lsp::run_stdio()
        }
        Some(Command::Check(check)) => cli::check(check),
    }
}
