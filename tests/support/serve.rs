//! `orgform sandbox serve` on a loopback port and clients of it through the `encord`
//! provider: shared by the tests and `benches/http.rs` (which includes this file).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use orgform::synth::{CONFIG, Synth};

use crate::util::Run;

/// A running `orgform sandbox serve`; its log (stderr) goes to a file, read at the end.
pub struct Server {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl Server {
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        let log = dir.join("serve.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_orgform"))
            .arg("-C")
            .arg(dir)
            .args(["sandbox", "serve"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("orgform starts");
        let url = listening_url(&mut child);
        Server { child, url, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Successful writes per `METHOD path` (ids replaced by `{id}`), including writes
    /// made whose answer the server dropped on purpose.
    pub fn writes(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for line in self.log().lines() {
            let mut parts = line.split_whitespace();
            let (Some(method), Some(path), Some(status)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if method == "GET" {
                continue;
            }
            let done = matches!(status, "200" | "204") || line.contains("performed with 20");
            if done {
                *out.entry(format!("{method} {}", anonymous(path)))
                    .or_default() += 1;
            }
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A path with its UUIDs as `{id}` (the sandbox makes new ones for what it creates).
fn anonymous(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let uuid = seg.len() == 36 && seg.chars().filter(|c| *c == '-').count() == 4;
            if uuid { "{id}" } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `--stats`' total and per-endpoint counts.
pub fn stats(stderr: &str) -> (u64, u64, BTreeMap<String, u64>) {
    let mut per = BTreeMap::new();
    let mut total = (0, 0);
    for line in stderr.lines() {
        let t = line.trim();
        if let Some((calls, rest)) = t.split_once(" calls (") {
            let writes = rest.split_once(" writes").map_or("0", |(w, _)| w);
            total = (calls.parse().unwrap_or(0), writes.parse().unwrap_or(0));
        } else if let Some((n, endpoint)) = t.split_once("  ")
            && let Ok(n) = n.trim().parse::<u64>()
        {
            per.insert(endpoint.trim().to_string(), n);
        }
    }
    (total.0, total.1, per)
}

/// The address `sandbox serve` prints first on stdout, on loopback.
pub fn listening_url(child: &mut Child) -> String {
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first stdout line: {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    url
}

/// The number `--stats`' summary line prints between `before` and `after`.
fn summary_count(stderr: &str, before: &str, after: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once(before)?;
            rest.split_once(after)?.0.parse().ok()
        })
        .unwrap_or(0)
}

/// The retries `--stats` counted.
pub fn retries(stderr: &str) -> u64 {
    summary_count(stderr, "writes), ", " retries")
}

/// The 429 answers `--stats` counted.
pub fn rate_limited(stderr: &str) -> u64 {
    summary_count(stderr, " retries, ", " rate-limited")
}

/// The real binary as CI runs it (no TTY, no stdin, no colour), with `env`, wrapped by
/// `wrapper` (a program and its arguments, e.g. GNU time) when given.
pub fn command(dir: &Path, env: &[(&str, &str)], args: &[&str], wrapper: &[&str]) -> Command {
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(env!("CARGO_BIN_EXE_orgform"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_orgform")),
    };
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("ENCORD_SSH_KEY")
        .env_remove("ENCORD_SSH_KEY_FILE")
        .env_remove("ENCORD_DOMAIN")
        .env_remove("GITHUB_SHA")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the real binary as CI would, with `env`.
pub fn run_with(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    finished(command(dir, env, args, &[]))
}

/// Runs `cmd` to its end; it must not panic.
fn finished(mut cmd: Command) -> Run {
    let out = cmd.output().expect("orgform runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A synthetic org (`orgform::synth`) in a sandbox that `serve` can serve, and a
/// repository of its manifests that manages it through the API with an admin's key.
pub struct Served {
    /// The sandbox org's repository (`server/`), the client's (`client/`), the key.
    pub root: PathBuf,
    pub server_dir: PathBuf,
    pub client_dir: PathBuf,
    key: PathBuf,
    state: PathBuf,
    /// The org admin whose key the client uses.
    pub admin: String,
}

impl Served {
    /// Writes `synth` into `root`: the server's sandbox made from its live org, a key
    /// for one of its admins, and the client repository with its manifests.
    pub fn new(root: &Path, synth: &Synth) -> Served {
        let server_dir = root.join("server");
        let client_dir = root.join("client");
        synth.write(&server_dir).expect("write the org");
        synth.write(&client_dir).expect("write the manifests");
        std::fs::remove_file(client_dir.join("sandbox.yaml")).expect("client: no sandbox");
        let init = run_with(
            &server_dir,
            &[],
            &["sandbox", "init", "--from", "sandbox.yaml"],
        );
        assert_eq!(init.code, 0, "{}", init.stderr);
        let live = orgform::sandbox::store::Store::open_existing(
            &server_dir.join(".orgform/sandbox.db"),
            orgform::sandbox::store::Access::ReadOnly,
        )
        .expect("store")
        .read()
        .expect("read");
        let admin = live
            .users
            .iter()
            .find(|(_, u)| u.role == orgform::model::OrgRole::Admin)
            .map(|(email, _)| email.clone())
            .expect("the org has an admin");
        let key = root.join("admin.key");
        let key_text = key.to_string_lossy().into_owned();
        let added = run_with(
            &server_dir,
            &[],
            &["sandbox", "key", "add", &admin, "--generate", &key_text],
        );
        assert_eq!(added.code, 0, "{}", added.stderr);
        Served {
            root: root.to_path_buf(),
            server_dir,
            client_dir,
            key,
            state: root.join("state"),
            admin,
        }
    }

    /// Points the client at a server.
    pub fn configure(&self, url: &str) {
        let config = format!(
            "{CONFIG}provider:\n  kind: encord\n  domain: {url}\n  key_user: {}\n",
            self.admin
        );
        std::fs::write(self.client_dir.join("orgform.yaml"), config).expect("write config");
    }

    /// Makes the client's manifests describe the live org exactly (`export`).
    pub fn export_live(&self) {
        std::fs::remove_dir_all(self.client_dir.join("org")).expect("clear");
        let export = run_with(&self.server_dir, &[], &["export", "--out", "../client/org"]);
        assert_eq!(export.code, 0, "{}", export.stderr);
    }

    /// `orgform` in the client repository, through the API.
    pub fn client(&self, args: &[&str]) -> Run {
        finished(self.client_command(args, &[]))
    }

    /// The command [`Served::client`] runs, wrapped by `wrapper`.
    pub fn client_command(&self, args: &[&str], wrapper: &[&str]) -> Command {
        let key = self.key.to_string_lossy().into_owned();
        let state = self.state.to_string_lossy().into_owned();
        command(
            &self.client_dir,
            &[("ENCORD_SSH_KEY_FILE", &key), ("XDG_STATE_HOME", &state)],
            args,
            wrapper,
        )
    }

    /// The org as the server holds it now.
    pub fn live(&self) -> orgform::model::Org {
        orgform::sandbox::store::Store::open_existing(
            &self.server_dir.join(".orgform/sandbox.db"),
            orgform::sandbox::store::Access::ReadOnly,
        )
        .expect("store")
        .read()
        .expect("read")
    }
}
