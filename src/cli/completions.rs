//! `reko-promote completions SHELL`: prints the shell completion script clap_complete generates
//! from the command definitions. Installing it is left to the user (see `--help`).

use std::process::ExitCode;

use clap::CommandFactory;

pub fn run(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(shell, &mut command, "reko-promote", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
