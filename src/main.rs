//! The `reko-promote` binary: parse the command line, run it, map failures to an exit code.
//! Everything else lives in the library (`reko_promote::cli` and below).

use std::process::ExitCode;

use clap::Parser;
use reko_promote::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_tracing(cli.verbose, cli.quiet);
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            let mut message = format!("error: {error}");
            for cause in error.chain().skip(1) {
                message.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}
