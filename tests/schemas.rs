//! The committed JSON Schemas match the Rust types, accept every example, and reject
//! known-bad manifests.

use std::path::Path;

use orgform::diagnostic::Sources;
use orgform::yaml;

use crate::util::repo_root;

fn yaml_to_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read example");
    yaml_text_to_json(&text)
}

fn yaml_text_to_json(text: &str) -> serde_json::Value {
    let mut sources = Sources::default();
    let file = sources.add("x.yaml", text.to_string());
    let node = yaml::parse(text, file)
        .expect("valid YAML")
        .expect("a document");
    yaml::from_node(&node).expect("YAML converts to JSON")
}

fn committed(name: &str) -> serde_json::Value {
    let path = repo_root().join("schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `orgform schema --write schemas`",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("committed schema is JSON")
}

#[test]
fn committed_schemas_match_the_code() {
    for (name, generated) in orgform::schema::all() {
        let path = repo_root().join("schemas").join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            on_disk,
            orgform::schema::to_file_text(&generated),
            "schemas/{name} is stale: run `cargo run -- schema --write schemas` and commit it"
        );
    }
}

#[test]
fn every_example_validates_against_the_schemas() {
    let manifest =
        jsonschema::validator_for(&committed("manifest.schema.json")).expect("schema compiles");
    let config =
        jsonschema::validator_for(&committed("config.schema.json")).expect("schema compiles");
    let mut checked = 0;
    for example in std::fs::read_dir(repo_root().join("examples")).expect("examples dir") {
        let example = example.expect("entry").path();
        // examples/gitops holds workflows to copy into an org repository, not an org.
        if !example.join("orgform.yaml").exists() {
            continue;
        }
        let cfg = yaml_to_json(&example.join("orgform.yaml"));
        let errors: Vec<String> = config.iter_errors(&cfg).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{}/orgform.yaml: {errors:?}",
            example.display()
        );
        let mut files: Vec<_> = std::fs::read_dir(example.join("org"))
            .expect("org dir")
            .map(|e| e.expect("entry").path())
            .collect();
        if example.join("sandbox.yaml").exists() {
            files.push(example.join("sandbox.yaml"));
        }
        for file in files {
            let doc = yaml_to_json(&file);
            let errors: Vec<String> = manifest.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
            checked += 1;
        }
    }
    assert!(checked >= 7, "checked {checked} files");
}

#[test]
fn the_schema_rejects_invalid_manifests() {
    let manifest =
        jsonschema::validator_for(&committed("manifest.schema.json")).expect("schema compiles");
    let invalid = [
        "userz: []",
        "users: [{ email: a@b.co }]",
        "users: [{ email: a@b.co, role: boss }]",
        "users: [{ email: a@b.co, role: member, type: contractor }]",
        "users: [{ email: a@b.co, role: member, team: x }]",
        "groups: [{ description: no name }]",
        "groups: [{ name: g, members: a@b.co }]",
        "metadata_schema: { k: colour }",
        "metadata_schema: { k: { enum: sunny } }",
        "metadata_schema: { k: { embedding: big } }",
        "metadata_schema: { k: { embedding: -1 } }",
        "folders: [{ name: a, folders: [{ description: nameless }] }]",
        "projects: [{ name: p, access: [{ user: a@b.co, role: owner }] }]",
        "datasets: [{ name: d, access: [{ group: g, role: annotator }] }]",
        "organization: { email_domains: acme.com }",
    ];
    for text in invalid {
        let doc = yaml_text_to_json(text);
        assert!(!manifest.is_valid(&doc), "schema accepted: {text}");
    }
    let valid = "users: [{ email: a@b.co, role: member }]\nmetadata_schema: { k: { enum: [a] }, e: { embedding: 3 }, s: string }";
    assert!(manifest.is_valid(&yaml_text_to_json(valid)));
}
