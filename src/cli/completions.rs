//! `orgform completions` and `orgform man`: generated from the same clap definitions
//! as the parser, so they never drift from it.

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

use super::{Cli, Exit, Globals};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write orgform.1 and one page per command (orgform-plan.1, ...) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "orgform", &mut std::io::stdout());
    Ok(Exit::Ok)
}

pub fn man(globals: &Globals, args: ManArgs) -> anyhow::Result<Exit> {
    let cmd = Cli::command();
    let Some(out) = args.out else {
        clap_mangen::Man::new(cmd)
            .render(&mut std::io::stdout())
            .context("writing the man page")?;
        return Ok(Exit::Ok);
    };
    let dir = globals.dir.join(out);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(cmd, &dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    if !globals.quiet {
        eprintln!("wrote the man pages into {}", dir.display());
    }
    Ok(Exit::Ok)
}
