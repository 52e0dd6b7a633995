//! The synthetic org generator (`examples/synth_org.rs`, `orgform::synth`): at scale s
//! its repository validates, its live org loads into a sandbox, and a plan has the
//! differences it made, about the percentage asked of every kind.

use std::collections::BTreeMap;

use orgform::synth::{self, Options, Sizes};

use crate::util::orgform;

#[test]
fn a_synthetic_org_at_scale_s_plans_to_the_differences_it_was_made_with() {
    let pct = 10.0;
    let synth = synth::generate(&Options {
        sizes: Sizes::named("s").expect("scale s"),
        changes_pct: pct,
        seed: 42,
    });
    let dir = tempfile::tempdir().expect("temp dir");
    synth.write(dir.path()).expect("write the repository");

    let validate = orgform(dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "validate:\n{}", validate.stderr);
    assert!(
        validate.stderr.contains("valid (0 warnings"),
        "{}",
        validate.stderr
    );

    // The first plan creates the sandbox org from sandbox.yaml: the state loads.
    let plan = orgform(dir.path(), &["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "plan:\n{}", plan.stderr);
    assert!(plan.stderr.contains("from sandbox.yaml"), "{}", plan.stderr);
    let plan = plan.json();
    assert_eq!(
        plan["blocked"].as_array().map(Vec::len),
        Some(0),
        "{plan:#}"
    );

    let mut planned: BTreeMap<(String, String), usize> = BTreeMap::new();
    for change in plan["changes"].as_array().expect("changes") {
        let key = (
            change["kind"].as_str().unwrap_or_default().to_string(),
            change["action"].as_str().unwrap_or_default().to_string(),
        );
        *planned.entry(key).or_default() += 1;
    }
    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut share: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for e in &synth.expected {
        let action = serde_json::to_value(e.action).expect("action");
        let key = (
            e.kind.to_string(),
            action.as_str().unwrap_or_default().to_string(),
        );
        *expected.entry(key).or_default() += e.count;
        let kind = share.entry(e.kind.to_string()).or_default();
        kind.0 += e.count;
        kind.1 = e.of;
    }
    // Exactly the differences made: each is one change, nothing cascades.
    assert_eq!(planned, expected);

    // Every kind differs, by about `pct` of its objects (users twice: joiners and
    // leavers, and org roles). Kinds of under 10 objects differ by one.
    assert_eq!(share.len(), orgform::plan::Kind::ALL.len(), "{share:?}");
    for (kind, (count, of)) in share {
        let want = if kind == "user" { 2.0 * pct } else { pct };
        let at_least_one = (of as f64 * want / 100.0).round().max(1.0);
        let got = count as f64;
        assert!(
            (got - at_least_one).abs() <= (at_least_one * 0.1).max(1.0),
            "{kind}: {count} of {of} differ, expected about {want}%"
        );
    }
}
