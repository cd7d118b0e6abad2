//! The command line: clap definitions and one small function per command.
//!
//! Commands parse their flags, call the library, print through a renderer and return an exit
//! code; they hold no logic of their own. `main` only maps errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod validate;

/// Declarative, GitOps-style promotion of Amazon Rekognition Custom Labels model versions
/// across AWS accounts and projects.
#[derive(Debug, Parser)]
#[command(name = "reko-promote", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  reko-promote validate manifests/\n  reko-promote validate --format json manifests/ examples/\n  reko-promote schema > schemas/manifest.schema.json"
)]
pub struct Cli {
    /// More output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline (no AWS call) and report every problem at once.
    ///
    /// Exit status: 0 when valid (warnings allowed), 1 when any error is found.
    #[command(
        after_help = "Examples:\n  reko-promote validate\n  reko-promote validate manifests/ examples/\n  reko-promote validate --format json manifests/prod.yaml"
    )]
    Validate {
        /// Manifest files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text, env = "REKO_PROMOTE_FORMAT")]
        format: Format,
    },
    /// Print the JSON Schema of manifest documents (the one committed under schemas/).
    #[command(after_help = "Example:\n  reko-promote schema > schemas/manifest.schema.json")]
    Schema,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For tools: the documented, versioned JSON document.
    Json,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Schema => {
            print!("{}", crate::manifest::schema::manifest_schema_text());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sets up tracing on stderr: `-q` errors only, default warnings, `-v` info, `-vv` debug;
/// RUST_LOG wins when set.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
