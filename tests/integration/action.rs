//! The GitHub Action and its install script: `action.yml` follows the composite-action metadata
//! syntax (actionlint, run by .ci/run, checks workflows but not action metadata), and
//! `scripts/action/install.sh`, run against a local directory laid out like a GitHub release and
//! served from 127.0.0.1, installs a matching archive and refuses a tampered one.
//!
//! The release is made here from a small fake binary (a shell script printing its version),
//! archived for every target the release workflow builds (tar.gz, zip for Windows), with a `SHA256SUMS` written the
//! way `sha256sum` writes it. The Action's GitHub steps (cache, artifacts, API) need GitHub and
//! are not run here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::process::Output;

use axum::http::{StatusCode, Uri};
use serde_yaml::Value;
use sha2::{Digest, Sha256};

use super::support::root;

const VERSION: &str = "9.8.7";

/// The Windows target, archived as zip (the script picks it on Windows or when told to).
const WINDOWS_TARGET: &str = "x86_64-pc-windows-msvc";

/// The targets of .github/workflows/release.yml archived as tar.gz.
const UNIX_TARGETS: [&str; 6] = [
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

fn yaml_file(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn keys(mapping: &Value, what: &str) -> BTreeSet<String> {
    mapping
        .as_mapping()
        .unwrap_or_else(|| panic!("{what} is not a mapping"))
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

fn assert_keys_within(mapping: &Value, allowed: &[&str], what: &str) {
    for key in keys(mapping, what) {
        assert!(
            allowed.contains(&key.as_str()),
            "{what}: `{key}` is not in the action metadata syntax (allowed: {allowed:?})"
        );
    }
}

/// Every string in `value`, recursively.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Sequence(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn the_action_metadata_follows_the_composite_syntax() {
    let action = yaml_file("action.yml");
    assert_keys_within(
        &action,
        &[
            "name",
            "author",
            "description",
            "inputs",
            "outputs",
            "runs",
            "branding",
        ],
        "action.yml",
    );
    assert!(action["name"].is_string() && action["description"].is_string());

    let inputs = keys(&action["inputs"], "inputs");
    for required in [
        "version",
        "command",
        "manifests",
        "comment",
        "apply-saved-plan",
        "github-token",
    ] {
        assert!(inputs.contains(required), "input `{required}` is missing");
    }
    for input in &inputs {
        let spec = &action["inputs"][input.as_str()];
        let what = format!("inputs.{input}");
        assert_keys_within(
            spec,
            &["description", "required", "default", "deprecationMessage"],
            &what,
        );
        assert!(spec["description"].is_string(), "{what} has no description");
    }

    let runs = &action["runs"];
    assert_eq!(runs["using"].as_str(), Some("composite"));
    let steps = runs["steps"].as_sequence().expect("runs.steps is a list");
    let mut ids = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        let what = format!("runs.steps[{i}]");
        assert_keys_within(
            step,
            &[
                "id",
                "if",
                "name",
                "uses",
                "with",
                "run",
                "shell",
                "env",
                "working-directory",
                "continue-on-error",
            ],
            &what,
        );
        let (uses, run) = (step.get("uses").is_some(), step.get("run").is_some());
        assert!(uses != run, "{what} needs exactly one of `uses` and `run`");
        if run {
            // Composite run steps must name their shell.
            assert!(step["shell"].is_string(), "{what} runs without `shell`");
            assert!(step.get("with").is_none(), "{what}: `with` without `uses`");
        } else {
            assert!(step.get("shell").is_none(), "{what}: `shell` with `uses`");
        }
        if let Some(id) = step.get("id") {
            let id = id.as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "{what}: duplicate id `{id}`");
        }
    }

    // Every `inputs.X` names an input and every `steps.X` a step: a typo is an empty string at
    // run time, not an error, on GitHub.
    let mut texts = Vec::new();
    strings(&action["runs"], &mut texts);
    strings(&action["outputs"], &mut texts);
    let input_ref = regex::Regex::new(r"\binputs\.([A-Za-z0-9_-]+)").unwrap();
    let step_ref = regex::Regex::new(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs").unwrap();
    for text in &texts {
        for reference in input_ref.captures_iter(text) {
            assert!(
                inputs.contains(&reference[1]),
                "`inputs.{}` is not an input: {text}",
                &reference[1]
            );
        }
        for reference in step_ref.captures_iter(text) {
            assert!(
                ids.contains(&reference[1]),
                "`steps.{}` is not a step id: {text}",
                &reference[1]
            );
        }
    }
    for output in keys(&action["outputs"], "outputs") {
        let spec = &action["outputs"][output.as_str()];
        assert_keys_within(
            spec,
            &["description", "value"],
            &format!("outputs.{output}"),
        );
        assert!(
            spec["value"].is_string(),
            "outputs.{output}: composite outputs need `value`"
        );
    }

    // The files the steps run exist.
    let action_path = regex::Regex::new(r#"\$GITHUB_ACTION_PATH/([^"\s]+)"#).unwrap();
    let mut scripts = 0;
    for text in &texts {
        for path in action_path.captures_iter(text) {
            assert!(root().join(&path[1]).is_file(), "{} is missing", &path[1]);
            scripts += 1;
        }
    }
    assert!(scripts > 0, "action.yml runs no script of the repository");
}

/// A directory laid out like a GitHub release of [`VERSION`]: one archive per target holding
/// `reko-promote-<target>-v<version>/reko-promote`, and `SHA256SUMS` over them.
struct FakeRelease {
    dir: tempfile::TempDir,
}

impl FakeRelease {
    fn new() -> Self {
        let release = FakeRelease {
            dir: tempfile::tempdir().unwrap(),
        };
        let mut sums = String::new();
        for target in UNIX_TARGETS.into_iter().chain([WINDOWS_TARGET]) {
            let archive = release.write_archive(target, &format!("reko-promote {VERSION}"));
            let digest = Sha256::digest(std::fs::read(release.dir.path().join(&archive)).unwrap());
            sums.push_str(&format!("{}  {archive}\n", hex::encode(digest)));
        }
        std::fs::write(release.dir.path().join("SHA256SUMS"), sums).unwrap();
        release
    }

    /// Writes the archive for `target` whose binary prints `says`; returns its file name.
    fn write_archive(&self, target: &str, says: &str) -> String {
        let package = format!("reko-promote-{target}-v{VERSION}");
        let staging = tempfile::tempdir().unwrap();
        std::fs::create_dir(staging.path().join(&package)).unwrap();
        let windows = target == WINDOWS_TARGET;
        let name = if windows {
            "reko-promote.exe"
        } else {
            "reko-promote"
        };
        let binary = staging.path().join(&package).join(name);
        // A script stands in for the binary: it runs here whatever the target.
        std::fs::write(&binary, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (archive, status) = if windows {
            let archive = format!("{package}.zip");
            let status = std::process::Command::new("python3")
                .args(["-m", "zipfile", "-c"])
                .arg(self.dir.path().join(&archive))
                .arg(&package)
                .current_dir(staging.path())
                .status();
            (archive, status)
        } else {
            let archive = format!("{package}.tar.gz");
            let status = std::process::Command::new("tar")
                .arg("-czf")
                .arg(self.dir.path().join(&archive))
                .arg("-C")
                .arg(staging.path())
                .arg(&package)
                .status();
            (archive, status)
        };
        assert!(status.unwrap().success(), "archiving {package} failed");
        archive
    }

    /// Replaces every archive by one whose binary says something else, leaving SHA256SUMS.
    fn tamper(&self) {
        for target in UNIX_TARGETS.into_iter().chain([WINDOWS_TARGET]) {
            self.write_archive(target, "tampered");
        }
    }
}

/// Serves `dir` at `http://ADDR/download/v<VERSION>/` (GitHub's release URL shape), 404 elsewhere.
async fn serve(dir: PathBuf) -> SocketAddr {
    let prefix = format!("/download/v{VERSION}/");
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let (dir, prefix) = (dir.clone(), prefix.clone());
        async move {
            let Some(name) = uri.path().strip_prefix(&prefix) else {
                return Err(StatusCode::NOT_FOUND);
            };
            let name = Path::new(name);
            if !name.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(StatusCode::NOT_FOUND);
            }
            tokio::fs::read(dir.join(name))
                .await
                .map_err(|_| StatusCode::NOT_FOUND)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Runs the install script for [`VERSION`] from `addr` into `dest`, the target detected.
async fn install(addr: SocketAddr, dest: &Path, extra: &[&str]) -> Output {
    let mut command = tokio::process::Command::new("bash");
    command
        .arg(root().join("scripts/action/install.sh"))
        .args(["--version", VERSION, "--base-url"])
        .arg(format!("http://{addr}/download/v{VERSION}"))
        .arg("--dest")
        .arg(dest)
        .args(extra);
    for (name, _) in std::env::vars() {
        if name.starts_with("REKO_PROMOTE_") {
            command.env_remove(name);
        }
    }
    command.output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_script_installs_a_matching_archive() {
    let release = FakeRelease::new();
    let addr = serve(release.dir.path().to_path_buf()).await;
    let dest = tempfile::tempdir().unwrap();
    let output = install(addr, dest.path(), &[]).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let binary = dest.path().join("reko-promote");
    assert_eq!(
        stdout.lines().last(),
        Some(binary.to_str().unwrap()),
        "{stdout}"
    );
    assert!(stderr.contains("Verified SHA-256"), "{stderr}");
    let ran = std::process::Command::new(&binary).output().unwrap();
    assert_eq!(text(&ran.stdout).trim(), format!("reko-promote {VERSION}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_script_unpacks_the_windows_zip() {
    let release = FakeRelease::new();
    let addr = serve(release.dir.path().to_path_buf()).await;
    let dest = tempfile::tempdir().unwrap();
    let output = install(addr, dest.path(), &["--target", WINDOWS_TARGET]).await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let ran = std::process::Command::new(dest.path().join("reko-promote.exe"))
        .output()
        .unwrap();
    assert_eq!(text(&ran.stdout).trim(), format!("reko-promote {VERSION}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_script_refuses_a_tampered_archive() {
    let release = FakeRelease::new();
    release.tamper();
    let addr = serve(release.dir.path().to_path_buf()).await;
    let dest = tempfile::tempdir().unwrap();
    let output = install(addr, dest.path(), &[]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("SHA-256 checksum mismatch for reko-promote-")
            && stderr.contains("refusing to install"),
        "{stderr}"
    );
    assert!(
        !dest.path().join("reko-promote").exists(),
        "a refused binary was installed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_script_refuses_an_archive_the_sums_do_not_list() {
    let release = FakeRelease::new();
    // An archive that exists but that SHA256SUMS does not vouch for.
    release.write_archive("riscv64gc-unknown-linux-gnu", "unlisted");
    let addr = serve(release.dir.path().to_path_buf()).await;
    let dest = tempfile::tempdir().unwrap();
    let output = install(
        addr,
        dest.path(),
        &["--target", "riscv64gc-unknown-linux-gnu"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("SHA256SUMS lists no reko-promote-riscv64gc-unknown-linux-gnu-v9.8.7.tar.gz"),
        "{stderr}"
    );
    assert!(!dest.path().join("reko-promote").exists());
}

#[test]
fn release_targets_match_the_workflow_and_binstall() {
    // The archive names the script, the workflow and `cargo binstall` use are one scheme.
    let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let listed: BTreeMap<&str, bool> = UNIX_TARGETS
        .iter()
        .chain(&[WINDOWS_TARGET])
        .map(|t| (*t, workflow.contains(&format!("target: {t},"))))
        .collect();
    assert!(listed.values().all(|&found| found), "{listed:?}");
    assert!(workflow.contains(
        "PACKAGE: reko-promote-${{ matrix.target }}-v${{ needs.version.outputs.version }}"
    ));
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(cargo.contains(
        r#"pkg-url = "{ repo }/releases/download/v{ version }/{ name }-{ target }-v{ version }{ archive-suffix }""#
    ));
    assert!(
        cargo.contains(r#"bin-dir = "{ name }-{ target }-v{ version }/{ bin }{ binary-ext }""#)
    );
}
