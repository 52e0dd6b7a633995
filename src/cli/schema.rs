//! `orgform schema`: print (or write) the JSON Schemas generated from the Rust types.

use std::path::PathBuf;

use anyhow::Context;

use super::{Exit, Globals};
use crate::schema;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema to print; all of them (as one object keyed by file name) when omitted.
    #[arg(value_parser = ["manifest", "config", "plan"])]
    pub name: Option<String>,

    /// Write every schema as DIR/<name>.schema.json instead of printing.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let all = schema::all();
    if let Some(dir) = args.write {
        let dir = globals.dir.join(dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (file, value) in &all {
            let path = dir.join(file);
            std::fs::write(&path, schema::to_file_text(value))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(Exit::Ok);
    }
    let value = match args.name.as_deref() {
        Some(name) => all
            .into_iter()
            .find(|(file, _)| file.starts_with(&format!("{name}.")))
            .map(|(_, v)| v)
            .unwrap_or_default(),
        None => {
            serde_json::Value::Object(all.into_iter().map(|(f, v)| (f.to_string(), v)).collect())
        }
    };
    print!("{}", schema::to_file_text(&value));
    Ok(Exit::Ok)
}
