//! Command-line interface: clap definitions and dispatch, one module per command.

mod apply;
mod completions;
mod diff;
mod drift;
mod export;
mod init;
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
2 changes present (`plan --detailed-exitcode`, `drift`, `diff`)."
)]
pub struct Cli {
    /// Run as if orgform was started in DIR (like `git -C`); orgform.yaml is looked up there.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// When to colour output (`auto`: on terminals, unless NO_COLOR is set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print errors only: no progress, summaries, warnings or notes on stderr. Data on
    /// stdout (plans, JSON) is unchanged.
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
    /// Start an org repository: orgform.yaml (commented), org/ with a minimal manifest,
    /// a .gitignore for .orgform/ and the schemas editors complete from.
    ///
    /// Refuses to overwrite an existing orgform.yaml or manifests. With --from-live the
    /// manifests are exported from the live org instead.
    Init(init::Args),
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
    /// Report what was changed in the live org by hand (never writes).
    ///
    /// The live org against the manifests, from the live side: what is in the org but
    /// not declared, declared but missing, or different; who it affects; how to adopt it.
    ///
    /// Exit codes: 0 converged (warnings allowed); 2 drift (any change, manual item or
    /// blocked item); 1 on any error.
    Drift(drift::Args),
    /// Compare the declared org at two git commits (no provider, no credentials).
    ///
    /// Exit codes: 0 the same org, 2 different, 1 on any error.
    Diff(diff::Args),
    /// Write manifests from the live org, to onboard an existing org in one command.
    Export(export::Args),
    /// Print the JSON Schemas of the manifest, config and plan formats.
    Schema(schema::Args),
    /// Manage the embedded sandbox org (a local SQLite file; no account needed).
    Sandbox(sandbox::Args),
    /// Print shell completions (bash, zsh, fish, powershell, elvish) to stdout.
    ///
    /// e.g. `orgform completions bash > ~/.local/share/bash-completion/completions/orgform`
    Completions(completions::Args),
    /// Print the man page (roff) to stdout, or write one per command with --out DIR.
    Man(completions::ManArgs),
}

/// Settings every command reads, decided once from the global flags.
pub struct Globals {
    pub dir: PathBuf,
    /// Colour on stderr (messages, diagnostics, progress).
    pub color: bool,
    /// Colour on stdout (the text plan).
    pub color_stdout: bool,
    /// Errors only on stderr (`-q`).
    pub quiet: bool,
    /// How a network provider connects (`--concurrency`, `--stats`).
    pub connection: crate::provider::encord::Settings,
}

impl Globals {
    /// These settings, with a command's connection flags.
    fn connected(&self, flags: &provider::Connection) -> Globals {
        Globals {
            dir: self.dir.clone(),
            connection: crate::provider::encord::Settings {
                // Progress of long reads: on a terminal, unless `-q`.
                progress: !self.quiet && std::io::stderr().is_terminal(),
                ..flags.settings()
            },
            ..*self
        }
    }
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
        connection: Default::default(),
    };
    match cli.command {
        Command::Validate(args) => validate::run(&globals, args),
        Command::Plan(args) => plan::run(&globals.connected(&args.connection), args),
        Command::Apply(args) => apply::run(&globals.connected(&args.connection), args),
        Command::Drift(args) => drift::run(&globals.connected(&args.connection), args),
        Command::Diff(args) => diff::run(&globals, args),
        Command::Export(args) => export::run(&globals, args),
        Command::Schema(args) => schema::run(&globals, args),
        Command::Sandbox(args) => sandbox::run(&globals, args),
        Command::Init(args) => init::run(&globals, args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => completions::man(&globals, args),
    }
}
