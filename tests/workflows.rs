//! Every `orgform` command in the repository's workflows (the project's own and the
//! ready-to-copy ones in examples/gitops/) and in action.yml is one the real CLI accepts:
//! a renamed flag breaks this test, not a user's pipeline.

use std::path::{Path, PathBuf};

use clap::Parser;
use clap::error::ErrorKind;
use orgform::cli::Cli;
use orgform::diagnostic::Sources;
use orgform::yaml::{self, Node, NodeKind};

use crate::util::repo_root;

/// Stands for a shell expansion (`"$ORG_DIR"`): its value is not known here.
const EXPANDED: &str = "VALUE";

/// One `orgform` command found in a `run:` script.
#[derive(Debug)]
struct Invocation {
    file: String,
    line: u32,
    args: Vec<String>,
}

fn workflow_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                workflow_files(&path, out);
            }
        } else if (name.ends_with(".yml") || name.ends_with(".yaml"))
            && path
                .parent()
                .is_some_and(|p| p.ends_with(".github/workflows"))
        {
            out.push(path);
        }
    }
}

/// Every `run:` script in a workflow or action, with the line it starts on.
fn run_scripts(node: &Node, out: &mut Vec<(u32, String)>) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                if let (NodeKind::Scalar { value: k, .. }, NodeKind::Scalar { value: script, .. }) =
                    (&key.kind, &value.kind)
                    && k == "run"
                {
                    out.push((value.origin.line, script.clone()));
                }
                run_scripts(value, out);
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|i| run_scripts(i, out)),
        NodeKind::Scalar { .. } => {}
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    /// `|`, `||`, `&&`, `;`, `&`, `(`, `)`, `$(`, redirections.
    Operator(String),
}

/// Splits one shell line into words and operators: quotes are honoured, expansions
/// become [`EXPANDED`], comments end the line.
fn tokens(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, out: &mut Vec<Token>| {
        if *in_word {
            out.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => flush(&mut word, &mut in_word, &mut out),
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        '$' => {
                            // `${X}`, `$X` or `$(...)`: the value is unknown here.
                            match chars.peek() {
                                Some('{') => {
                                    for e in chars.by_ref() {
                                        if e == '}' {
                                            break;
                                        }
                                    }
                                }
                                Some('(') => {
                                    let mut depth = 0;
                                    for e in chars.by_ref() {
                                        match e {
                                            '(' => depth += 1,
                                            ')' => {
                                                depth -= 1;
                                                if depth == 0 {
                                                    break;
                                                }
                                            }
                                            _ => {}
                                        }
                                    }
                                }
                                _ => {
                                    while chars
                                        .peek()
                                        .is_some_and(|e| e.is_ascii_alphanumeric() || *e == '_')
                                    {
                                        chars.next();
                                    }
                                }
                            }
                            word.push_str(EXPANDED);
                        }
                        other => word.push(other),
                    }
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                flush(&mut word, &mut in_word, &mut out);
                chars.next();
                out.push(Token::Operator("$(".to_string()));
            }
            '$' => {
                in_word = true;
                if chars.peek() == Some(&'{') {
                    for e in chars.by_ref() {
                        if e == '}' {
                            break;
                        }
                    }
                } else {
                    while chars
                        .peek()
                        .is_some_and(|e| e.is_ascii_alphanumeric() || *e == '_' || *e == '?')
                    {
                        chars.next();
                    }
                }
                word.push_str(EXPANDED);
            }
            '|' | '&' | ';' | '(' | ')' | '<' | '>' => {
                // `2>` and `2>&1`: the digit belongs to the redirection.
                if (c == '>' || c == '<') && in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    flush(&mut word, &mut in_word, &mut out);
                }
                let mut op = c.to_string();
                while chars
                    .peek()
                    .is_some_and(|n| matches!(n, '|' | '&' | '>') && (*n == c || c == '>'))
                {
                    op.push(chars.next().unwrap_or(c));
                }
                out.push(Token::Operator(op));
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut out);
    out
}

/// Words after which a new command starts.
const COMMAND_KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{",
];

fn invocations(file: &str, start: u32, script: &str) -> Vec<Invocation> {
    let mut found = Vec::new();
    // Continued lines (`\` at the end) are one command.
    let mut logical: Vec<(u32, String)> = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, line) in script.lines().enumerate() {
        let number = start + 1 + i as u32;
        let (at, mut text) = pending.take().unwrap_or((number, String::new()));
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                text.push_str(head);
                text.push(' ');
                pending = Some((at, text));
            }
            None => {
                text.push_str(line);
                logical.push((at, text));
            }
        }
    }
    logical.extend(pending);
    for (line, text) in logical {
        let tokens = tokens(&text);
        let mut command_start = true;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Operator(op) => {
                    // After a redirection comes its target, not a command.
                    command_start = !op.contains('>') && !op.contains('<');
                    i += 1;
                }
                Token::Word(w) if command_start && COMMAND_KEYWORDS.contains(&w.as_str()) => {
                    i += 1;
                }
                Token::Word(w) if command_start && w == "orgform" => {
                    let args: Vec<String> = tokens[i + 1..]
                        .iter()
                        .map_while(|t| match t {
                            Token::Word(w) => Some(w.clone()),
                            Token::Operator(_) => None,
                        })
                        .collect();
                    i += 1 + args.len();
                    found.push(Invocation {
                        file: file.to_string(),
                        line,
                        args,
                    });
                    command_start = false;
                }
                Token::Word(w) => {
                    // `VAR=value cmd`: an assignment keeps the command position.
                    command_start = command_start && w.contains('=') && !w.starts_with('-');
                    i += 1;
                }
            }
        }
    }
    found
}

fn all_invocations() -> (Vec<Invocation>, Vec<PathBuf>) {
    let root = repo_root();
    let mut files = Vec::new();
    workflow_files(&root, &mut files);
    files.sort();
    let mut all = Vec::new();
    for path in files.iter().chain([root.join("action.yml")].iter()) {
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).expect("readable workflow");
        let mut sources = Sources::default();
        let file = sources.add(shown.clone(), String::new());
        let node = yaml::parse(&text, file)
            .unwrap_or_else(|d| panic!("{shown} is not YAML: {}", d.message))
            .unwrap_or_else(|| panic!("{shown} is empty"));
        let mut scripts = Vec::new();
        run_scripts(&node, &mut scripts);
        for (line, script) in scripts {
            all.extend(invocations(&shown, line, &script));
        }
    }
    (all, files)
}

#[test]
fn every_orgform_command_in_the_workflows_is_accepted_by_the_cli() {
    let (all, files) = all_invocations();
    let rejected: Vec<String> = all
        .iter()
        .filter_map(|inv| {
            let argv = std::iter::once("orgform".to_string()).chain(inv.args.iter().cloned());
            match Cli::try_parse_from(argv) {
                Ok(_) => None,
                Err(e)
                    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) =>
                {
                    None
                }
                Err(e) => Some(format!(
                    "{}:{}: orgform {}\n{}",
                    inv.file,
                    inv.line,
                    inv.args.join(" "),
                    e.render()
                )),
            }
        })
        .collect();
    assert!(rejected.is_empty(), "{}", rejected.join("\n"));

    // The three example workflows are all found, and run the commands they document.
    let subcommands = |name: &str| -> Vec<String> {
        let mut used: Vec<String> = all
            .iter()
            .filter(|i| {
                i.file
                    .ends_with(&format!("examples/gitops/.github/workflows/{name}"))
            })
            .filter_map(|i| {
                i.args
                    .iter()
                    .find(|a| !a.starts_with('-') && *a != EXPANDED)
            })
            .cloned()
            .collect();
        used.sort();
        used.dedup();
        used
    };
    assert!(files.len() >= 5, "{files:?}");
    assert_eq!(subcommands("plan.yml"), ["diff", "plan", "validate"]);
    assert_eq!(subcommands("apply.yml"), ["apply", "plan"]);
    assert_eq!(subcommands("drift.yml"), ["drift"]);
    // Every example runs orgform against the org's folder.
    for inv in all
        .iter()
        .filter(|i| i.file.starts_with("examples/gitops/"))
    {
        assert_eq!(
            inv.args[..2],
            ["-C", EXPANDED],
            "{}:{}: orgform {}",
            inv.file,
            inv.line,
            inv.args.join(" ")
        );
    }
}

#[test]
fn the_example_workflows_install_orgform_with_the_repository_action() {
    let dir = repo_root().join("examples/gitops/.github/workflows");
    for name in ["plan.yml", "apply.yml", "drift.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).expect("workflow");
        assert!(text.contains("uses: orgform/orgform@v1"), "{name}");
    }
}

#[test]
fn the_shell_reader_finds_commands_where_the_shell_would() {
    let found = invocations(
        "t.yml",
        1,
        "set +e\nif ! orgform -C \"$ORG_DIR\" apply \"$RUNNER_TEMP/p.json\" --allow-destroy; then\n  echo \"run orgform plan by hand\" # orgform in a comment\nfi\nx=$(orgform diff --base main | head) && orgform drift \\\n  --format json > out.json 2>&1\n",
    );
    let args: Vec<Vec<String>> = found.into_iter().map(|i| i.args).collect();
    assert_eq!(
        args,
        [
            vec!["-C", "VALUE", "apply", "VALUE/p.json", "--allow-destroy"],
            vec!["diff", "--base", "main"],
            vec!["drift", "--format", "json"],
        ]
    );
}
