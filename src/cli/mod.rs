//! Command-line interface: clap definitions and dispatch, one module per command.

mod apply;
mod export;
mod plan;
mod provider;
mod sandbox;
mod schema;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success, no changes.
    Ok = 0,
    /// Invalid manifests, blocked items, refused apply, any failure.
    Error = 1,
    /// Success with changes present (plan --detailed-exitcode, drift).
    Changes = 2,
}

#[derive(Debug, Parser)]
#[command(
    name = "orgform",
    version,
    about = "Manage an Encord Organization as code: validate, plan, apply.",
    long_about = "orgform keeps an Encord Organization (users, roles, groups, project tags, \
the metadata schema, Index folders and resource access) as YAML in a git repository, \
validates it offline, plans the difference against the live org, and applies it safely.\n\n\
Exit codes: 0 success / no changes, 1 error (usage errors included), \
2 changes present (`plan --detailed-exitcode`)."
)]
pub struct Cli {
    /// Run as if orgform was started in DIR (like `git -C`); orgform.yaml is looked up there.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// When to colour output (`auto`: on terminals, unless NO_COLOR is set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Errors only: no progress, notes or summaries unless something went wrong.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the manifests offline and report every problem with file:line:column.
    Validate(validate::Args),
    /// Plan the changes that make the live org match the manifests (never writes).
    ///
    /// Exit codes: 0 success; 1 on any error (invalid manifests, unreadable org,
    /// unknown --target, usage error) or when the plan has blocked items.
    ///
    /// With --detailed-exitcode: 0 only when the plan is empty (no change, manual item
    /// or blocked item), 2 when it is not, 1 on any error.
    Plan(plan::Args),
    /// Apply a saved plan (or plan now and confirm): the only command that writes.
    ///
    /// A saved plan is refused when made by another orgform version or from other
    /// manifests; each change is judged against the live org (done, applicable, or
    /// conflicting: refused). Destructive changes need --allow-destroy. Interrupted
    /// applies resume when run again.
    Apply(apply::Args),
    /// Write manifests from the live org, to onboard an existing org in one command.
    Export(export::Args),
    /// Print the JSON Schemas of the manifest, config and plan formats.
    Schema(schema::Args),
    /// Manage the embedded sandbox org (a local SQLite file; no account needed).
    Sandbox(sandbox::Args),
}

/// Settings every command reads, decided once from the global flags.
pub struct Globals {
    pub dir: PathBuf,
    /// Colour on stderr (messages, diagnostics, progress).
    pub color: bool,
    /// Colour on stdout (the text plan).
    pub color_stdout: bool,
    /// `-q/--quiet`: errors only.
    pub quiet: bool,
}

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    // `auto` colours a stream only when it is a terminal and NO_COLOR is unset.
    let decide = |is_terminal: bool| match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let globals = Globals {
        dir: cli.dir.unwrap_or_else(|| PathBuf::from(".")),
        color: decide(std::io::stderr().is_terminal()),
        color_stdout: decide(std::io::stdout().is_terminal()),
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Validate(args) => validate::run(&globals, args),
        Command::Plan(args) => plan::run(&globals, args),
        Command::Apply(args) => apply::run(&globals, args),
        Command::Export(args) => export::run(&globals, args),
        Command::Schema(args) => schema::run(&globals, args),
        Command::Sandbox(args) => sandbox::run(&globals, args),
    }
}
