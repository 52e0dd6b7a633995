//! What reviewers read cannot be forged or hidden by the org's own data: control
//! characters never reach a terminal or a CI log raw, names cannot inject markup into
//! the PR comment, and the comment's cap never hides a role cut or an admin grant.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::util::{Run, TempRepo, orgform};

const CONFIG: &str = "manifests: org/
policy:
  prune: { groups: true, project_tags: true, folders: true }
";

/// Live names carry markup (validate rejects control characters in names, so those sit
/// in descriptions): ESC colour and screen-clear sequences, an OSC 8 hyperlink, BEL, a
/// CR/LF that would fake a plan line, a right-to-left override.
const HOSTILE_STATE: &str = r#"
users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: root@example.com, role: admin, type: internal }
  - { email: x@example.com, role: member, type: internal }
groups:
  - name: ops
    description: "red \e[31mALERT\e[0m </details><img src=x> @everyone `tick` a|b"
  - name: "</details><img src=x> @everyone ``x` |y \\|z"
    description: "bell \a and \e]8;;http://evil.example\e\\link\e]8;;\e\\ \r\n    ~ fake | row |"
project_tags:
  - { name: "`t|1`", description: "\e[2J\e[H cleared" }
folders:
  - { name: "f1 [link](https:evil.example) ![i](https:evil.example)", description: "hidden \e[8m text \u202e txt.exe" }
projects:
  - name: "P <img src=x> @everyone"
    hash: 11111111-2222-4333-8444-555555555555
    access:
      - { user: admin@example.com, role: admin }
      - { user: x@example.com, role: admin }
"#;

const HOSTILE_MANIFESTS: &str = r#"
users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: x@example.com, role: member, type: internal }
groups:
  - name: ops
    description: "new \e[32mgreen\e[0m <b>bold</b> @here $x$"
projects:
  - name: "P <img src=x> @everyone"
    access:
      - { user: admin@example.com, role: admin }
      - { user: x@example.com, role: viewer }
      - { group: ops, role: admin }
"#;

fn hostile_repo() -> TempRepo {
    let repo = TempRepo::new();
    repo.write("orgform.yaml", CONFIG)
        .write("state.yaml", HOSTILE_STATE)
        .write("org/main.yaml", HOSTILE_MANIFESTS);
    let init = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    repo
}

/// Control characters in what a run printed, but for line ends.
fn raw_controls(run: &Run) -> Vec<char> {
    run.stdout
        .chars()
        .chain(run.stderr.chars())
        .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
        .collect()
}

#[test]
fn text_plan_shows_escape_sequences_instead_of_sending_them() {
    let repo = hostile_repo();
    let run = orgform(repo.path(), &["plan", "--color", "never"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(raw_controls(&run), Vec::<char>::new(), "{}", run.stdout);
    for shown in [
        r"red \u{1b}[31mALERT\u{1b}[0m </details><img src=x> @everyone `tick` a|b → new \u{1b}[32mgreen\u{1b}[0m",
        r"bell \u{7} and \u{1b}]8;;http://evil.example\u{1b}\link\u{1b}]8;;\u{1b}\ \u{d}\u{a}    ~ fake | row |",
        r"\u{1b}[2J\u{1b}[H cleared",
        r"hidden \u{1b}[8m text \u{202e} txt.exe",
    ] {
        assert!(
            run.stdout.contains(shown),
            "missing {shown:?} in:\n{}",
            run.stdout
        );
    }
    // The forged line stays part of the description it came from.
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("~ fake")),
        "{}",
        run.stdout
    );
}

#[test]
fn markdown_plan_cannot_be_hijacked_by_names_and_descriptions() {
    let repo = hostile_repo();
    let run = orgform(repo.path(), &["plan", "--format", "markdown"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let md = &run.stdout;
    assert_eq!(raw_controls(&run), Vec::<char>::new(), "{md}");
    assert!(md.starts_with("<!-- orgform-plan -->\n"), "{md}");
    let rendered = parse(md);
    assert_eq!(
        rendered.html,
        ours(&rendered.html),
        "only orgform's own HTML"
    );
    assert_eq!(rendered.links_and_images, 0, "{md}");
    for text in &rendered.text {
        for mention in ["@everyone", "@here"] {
            assert!(!text.contains(mention), "{mention} would ping: {text:?}");
        }
    }
    // Every row keeps its cells: `|` and newlines in names did not split one. The
    // summary (head, counts), then groups (head, 2 rows), tags, folders (1 row each) and
    // access (2 rows).
    assert_eq!(
        rendered.table_rows,
        [7, 7, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
        "{md}"
    );
    // The names are all there to read, as code or as text.
    for name in [
        "</details><img src=x> @everyone ``x` |y \\|z",
        "`t|1`",
        "project:P <img src=x> @everyone/user:x@example.com",
    ] {
        assert!(
            rendered.visible.iter().any(|t| t.contains(name)),
            "{name:?} not shown:\n{md}"
        );
    }
    insta::assert_snapshot!("hostile_names_markdown", md);
}

#[test]
fn validate_escapes_quoted_lines_paths_and_annotations() {
    let repo = TempRepo::new();
    // Raw ESC and BEL bytes in the file (YAML accepts them in quoted scalars) and in its
    // name; the duplicate's diagnostic quotes the line, after the escapes.
    repo.write(
        "org/\x1b[31mred.yaml",
        "groups:\n  - { name: dup, description: x }\n  - { description: \"\x1b[2J\x1b]8;;http://e\x07\", name: dup }\n",
    );
    let text = orgform(repo.path(), &["validate", "--color", "never"]);
    assert_eq!(text.code, 1);
    assert_eq!(raw_controls(&text), Vec::<char>::new(), "{}", text.stderr);
    assert!(
        text.stderr.contains(r" --> org/\u{1b}[31mred.yaml:3:48"),
        "{}",
        text.stderr
    );
    let lines: Vec<&str> = text.stderr.lines().collect();
    let quoted = lines
        .iter()
        .position(|l| l.starts_with("3 | "))
        .unwrap_or_else(|| panic!("no quoted line in:\n{}", text.stderr));
    assert_eq!(
        lines[quoted],
        r#"3 |   - { description: "\u{1b}[2J\u{1b}]8;;http://e\u{7}", name: dup }"#
    );
    // The caret still points at the name, past the escapes.
    let caret = lines[quoted + 1]
        .find('^')
        .unwrap_or_else(|| panic!("no caret in:\n{}", text.stderr));
    assert_eq!(&lines[quoted][caret..], "dup }");

    let github = orgform(repo.path(), &["validate", "--format", "github"]);
    assert_eq!(github.code, 1);
    assert_eq!(
        raw_controls(&github),
        Vec::<char>::new(),
        "{}",
        github.stdout
    );
    assert!(
        github.stdout.starts_with(
            r"::error file=org/\u{1b}[31mred.yaml,line=3,col=48,title=group-name-duplicate::group `dup` is declared more than once; first declared at org/\u{1b}[31mred.yaml:2:13"
        ),
        "{}",
        github.stdout
    );
}

/// A PR with 3,000 new users: the comment is capped, and what reviewers must see
/// (role cuts, admin grants, deletions, blocked items) is still in it, before the details.
#[test]
fn capped_comment_still_names_every_role_cut_and_admin_grant() {
    let repo = TempRepo::new();
    repo.write(
        "state.yaml",
        "
users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: root@example.com, role: admin, type: internal }
  - { email: demoted@example.com, role: member, type: internal }
  - { email: granted@example.com, role: member, type: internal }
  - { email: promoted@example.com, role: member, type: internal }
  - { email: leaving@example.com, role: member, type: internal }
groups:
  - { name: old-team, description: disbanded }
projects:
  - name: Sensitive
    hash: 11111111-2222-4333-8444-000000000001
    access:
      - { user: admin@example.com, role: admin }
      - { user: demoted@example.com, role: admin }
  - name: Other
    hash: 11111111-2222-4333-8444-000000000002
    access:
      - { user: admin@example.com, role: admin }
      - { user: leaving@example.com, role: annotator }
",
    );
    let mut manifests = String::from(
        "users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: demoted@example.com, role: member, type: internal }
  - { email: granted@example.com, role: member, type: internal }
  - { email: promoted@example.com, role: admin, type: internal }
  - { email: leaving@example.com, role: member, type: internal }
",
    );
    for i in 0..3_000 {
        manifests.push_str(&format!(
            "  - {{ email: newhire{i:04}@example.com, role: member, type: internal }}\n"
        ));
    }
    manifests.push_str(
        "projects:
  - name: Sensitive
    access:
      - { user: admin@example.com, role: admin }
      - { user: demoted@example.com, role: viewer }
  - name: Other
    access:
      - { user: admin@example.com, role: admin }
      - { user: granted@example.com, role: admin }
",
    );
    repo.write("org/main.yaml", manifests);
    let init = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    assert_eq!(init.code, 0, "{}", init.stderr);

    let plan = orgform(repo.path(), &["plan", "--format", "json"]).json();
    let md = orgform(repo.path(), &["plan", "--format", "markdown"]).stdout;
    assert!(
        md.len() <= orgform::render::MAX_MARKDOWN_BYTES,
        "{} bytes",
        md.len()
    );
    assert!(
        md.contains("_Plan truncated to fit a comment:"),
        "the cap was hit"
    );
    let callouts = md.split("<details>").next().unwrap_or_default();

    // Each of these by name, in the callouts.
    for (what, line) in [
        (
            "demotion",
            "> - `~` `access` **project:Sensitive/user:demoted@example.com** — update: role: admin → viewer",
        ),
        (
            "admin grant",
            "> - `+` `access` **project:Other/user:granted@example.com** — create: role: admin",
        ),
        (
            "org admin promotion",
            "> - `~` `user` **promoted@example.com** — update: role: member → admin",
        ),
        (
            "access removal",
            "> - `-` `access` **project:Other/user:leaving@example.com** — delete: role: annotator",
        ),
        ("group deletion", "> - `-` `group` **old-team** — delete"),
        (
            "blocked admin removal",
            "> - `user` **root@example.com** — `admin-unremovable`",
        ),
    ] {
        assert!(
            callouts.contains(line),
            "{what} not called out ({line:?}):\n{callouts}"
        );
    }
    // And every destructive, disruptive and blocked item of the plan, whatever it is.
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    let must_show = changes
        .iter()
        .filter(|c| c["danger"] != "safe")
        .chain(plan["blocked"].as_array().into_iter().flatten());
    let mut shown = 0;
    for item in must_show {
        let key = item["key"].as_str().unwrap_or_default();
        assert!(
            callouts.contains(&format!("**{key}**")),
            "{key} not called out:\n{callouts}"
        );
        shown += 1;
    }
    assert_eq!(
        shown, 4,
        "a demotion, a removal, a deletion, a blocked item"
    );
    assert_eq!(
        changes.len(),
        3_000 + 5,
        "3,000 invitations plus the 5 changes above"
    );
}

/// What a markdown renderer (CommonMark + GitHub's extensions) makes of the comment.
struct Rendered {
    html: Vec<String>,
    links_and_images: usize,
    /// The text of each paragraph, list item or table cell, code left out (GitHub pings
    /// and links only outside code).
    text: Vec<String>,
    /// The same with code spans in: what a reviewer reads.
    visible: Vec<String>,
    /// Cells per table row.
    table_rows: Vec<usize>,
}

fn parse(md: &str) -> Rendered {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM;
    let mut r = Rendered {
        html: Vec::new(),
        links_and_images: 0,
        text: Vec::new(),
        visible: Vec::new(),
        table_rows: Vec::new(),
    };
    let (mut text, mut visible) = (String::new(), String::new());
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => r.html.push(h.trim().to_string()),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => r.links_and_images += 1,
            Event::InlineMath(m) | Event::DisplayMath(m) => text.push_str(&format!("${m}$")),
            Event::Text(t) => {
                text.push_str(&t);
                visible.push_str(&t);
            }
            Event::Code(c) => {
                text.push('\u{fffc}');
                visible.push_str(&c);
            }
            Event::Start(Tag::TableHead | Tag::TableRow) => r.table_rows.push(0),
            Event::End(
                end @ (TagEnd::TableCell | TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_)),
            ) => {
                if end == TagEnd::TableCell
                    && let Some(cells) = r.table_rows.last_mut()
                {
                    *cells += 1;
                }
                r.text.push(std::mem::take(&mut text));
                r.visible.push(std::mem::take(&mut visible));
            }
            _ => {}
        }
    }
    r
}

/// The HTML orgform writes itself: the sticky marker and the `<details>` wrappers.
fn ours(html: &[String]) -> Vec<String> {
    html.iter()
        .filter(|h| {
            *h == "<!-- orgform-plan -->"
                || *h == "</details>"
                || (h.starts_with("<details><summary><b>")
                    && h.ends_with(")</summary>")
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || " <>/()".contains(c)))
        })
        .cloned()
        .collect()
}
