//! The `encord` provider on a synthetic org at scale s (`orgform::synth`) served by
//! `orgform sandbox serve`: a no-change plan reads whole pages the fewest times the
//! reading rules allow (computed from the org) and writes nothing; a rate-limited
//! server slows the read down without failing it; a terminal shows the read's progress.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use orgform::model::{Org, Principal};
use orgform::synth::{self, Options, Sizes};

use crate::support::serve::{Served, Server, rate_limited, stats};

fn synth_s(seed: u64) -> synth::Synth {
    synth::generate(&Options {
        sizes: Sizes::named("s").expect("scale s"),
        changes_pct: 5.0,
        seed,
    })
}

/// Pages of a listing of `n` items at `size` a page: an empty listing is one page.
fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

/// The calls per endpoint a plan needs to read `live` whole, `size` items a page, when
/// the manifests declare the access of every resource and the tags of every project:
/// each org-wide listing, each group's members, the users and groups of every project
/// and dataset, the groups of every ontology, and tag assignments by project or by
/// tag, whichever is fewer listings (encord-api.md §5; the provider's reading rules).
fn fewest_calls(live: &Org, size: usize) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut add = |endpoint: &str, calls: u64| {
        *out.entry(format!("GET {endpoint}")).or_insert(0) += calls;
    };
    add("organisation/users", pages(live.users.len(), size));
    add(
        "user/current-organisation/groups",
        pages(live.groups.len(), size),
    );
    add(
        "organisation/organisation-tags",
        pages(live.project_tags.len(), size),
    );
    add("organisation/client-metadata-schema-v2", 1);
    add("storage/folders", pages(live.folders.len(), size));
    add("datasets/list", 1); // not a page (§5.7)
    add("ontologies", pages(live.ontologies.len(), size));
    let mut projects = pages(live.projects.len(), size);
    for g in live.groups.values() {
        add(
            "organisation/groups/{group}/users",
            pages(g.members.len(), size),
        );
    }
    let split = |access: Vec<&Principal>| {
        let users = access
            .iter()
            .filter(|p| matches!(p, Principal::User(_)))
            .count();
        (users, access.len() - users)
    };
    for p in live.projects.values() {
        let (users, groups) = split(p.access.keys().collect());
        add("projects/{project}/users", pages(users, size));
        add("projects/{project}/groups", pages(groups, size));
    }
    for d in live.datasets.values() {
        let (users, groups) = split(d.access.keys().collect());
        add("datasets/{dataset}/users", pages(users, size));
        add("datasets/{dataset}/groups", pages(groups, size));
    }
    for o in live.ontologies.values() {
        let (_, groups) = split(o.access.keys().collect());
        add("ontologies/{ontology}/groups", pages(groups, size));
    }
    if live.projects.len() <= live.project_tags.len() {
        for p in live.projects.values() {
            add("projects/{project}/tags", pages(p.tags.len(), size));
        }
    } else {
        for tag in live.project_tags.keys() {
            let tagged = live.projects.values().filter(|p| p.tags.contains(tag));
            projects += pages(tagged.count(), size);
        }
    }
    add("projects", projects);
    out
}

#[test]
fn a_no_change_plan_at_scale_s_reads_whole_pages_the_fewest_times_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let served = Served::new(tmp.path(), &synth_s(3));
    served.export_live();
    // Small pages, so that listings span several and a partial page would show.
    let size = 7;
    let server = Server::start(&served.server_dir, &["--page-size-max", "7"]);
    served.configure(&server.url);
    let plan = served.client(&["plan", "--stats", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "no changes:\n{}\n{}",
        plan.stdout, plan.stderr
    );

    let live = served.live();
    assert!(
        live.groups.values().any(|g| g.members.len() > size)
            && live.users.len() > 3 * size
            && live.projects.len() > size,
        "listings span several pages"
    );
    let (calls, writes, per) = stats(&plan.stderr);
    assert_eq!(writes, 0);
    let fewest = fewest_calls(&live, size);
    assert_eq!(per, fewest, "calls per endpoint\n{}", plan.stderr);
    assert_eq!(calls, fewest.values().sum::<u64>());
    assert_eq!(server.writes(), BTreeMap::new());
}

#[test]
fn a_rate_limited_server_slows_the_read_down_without_failing_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let served = Served::new(tmp.path(), &synth_s(4));
    let calm = Server::start(&served.server_dir, &[]);
    served.configure(&calm.url);
    let expected = served.client(&["plan", "--format", "json"]);
    assert_eq!(expected.code, 0, "{}", expected.stderr);
    drop(calm);

    // 138 calls at 20 a second (bursts of 20) take 6 s; 16 in flight at 20 ms each
    // would take 0.2 s, so the read must be slowed down, even on a busy machine.
    let limited = Server::start(
        &served.server_dir,
        &["--rate-limit", "20/s", "--latency", "20"],
    );
    served.configure(&limited.url);
    let plan = served.client(&["plan", "--format", "json", "--stats", "--concurrency", "16"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(plan.json()["changes"], expected.json()["changes"]);
    assert!(rate_limited(&plan.stderr) > 0, "{}", plan.stderr);
    let lowest: usize = plan
        .stderr
        .split_once("429s cut the calls in flight to ")
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("the cut is reported:\n{}", plan.stderr));
    assert!(lowest < 16, "{}", plan.stderr);
}

#[test]
fn a_terminal_shows_what_a_long_read_is_doing_and_ci_does_not() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let served = Served::new(tmp.path(), &synth_s(5));
    let server = Server::start(&served.server_dir, &["--latency", "20"]);
    served.configure(&server.url);

    let on_a_terminal = |args: &str| {
        let command = format!(
            "{} -C {} {args}",
            env!("CARGO_BIN_EXE_orgform"),
            served.client_dir.display()
        );
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("TERM", "xterm")
            .env(
                "ENCORD_SSH_KEY_FILE",
                served.root.join("admin.key").as_os_str(),
            )
            .env("XDG_STATE_HOME", served.root.join("state").as_os_str())
            .env_remove("ENCORD_SSH_KEY")
            .env_remove("ENCORD_DOMAIN")
            .stdin(Stdio::null())
            .output()
            .expect("script(1) from util-linux runs");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let shown = on_a_terminal("plan");
    assert!(
        shown.contains(&format!("Reading encord {}", server.url)),
        "{shown}"
    );
    assert!(shown.contains("pages in all"), "{shown}");
    assert!(shown.contains("Plan:"), "{shown}");
    let quiet = on_a_terminal("-q plan");
    assert!(!quiet.contains("pages in all"), "-q: {quiet}");
    let ci = served.client(&["plan"]);
    assert!(!ci.stderr.contains("pages in all"), "{}", ci.stderr);
}
