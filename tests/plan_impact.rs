//! Plans name who is affected: deleted groups, removed or replaced users, deleted tags
//! (text, markdown and JSON, the JSON checked against schemas/plan.schema.json).

use crate::util::{TempRepo, orgform, repo_root};

/// A live org where one group, one user and one tag go, and one user is replaced.
const STATE: &str = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
  - { email: olga@acme.com, role: member, type: internal }
  - { email: frances@acme.com, role: member, type: external }
groups:
  - name: vendors
    managers: [ada@acme.com]
    members: [bob@acme.com, olga@acme.com, frances@acme.com]
  - name: reviewers
    managers: [olga@acme.com]
    members: [frances@acme.com]
project_tags:
  - { name: deprecated }
  - { name: medical }
projects:
  - name: Lung CT
    hash: lung-1
    tags: [deprecated, medical]
    access:
      - { user: ada@acme.com, role: admin }
      - { group: vendors, role: annotator }
      - { user: olga@acme.com, role: reviewer }
      - { user: frances@acme.com, role: viewer }
  - name: Lung CT
    hash: lung-2
    tags: [deprecated]
    access:
      - { user: ada@acme.com, role: admin }
  - name: Brain MRI
    access:
      - { user: ada@acme.com, role: admin }
      - { user: frances@acme.com, role: annotator }
datasets:
  - name: ct-scans
    access:
      - { user: ada@acme.com, role: admin }
      - { group: vendors, role: user }
";

/// Olga and the vendors group go; frances becomes internal (replaced): she stays in
/// reviewers and keeps her access (declared, or restored where access is unmanaged),
/// but leaves vendors; the deprecated tag goes.
const MANIFESTS: &str = "
users:
  - { email: ada@acme.com, role: admin }
  - { email: bob@acme.com, role: member }
  - { email: frances@acme.com, role: member }
groups:
  - name: reviewers
    managers: []
    members: [frances@acme.com]
project_tags:
  - { name: medical }
projects:
  - name: Brain MRI
    access:
      - { user: ada@acme.com, role: admin }
      - { user: frances@acme.com, role: annotator }
organization:
  email_domains: [acme.com]
";

const CONFIG: &str = "manifests: org/\npolicy:\n  prune: { project_tags: true }\n";

fn repo(state: &str, manifests: &str) -> TempRepo {
    let repo = TempRepo::new();
    repo.write("orgform.yaml", CONFIG)
        .write("sandbox.yaml", state)
        .write("org/main.yaml", manifests);
    repo
}

fn change<'a>(plan: &'a serde_json::Value, kind: &str, key: &str) -> &'a serde_json::Value {
    plan["changes"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["kind"] == kind && c["key"] == key))
        .unwrap_or_else(|| panic!("no {kind} {key} in {plan:#}"))
}

#[test]
fn plans_name_who_is_affected() {
    let repo = repo(STATE, MANIFESTS);
    let text = orgform(repo.path(), &["plan"]);
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    insta::assert_snapshot!("impact_text", text.stdout);
    let markdown = orgform(repo.path(), &["plan", "--format", "markdown"]);
    insta::assert_snapshot!("impact_markdown", markdown.stdout);

    let plan = orgform(repo.path(), &["plan", "--format", "json"]).json();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/plan.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let group = &change(&plan, "group", "vendors")["impact"];
    assert_eq!(
        group["members"]["items"],
        serde_json::json!(["bob@acme.com", "frances@acme.com", "olga@acme.com"])
    );
    assert_eq!(
        group["managers"]["items"],
        serde_json::json!(["ada@acme.com"])
    );
    let revoked: Vec<(String, String)> = group["access"]["items"]
        .as_array()
        .expect("access")
        .iter()
        .map(|a| {
            (
                format!(
                    "{} {}",
                    a["resource_kind"].as_str().unwrap_or_default(),
                    a["title"].as_str().unwrap_or_default()
                ),
                a["role"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // Titles shared by two projects carry the hash.
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    assert!(
        revoked[0].0.starts_with("project Lung CT (") && revoked[0].1 == "annotator",
        "{revoked:?}"
    );
    assert_eq!(
        revoked[1],
        ("dataset ct-scans".to_string(), "user".to_string())
    );

    let olga = &change(&plan, "user", "olga@acme.com")["impact"];
    assert_eq!(
        olga["groups"]["items"],
        serde_json::json!(["reviewers (manager)", "vendors"])
    );
    assert_eq!(olga["access"]["total"], 1);
    assert_eq!(olga["access"]["items"][0]["role"], "reviewer");

    // Replaced: she leaves what is not declared back (vendors, Lung CT), keeps the rest.
    let frances = &change(&plan, "user", "frances@acme.com");
    assert_eq!(frances["action"], "replace");
    assert_eq!(
        frances["impact"]["groups"]["items"],
        serde_json::json!(["vendors"])
    );
    // Her access to the Lung CT whose access is not managed is restored, not lost.
    assert!(frances["impact"].get("access").is_none(), "{frances:#}");

    let tag = &change(&plan, "project_tag", "deprecated")["impact"];
    assert_eq!(tag["projects"]["total"], 2);
    // Only deletions and replacements carry an impact.
    for c in plan["changes"].as_array().expect("changes") {
        let expected = matches!(
            (c["kind"].as_str(), c["action"].as_str()),
            (Some("group" | "project_tag"), Some("delete"))
                | (Some("user"), Some("delete" | "replace"))
        );
        assert_eq!(c.get("impact").is_some(), expected, "{c:#}");
    }
}

#[test]
fn long_impact_lists_are_capped_with_a_count() {
    let members: Vec<String> = (0..30).map(|i| format!("u{i:02}@acme.com")).collect();
    let users: String = members
        .iter()
        .map(|e| format!("  - {{ email: {e}, role: member, type: internal }}\n"))
        .collect();
    let state = format!(
        "users:\n  - {{ email: ada@acme.com, role: admin, type: internal }}\n{users}groups:\n  - name: crowd\n    members: [{}]\n",
        members.join(", ")
    );
    let manifests = format!(
        "users:\n  - {{ email: ada@acme.com, role: admin }}\n{}organization:\n  email_domains: [acme.com]\n",
        users.replace(", type: internal", "")
    );
    let repo = repo(&state, &manifests);
    let plan = orgform(repo.path(), &["plan", "--format", "json"]).json();
    let crowd = &change(&plan, "group", "crowd")["impact"]["members"];
    assert_eq!(crowd["total"], 30);
    assert_eq!(crowd["items"].as_array().map(Vec::len), Some(20));
    let text = orgform(repo.path(), &["plan"]).stdout;
    assert!(
        text.contains(
            "        members (30): u00@acme.com, u01@acme.com, u02@acme.com, u03@acme.com, u04@acme.com and 25 more\n"
        ),
        "{text}"
    );
}
