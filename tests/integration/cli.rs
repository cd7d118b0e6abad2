//! The `reko-promote` binary: exit codes, output formats, the committed schema, and the YAML
//! files of the repository.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::root;

fn reko() -> Command {
    let mut cmd = Command::cargo_bin("reko-promote").expect("binary is built");
    cmd.current_dir(root()).env_remove("REKO_PROMOTE_FORMAT");
    cmd
}

#[test]
fn validate_passes_on_the_repository_manifests_and_examples() {
    reko()
        .args(["validate"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: 2 files valid"));
    reko().args(["validate", "examples"]).assert().success();
}

#[test]
fn validate_fails_with_exit_1_and_every_finding_in_text_and_json() {
    reko()
        .args([
            "validate",
            "tests/manifests/common",
            "tests/manifests/bad/tags",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("invalid: 5 errors in 2 files"))
        .stdout(predicate::str::contains("\u{1b}[").not());
    let output = reko()
        .args([
            "validate",
            "--format",
            "json",
            "tests/manifests/common",
            "tests/manifests/bad/tags",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["formatVersion"], 1);
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 5);
    let first = &report["findings"][0];
    assert_eq!(first["code"], "too-many-tags");
    assert_eq!(first["line"], 8);
    assert_eq!(first["path"], "promotions[tags].defaults.tags");
}

#[test]
fn the_committed_schemas_are_current() {
    for (kind, file) in [
        ("manifest", "schemas/manifest.schema.json"),
        ("plan", "schemas/plan.schema.json"),
        ("apply-report", "schemas/apply-report.schema.json"),
        ("sandbox-seed", "schemas/sandbox-seed.schema.json"),
    ] {
        let output = reko().args(["schema", kind]).output().unwrap();
        assert!(output.status.success());
        let committed = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(
            committed == String::from_utf8(output.stdout).unwrap(),
            "{file} is stale: run `cargo run -- schema {kind} > {file}`"
        );
    }
}

#[test]
fn every_field_of_the_schema_has_a_description() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/manifest.schema.json")).unwrap(),
    )
    .unwrap();
    let mut missing = Vec::new();
    fn walk(node: &serde_json::Value, at: String, missing: &mut Vec<String>) {
        if let Some(properties) = node.get("properties").and_then(|p| p.as_object()) {
            for (name, property) in properties {
                if name != "kind" && property.get("description").is_none() {
                    missing.push(format!("{at}.{name}"));
                }
                walk(property, format!("{at}.{name}"), missing);
            }
        }
        for key in ["definitions", "$defs"] {
            if let Some(defs) = node.get(key).and_then(|d| d.as_object()) {
                for (name, def) in defs {
                    walk(def, name.clone(), missing);
                }
            }
        }
        if let Some(variants) = node.get("oneOf").and_then(|v| v.as_array()) {
            for variant in variants {
                walk(variant, at.clone(), missing);
            }
        }
    }
    walk(&schema, "#".into(), &mut missing);
    assert!(
        missing.is_empty(),
        "fields without description: {missing:?}"
    );
}

#[test]
fn every_yaml_file_in_manifests_and_examples_names_its_schema() {
    let mut files = Vec::new();
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    walk(&root().join("manifests"), &mut files);
    walk(&root().join("examples"), &mut files);
    assert!(files.len() >= 5);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{} does not start with the yaml-language-server schema line",
            file.display()
        );
    }
}

#[test]
fn help_and_version_work() {
    reko()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("validate"));
    reko()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_demo_runs_the_whole_loop_and_converges() {
    let output = reko()
        .args(["demo", "--copy-duration-ms", "500"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for step in 1..=7 {
        assert!(
            stdout.contains(&format!("Step {step}.")),
            "step {step} missing:\n{stdout}"
        );
    }
    // First plan: three copies; apply makes them; the second plan has nothing to do; the pull
    // request's plan shows the new promotion's copies, as markdown.
    assert!(stdout.contains("Plan: 3 to copy, 0 unchanged"), "{stdout}");
    assert!(
        stdout.contains("copied                         3"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to copy, 3 unchanged, 0 in progress, 0 conflicts, 0 blocked."),
        "{stdout}"
    );
    // The pull request's promotion: v1 to staging; prod waits for staging (a chain); v2 is
    // held everywhere by its F1 gate.
    assert!(
        stdout.contains(
            "**Plan: 1 to copy, 3 unchanged, 0 in progress, 0 conflicts, 0 blocked, 3 held"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("gate: F1 0.81 < 0.85"), "{stdout}");
    assert!(stdout.contains("waiting for `staging`"), "{stdout}");
    assert!(stdout.contains("```mermaid"), "{stdout}");
    // The serving switch: staging starts v1, then v2 starts before v1 is stopped.
    let switch = &stdout[stdout.find("Step 7.").unwrap()..];
    assert!(switch.contains("1 to start, 1 to stop"), "{switch}");
    assert!(
        switch.contains("only once `defect-detector-v2` is RUNNING"),
        "{switch}"
    );
    let (started, stopped) = (
        switch.find("start started").unwrap(),
        switch.find("stop stopped").unwrap(),
    );
    assert!(started < stopped, "{switch}");
    assert!(
        !stdout.contains("sandboxCiSecretKey"),
        "the demo never prints a secret"
    );
}
