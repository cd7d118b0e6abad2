//! Helpers shared by the integration tests: paths, loading, and dumps on failure.

use std::path::{Path, PathBuf};

use reko_promote::manifest::{self, Loaded};

/// The package root (tests run there, but say so explicitly).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Paths relative to the package root, as a user would type them (messages show them as given).
pub fn rel(path: &str) -> PathBuf {
    PathBuf::from(path)
}

/// Loads `paths` with the working directory at the package root.
pub fn load(paths: &[PathBuf]) -> Loaded {
    std::env::set_current_dir(root()).expect("package root exists");
    manifest::load(paths)
}

/// The text rendering of a report, without colour codes.
pub fn render(loaded: &Loaded) -> String {
    let text = reko_promote::render::findings::render(&loaded.report);
    anstream::adapter::strip_str(&text).to_string()
}

/// Panics with the whole report when `condition` is false.
pub fn check(condition: bool, what: &str, loaded: &Loaded) {
    if !condition {
        panic!(
            "{what}\n--- report ---\n{}\n--- json ---\n{}",
            render(loaded),
            serde_json::to_string_pretty(&loaded.report).unwrap_or_default()
        );
    }
}

/// The sub-directories of `dir`, sorted.
pub fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("case directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// Loads manifests that must be valid.
pub fn desired_from(paths: &[PathBuf]) -> reko_promote::desired::DesiredState {
    let loaded = load(paths);
    check(loaded.report.valid, "the manifests are valid", &loaded);
    loaded.desired.expect("valid manifests resolve")
}

/// Writes `files` (name, text) into a new temporary directory of manifests.
pub fn manifests(files: &[(&str, String)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write manifest");
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// The context reko-promote runs with in CI: the sandbox's `ci` identity, against `sb`.
pub async fn ci_context(
    sb: &reko_promote::sandbox::SandboxHandle,
    rate_limit: u32,
    attempts: u32,
) -> reko_promote::aws::AwsContext {
    use reko_promote::sandbox::seed;
    let config = crate::sandbox::helpers::sdk_config(
        sb,
        seed::CI_ACCESS_KEY_ID,
        seed::CI_SECRET_ACCESS_KEY,
        None,
        seed::DEFAULT_REGION,
        attempts,
    )
    .await;
    reko_promote::aws::AwsContext::from_config(
        config,
        &reko_promote::aws::AwsOptions {
            parallelism: 16,
            rate_limit,
            max_attempts: attempts,
            ..Default::default()
        },
    )
}

/// The context of the benchmark organisations (`org`): their CI identity against `sb`, limits
/// that never hold a test up, and `threads` lanes at most (`None`: one per core).
pub async fn org_context(
    sb: &reko_promote::sandbox::SandboxHandle,
    threads: Option<usize>,
) -> reko_promote::aws::AwsContext {
    use crate::org;
    let config =
        crate::sandbox::helpers::sdk_config(sb, org::CI_KEY, org::CI_SECRET, None, org::REGION, 3)
            .await;
    reko_promote::aws::AwsContext::from_config(
        config,
        &reko_promote::aws::AwsOptions {
            parallelism: 64,
            rate_limit: 100_000,
            max_attempts: 3,
            threads,
            ..Default::default()
        },
    )
}

/// The `reko-promote` binary as CI runs it: a clean environment (no profile, no config files,
/// no user RUST_LOG), and with a sandbox, its endpoint and the CI identity's keys.
pub fn reko_in_ci(sb: Option<&reko_promote::sandbox::SandboxHandle>) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("reko-promote").unwrap();
    cmd.current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_REGION", reko_promote::sandbox::seed::DEFAULT_REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .timeout(std::time::Duration::from_secs(90));
    if let Some(sb) = sb {
        cmd.env("AWS_ENDPOINT_URL", sb.endpoint())
            .env(
                "AWS_ACCESS_KEY_ID",
                reko_promote::sandbox::seed::CI_ACCESS_KEY_ID,
            )
            .env(
                "AWS_SECRET_ACCESS_KEY",
                reko_promote::sandbox::seed::CI_SECRET_ACCESS_KEY,
            );
    }
    cmd
}

/// Runs the CLI as CI would against `sb` with extra `env` (blocking this worker while the
/// sandbox serves on the other), echoing the command and its output for a failing test: the exit
/// code and stdout.
pub fn run_in_ci(
    sb: &reko_promote::sandbox::SandboxHandle,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String) {
    let mut cmd = reko_in_ci(Some(sb));
    cmd.envs(env.iter().copied());
    let output = tokio::task::block_in_place(|| cmd.args(args).output().unwrap());
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!(
        "$ reko-promote {} → {:?}\n{stdout}{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), stdout)
}
