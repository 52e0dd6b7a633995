//! `orgform sandbox key`: API keys of the sandbox org's users, for `sandbox serve`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::super::{Exit, Globals};
use crate::sandbox::openssh;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Register an Ed25519 key for an org user: requests signed with it act as that user.
    Add {
        /// The user the key acts as (a user of the sandbox org).
        email: String,
        /// An OpenSSH public key file (`ssh-ed25519 AAAA… comment`).
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "generate",
            required_unless_present = "generate"
        )]
        public_key: Option<PathBuf>,
        /// Generate a key: the OpenSSH private key is written to PATH (mode 0600), the
        /// public key to PATH.pub. Existing files are never overwritten.
        #[arg(long, value_name = "PATH")]
        generate: Option<PathBuf>,
        /// The key may read but never write (403 on every write).
        #[arg(long)]
        read_only: bool,
    },
}

fn resolve(globals: &Globals, p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        p
    } else {
        globals.dir.join(p)
    }
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let Command::Add {
        email,
        public_key,
        generate,
        read_only,
    } = args.command;
    let (mut store, shown) = super::open_store(globals)?;
    let (verifying, written) = match (public_key, generate) {
        (Some(file), _) => {
            let file = resolve(globals, file);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading the public key {}", file.display()))?;
            let key = openssh::parse_public_key(&text)
                .with_context(|| format!("{}: cannot use this public key", file.display()))?;
            (key, None)
        }
        (None, Some(path)) => {
            let path = resolve(globals, path);
            let public_path = PathBuf::from(format!("{}.pub", path.display()));
            for p in [&path, &public_path] {
                if p.exists() {
                    bail!(
                        "{} already exists: orgform never overwrites a key; choose another --generate path",
                        p.display()
                    );
                }
            }
            let key = openssh::generate().context("generating a key")?;
            let mut check = [0u8; 4];
            getrandom::fill(&mut check).context("generating a key")?;
            let pem = openssh::private_key_pem(&key, &email, u32::from_be_bytes(check));
            (key.verifying_key(), Some((path, public_path, pem)))
        }
        (None, None) => bail!("give --public-key FILE or --generate PATH"),
    };
    let keyid = openssh::key_id(&verifying);
    // Registered first: a refused key (unknown user) leaves no key files behind.
    store.add_api_key(&keyid, &email, read_only, "")?;
    if let Some((path, public_path, pem)) = written {
        write_private(&path, &pem)?;
        std::fs::write(
            &public_path,
            format!("{}\n", openssh::public_key_line(&verifying, &email)),
        )
        .with_context(|| format!("writing {}", public_path.display()))?;
        eprintln!(
            "Wrote the private key {} (mode 0600) and the public key {}.",
            path.display(),
            public_path.display()
        );
    }
    eprintln!(
        "Registered {}key {keyid} for {email} in the sandbox org {shown}.",
        if read_only { "read-only " } else { "" }
    );
    Ok(Exit::Ok)
}

/// Creates the private key file readable by its owner only, failing if it exists.
fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(pem.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
