//! The GitOps workflow end to end: the CI recipes under `examples/ci/` parse and have the
//! structure they promise (triggers, OIDC, one apply at a time), and the reko-promote command
//! lines they run actually work against an in-process sandbox with the CI identity (validate 0,
//! plan 2 before apply, apply 0, plan 0 after); `iam` prints valid least-privilege documents
//! with real action names only; `policy` prints what apply writes; `import` of copies made by
//! apply yields manifests whose first plan has nothing to do; `completions` covers the commands.

use std::path::{Path, PathBuf};

use reko_promote::sandbox::SandboxHandle;
use reko_promote::sandbox::seed::{self, DEFAULT_REGION};
use serde_yaml::Value;

use crate::sandbox::helpers;
use crate::support::{reko_in_ci as reko, root};

const GITHUB: &str = "examples/ci/github/reko-promote.yml";
const GITLAB: &str = "examples/ci/gitlab/.gitlab-ci.yml";

fn workflow(path: &str) -> (String, Value) {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let value: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    (text, value)
}

/// Every string in a YAML value (scripts live in `run:` and `script:` strings and lists).
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| strings(v, out)),
        Value::Tagged(tagged) => strings(&tagged.value, out),
        _ => {}
    }
}

/// The `reko-promote ...` command lines of `job`, as argument vectors: shell redirections cut
/// off, quotes dropped, `$MANIFESTS` and `$PLAN_FILE` substituted.
fn commands(job: &Value, plan_file: &Path) -> Vec<Vec<String>> {
    let mut texts = Vec::new();
    strings(job, &mut texts);
    let mut commands = Vec::new();
    for line in texts.iter().flat_map(|t| t.lines()) {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("reko-promote ") else {
            continue;
        };
        let rest = rest
            .split(['>', '|'])
            .next()
            .expect("split yields one part");
        let args: Vec<String> = rest
            .split_whitespace()
            .map(|w| {
                let w = w.trim_matches('"');
                match w {
                    "$MANIFESTS" | "${MANIFESTS}" => "manifests".to_string(),
                    "$PLAN_FILE" | "${PLAN_FILE}" => plan_file.display().to_string(),
                    other => {
                        assert!(!other.contains('$'), "unknown placeholder in {line}");
                        other.to_string()
                    }
                }
            })
            .collect();
        commands.push(args);
    }
    commands
}

fn run(sb: &SandboxHandle, args: &[String]) -> i32 {
    let output = reko(Some(sb)).args(args).output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    eprintln!(
        "$ reko-promote {} → {code}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    code
}

fn subcommand(args: &[String]) -> &str {
    args.first().map(String::as_str).unwrap_or("")
}

/// Runs the PR job's commands (validate 0, plan 2), the apply job's (validate 0, apply 0), and
/// the PR job's again (plan 0).
async fn run_recipe(pr_job: &Value, apply_job: &Value) {
    let sb = helpers::start().await;
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    let pr = commands(pr_job, &plan_file);
    let apply = commands(apply_job, &plan_file);
    assert_eq!(
        pr.iter().map(|c| subcommand(c)).collect::<Vec<_>>(),
        ["validate", "plan"]
    );
    assert!(pr[1].contains(&"--detailed-exitcode".to_string()));
    assert!(pr[1].contains(&"--out".to_string()));
    assert_eq!(
        apply.iter().map(|c| subcommand(c)).collect::<Vec<_>>(),
        ["validate", "apply"]
    );
    assert!(apply[1].contains(&"--auto-approve".to_string()));
    // The CLI runs blocking on this worker while the sandbox serves on the other.
    tokio::task::block_in_place(|| {
        assert_eq!(run(&sb, &pr[0]), 0, "validate");
        assert_eq!(run(&sb, &pr[1]), 2, "plan before apply: changes pending");
        assert!(plan_file.exists(), "the plan was saved");
        for command in &apply {
            assert_eq!(run(&sb, command), 0, "{}", subcommand(command));
        }
        assert_eq!(run(&sb, &pr[1]), 0, "plan after apply: nothing to do");
    });
}

#[test]
fn the_ci_recipes_parse_and_have_the_promised_structure() {
    let (text, gh) = workflow(GITHUB);
    assert!(text.starts_with(
        "# yaml-language-server: $schema=https://json.schemastore.org/github-workflow.json\n"
    ));
    assert!(gh["on"]["pull_request"].is_mapping());
    assert_eq!(gh["on"]["push"]["branches"][0], "main");
    // Soak times end between pushes: a scheduled apply promotes what became eligible.
    assert!(gh["on"]["schedule"][0]["cron"].is_string());
    assert!(
        gh["jobs"]["apply"]["if"]
            .as_str()
            .unwrap()
            .contains("github.event_name == 'schedule'")
    );
    for job in ["plan", "apply"] {
        assert_eq!(gh["jobs"][job]["permissions"]["id-token"], "write", "{job}");
        let steps = gh["jobs"][job]["steps"].as_sequence().unwrap();
        assert!(
            steps.iter().any(|s| s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials"))
                && s["with"]["role-to-assume"].is_string()),
            "{job} gets credentials by OIDC"
        );
    }
    assert!(!text.contains("aws-access-key-id"), "no long-lived keys");
    assert_eq!(
        gh["jobs"]["apply"]["concurrency"]["group"],
        "reko-promote-apply"
    );
    assert_eq!(
        gh["jobs"]["apply"]["concurrency"]["cancel-in-progress"],
        false
    );
    // Least privilege: the plan job (pull requests run branch code) obtains only the read-only
    // plan role, holds only the permissions it uses, and runs a pinned release, not the
    // request's code; only main's apply job names the apply role.
    let plan_job = &gh["jobs"]["plan"];
    let plan_text = serde_yaml::to_string(plan_job).unwrap();
    assert!(
        !plan_text.contains("REKO_PROMOTE_CI_ROLE_ARN"),
        "no apply role in the plan job"
    );
    assert!(plan_text.contains("vars.REKO_PROMOTE_CI_PLAN_ROLE_ARN"));
    assert_eq!(
        plan_job["permissions"],
        serde_yaml::from_str::<Value>("{contents: read, id-token: write, pull-requests: write}")
            .unwrap()
    );
    assert_eq!(
        gh["permissions"],
        serde_yaml::from_str::<Value>("{contents: read}").unwrap()
    );
    let apply_job = &gh["jobs"]["apply"];
    for (job, command) in [(plan_job, "plan"), (apply_job, "apply")] {
        let with = &action_step(job)["with"];
        assert_eq!(with["command"], command);
        assert_eq!(with["manifests"], "manifests");
    }
    assert!(!text.contains("cargo "), "no job builds reko-promote");
    // A merge applies the reviewed plan; the hourly run, with no pull request, a fresh one.
    assert_eq!(
        action_step(apply_job)["with"]["apply-saved-plan"],
        "${{ github.event_name == 'push' }}"
    );
    assert_eq!(
        apply_job["permissions"]["actions"], "read",
        "finds the artifact"
    );
    assert!(
        apply_job["if"]
            .as_str()
            .unwrap()
            .contains("github.ref == 'refs/heads/main'")
    );
    assert!(
        serde_yaml::to_string(apply_job)
            .unwrap()
            .contains("vars.REKO_PROMOTE_CI_ROLE_ARN")
    );
    // The comment, the job summary and the artifact are the Action's.
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(action.contains("<!-- reko-promote-plan -->"));
    assert!(action.contains("updateComment"), "the comment is updated");
    assert!(action.contains("$GITHUB_STEP_SUMMARY"));
    assert!(action.contains("actions/upload-artifact"));

    let (text, gl) = workflow(GITLAB);
    assert!(text.starts_with("# yaml-language-server: $schema=https://gitlab.com/gitlab-org/gitlab/-/raw/master/app/assets/javascripts/editor/schema/ci.json\n"));
    assert_eq!(
        gl[".aws"]["id_tokens"]["AWS_ID_TOKEN"]["aud"],
        "sts.amazonaws.com"
    );
    assert!(gl["variables"]["AWS_WEB_IDENTITY_TOKEN_FILE"].is_string());
    // The role is chosen per job: the plan job the read-only plan role, only the apply job
    // (protected default branch) the apply role.
    assert!(gl["variables"]["AWS_ROLE_ARN"].is_null());
    assert_eq!(
        gl["plan"]["variables"]["AWS_ROLE_ARN"],
        "$REKO_PROMOTE_CI_PLAN_ROLE_ARN"
    );
    assert_eq!(
        gl["apply"]["variables"]["AWS_ROLE_ARN"],
        "$REKO_PROMOTE_CI_ROLE_ARN"
    );
    let schedule_rule = gl["apply"]["rules"][1]["if"].as_str().unwrap();
    assert!(
        schedule_rule.contains("$CI_PIPELINE_SOURCE == \"schedule\"")
            && schedule_rule.contains("$CI_COMMIT_REF_PROTECTED == \"true\""),
        "{schedule_rule}"
    );
    let apply_rule = gl["apply"]["rules"][0]["if"].as_str().unwrap();
    assert!(apply_rule.contains("$CI_DEFAULT_BRANCH"), "{apply_rule}");
    assert!(
        apply_rule.contains("$CI_COMMIT_REF_PROTECTED == \"true\""),
        "{apply_rule}"
    );
    for (name, job) in gl.as_mapping().unwrap() {
        if name.as_str() != Some("apply") {
            let job = serde_yaml::to_string(job).unwrap();
            assert!(
                !job.contains("REKO_PROMOTE_CI_ROLE_ARN"),
                "{name:?} names the apply role"
            );
        }
    }
    // Every job runs in the pinned release's image, never a build of the checkout.
    let image = &gl["default"]["image"];
    assert_eq!(
        image["name"], "ghcr.io/reko-promote/reko-promote:$REKO_PROMOTE_VERSION",
        "gitlab jobs run the released image"
    );
    assert_eq!(image["entrypoint"][0], "", "GitLab runs the job's shell");
    let recipe = std::fs::read_to_string(root().join(GITLAB)).unwrap();
    assert!(!recipe.contains("cargo "), "no job builds reko-promote");
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    for tool in ["curl", "jq"] {
        assert!(
            dockerfile.contains(tool),
            "the image has {tool} for the MR note"
        );
    }
    assert_eq!(gl["apply"]["resource_group"], "reko-promote-apply");
    assert_eq!(gl["plan"]["allow_failure"]["exit_codes"][0], 2);
    assert!(
        gl["plan"]["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("merge_request_event")
    );
    assert!(text.contains("<!-- reko-promote-plan -->"));
    assert!(text.contains("-X PUT"), "the note is updated");

    // The manifest loader leaves both alone: `validate examples/` keeps passing.
    reko(None).args(["validate", "examples"]).assert().success();
}

/// The one step of a GitHub `job` that runs the reko-promote Action, pinned to a release: the
/// action's ref and its `version` input name the same release, never `latest`.
fn action_step(job: &Value) -> &Value {
    let steps = job["steps"].as_sequence().expect("the job has steps");
    let ours: Vec<&Value> = steps
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("reko-promote/reko-promote@"))
        })
        .collect();
    assert_eq!(ours.len(), 1, "one reko-promote step: {job:?}");
    let step = ours[0];
    let reference = step["uses"].as_str().unwrap();
    let version = step["with"]["version"]
        .as_str()
        .expect("a pinned version input");
    assert_eq!(
        reference,
        format!("reko-promote/reko-promote@v{version}"),
        "the action's ref and the binary's version agree"
    );
    assert!(
        version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok()),
        "pinned: {version}"
    );
    step
}

/// docs/ci.md's apply-role trust policy: exactly the default branch, never a wildcard.
#[test]
fn the_documented_apply_trust_is_restricted_to_the_default_branch() {
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).unwrap();
    let block = doc
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ci.md shows the apply role's trust policy");
    let trust: serde_json::Value = serde_json::from_str(block).unwrap();
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let equals = statement["Condition"]["StringEquals"].as_object().unwrap();
    assert_eq!(
        equals["token.actions.githubusercontent.com:sub"],
        "repo:ORG/REPO:ref:refs/heads/main"
    );
    assert!(
        statement["Condition"].get("StringLike").is_none(),
        "no wildcard"
    );
    assert!(doc.contains("project_path:GROUP/PROJECT:ref_type:branch:ref:main"));
}

/// What one run of the Action's `run` step left: its exit status, what it wrote to
/// `$GITHUB_OUTPUT` and to the job summary, and its working directory (`$OUT`).
struct ActionRun {
    code: i32,
    outputs: std::collections::BTreeMap<String, String>,
    summary: String,
    out: PathBuf,
}

/// Runs the Action's own `reko-promote <command>` step (its shell script from action.yml, not a
/// copy) with `job`'s `with:` inputs (the Action's defaults for the rest) on a GitHub `event`,
/// against the sandbox, with the built reko-promote first on PATH (what the install steps put
/// there). `saved_plan` plays the artifact download: the directory holding the plan job's files.
fn run_action_step(
    sb: &SandboxHandle,
    job: &Value,
    event: &str,
    saved_plan: Option<&Path>,
    work: &Path,
) -> ActionRun {
    let action: Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "run")
        .expect("the Action has a step with id `run`");
    let with = &action_step(job)["with"];
    let input = |name: &str| -> String {
        let value = match &with[name] {
            Value::Null => action["inputs"][name]["default"].clone(),
            given => given.clone(),
        };
        match value {
            Value::String(s) if s == "${{ github.event_name == 'push' }}" => {
                (event == "push").to_string()
            }
            Value::String(s) => {
                assert!(
                    !s.contains("${{"),
                    "unknown expression in input {name}: {s}"
                );
                s
            }
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => panic!("input {name}: {other:?}"),
        }
    };
    let out = work.join(format!("{event}-{}", input("command")));
    std::fs::create_dir_all(&out).unwrap();
    let github_output = out.join("github-output");
    let summary = out.join("step-summary");
    let binary = assert_cmd::cargo::cargo_bin("reko-promote");
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = std::process::Command::new("bash");
    command
        .arg("-e")
        .arg("-c")
        .arg(step["run"].as_str().unwrap())
        .current_dir(root())
        .env_clear()
        .env("PATH", path)
        .env("AWS_REGION", DEFAULT_REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ENDPOINT_URL", sb.endpoint())
        .env("AWS_ACCESS_KEY_ID", seed::CI_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", seed::CI_SECRET_ACCESS_KEY)
        .env("GITHUB_OUTPUT", &github_output)
        .env("GITHUB_STEP_SUMMARY", &summary);
    for (name, value) in step["env"].as_mapping().unwrap() {
        let (name, value) = (name.as_str().unwrap(), value.as_str().unwrap());
        let resolved = match name {
            "OUT" => out.display().to_string(),
            // The download step runs only for apply with apply-saved-plan.
            "SAVED_PLAN_DIR" => {
                let saved = input("command") == "apply" && input("apply-saved-plan") == "true";
                match (saved, saved_plan) {
                    (true, Some(dir)) => dir.display().to_string(),
                    (true, None) => panic!("apply-saved-plan with no saved plan"),
                    (false, _) => String::new(),
                }
            }
            _ => {
                let inner = value
                    .strip_prefix("${{ inputs.")
                    .and_then(|v| v.strip_suffix(" }}"))
                    .unwrap_or_else(|| panic!("unknown expression for {name}: {value}"));
                input(inner)
            }
        };
        command.env(name, resolved);
    }
    let output = command.output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    eprintln!(
        "$ action {event} {} → {code}\n{}{}",
        input("command"),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let outputs = std::fs::read_to_string(&github_output)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ActionRun {
        code,
        outputs,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        out,
    }
}

/// The GitHub recipe end to end through the Action's run step: the pull request's plan (exit 2,
/// summary and comment written, plan saved), the merge's `apply --plan` of exactly that saved
/// plan, the next pull request's plan (nothing to do), and the hourly run's fresh apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_github_recipe_runs_the_action_against_the_sandbox() {
    let (_, gh) = workflow(GITHUB);
    let (plan_job, apply_job) = (&gh["jobs"]["plan"], &gh["jobs"]["apply"]);
    let sb = helpers::start().await;
    let work = tempfile::tempdir().unwrap();
    tokio::task::block_in_place(|| {
        let plan = run_action_step(&sb, plan_job, "pull_request", None, work.path());
        assert_eq!(plan.code, 0, "the step itself succeeds on pending changes");
        assert_eq!(plan.outputs["exitcode"], "2", "changes pending");
        let saved = PathBuf::from(&plan.outputs["plan-file"]);
        assert!(saved.exists(), "the plan was saved");
        assert!(plan.summary.contains("to copy"), "{}", plan.summary);
        let comment = std::fs::read_to_string(plan.out.join("comment.md")).unwrap();
        assert!(comment.len() <= 60_000 && !comment.is_empty());
        let writes_before = sb.calls_of("CopyProjectVersion");
        assert_eq!(writes_before, 0);

        let merge = run_action_step(&sb, apply_job, "push", Some(&plan.out), work.path());
        assert_eq!(merge.code, 0, "the merge applies the saved plan");
        assert_eq!(merge.outputs["exitcode"], "0");
        assert_eq!(merge.outputs["plan-file"], saved.display().to_string());
        assert!(sb.calls_of("CopyProjectVersion") > 0, "copies were made");

        let again = run_action_step(&sb, plan_job, "pull_request", None, work.path());
        assert_eq!(
            again.outputs["exitcode"], "0",
            "plan after apply: nothing to do"
        );

        let copies = sb.calls_of("CopyProjectVersion");
        let hourly = run_action_step(&sb, apply_job, "schedule", None, work.path());
        assert_eq!(hourly.code, 0, "the hourly run applies a fresh plan");
        assert!(!hourly.outputs.contains_key("plan-file"), "no saved plan");
        assert_eq!(
            sb.calls_of("CopyProjectVersion"),
            copies,
            "nothing copied twice"
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitlab_recipe_commands_run_against_the_sandbox() {
    let (_, gl) = workflow(GITLAB);
    // The MR pipeline runs the validate and plan jobs; the default branch validate and apply.
    let pr = vec![gl["validate"].clone(), gl["plan"].clone()];
    let apply = vec![gl["validate"].clone(), gl["apply"].clone()];
    run_recipe(&Value::Sequence(pr), &Value::Sequence(apply)).await;
}

/// Action names from AWS's Service Authorization Reference (Amazon Rekognition, AWS STS,
/// Amazon S3, AWS KMS): the ones reko-promote may ever need, all real.
const KNOWN_ACTIONS: &[&str] = &[
    "rekognition:CopyProjectVersion",
    "rekognition:CreateProjectVersion",
    "rekognition:DescribeProjects",
    "rekognition:DescribeProjectVersions",
    "rekognition:ListProjectPolicies",
    "rekognition:PutProjectPolicy",
    "rekognition:DeleteProjectPolicy",
    "rekognition:TagResource",
    "rekognition:ListTagsForResource",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "sts:TagSession",
    "s3:PutObject",
    "s3:GetObject",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
];

fn check_document(doc: &serde_json::Value, what: &str) -> Vec<String> {
    assert_eq!(doc["Version"], "2012-10-17", "{what}");
    let statements = doc["Statement"].as_array().expect("Statement is a list");
    assert!(!statements.is_empty(), "{what}");
    let mut actions = Vec::new();
    for s in statements {
        assert_eq!(s["Effect"], "Allow", "{what}");
        let list = match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => a.iter().map(|a| a.as_str().unwrap().into()).collect(),
            other => panic!("{what}: Action {other}"),
        };
        for action in &list {
            assert!(KNOWN_ACTIONS.contains(&action.as_str()), "{what}: {action}");
        }
        if let Some(principal) = s.get("Principal") {
            assert_ne!(principal, "*", "{what}");
            assert_ne!(principal["AWS"], "*", "{what}");
        }
        // `*` only where IAM allows nothing narrower.
        if s["Resource"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "*"))
        {
            assert_eq!(list, ["rekognition:DescribeProjects"], "{what}");
        }
        actions.extend(list);
    }
    actions
}

#[test]
fn iam_prints_valid_least_privilege_documents() {
    let ci = "arn:aws:iam::444444444444:role/ci";
    let ci_plan = "arn:aws:iam::444444444444:role/ci-plan";
    let output = reko(None)
        .args([
            "iam",
            "--ci-principal",
            ci,
            "--ci-plan-principal",
            ci_plan,
            "manifests",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("\"Principal\": \"*\""));
    let roles = report["roles"].as_array().unwrap();
    let on_side = |n: &str, side: &str| {
        roles
            .iter()
            .find(|r| r["name"] == n && r["side"] == side)
            .unwrap()
    };
    let by_name = |n: &str| on_side(n, "apply");
    for role in roles {
        let name = role["name"].as_str().unwrap();
        let actions = check_document(&role["policy"], name);
        let principal = match role["side"].as_str().unwrap() {
            "apply" => ci,
            "plan" => ci_plan,
            other => panic!("unknown side {other}"),
        };
        if let Some(trust) = role.get("trustPolicy") {
            assert_eq!(check_document(trust, name), ["sts:AssumeRole"]);
            assert_eq!(trust["Statement"][0]["Principal"]["AWS"], principal);
        }
        // The plan side never writes: its account roles only describe and list, its CI
        // principal only assumes.
        if role["side"] == "plan" && role["name"] != "ci-plan" {
            assert!(!actions.is_empty(), "{name}");
            for action in &actions {
                assert!(
                    [
                        "rekognition:DescribeProjects",
                        "rekognition:DescribeProjectVersions",
                        "rekognition:ListProjectPolicies"
                    ]
                    .contains(&action.as_str()),
                    "plan role {name} has {action}"
                );
            }
        }
    }
    // The plan principal assumes only the plan roles (here the suggested names: the repository
    // manifests declare no planRoleArn, and a note says to).
    let plan_ci = on_side("ci-plan", "plan");
    assert_eq!(
        check_document(&plan_ci["policy"], "ci-plan"),
        ["sts:AssumeRole"]
    );
    assert_eq!(
        plan_ci["policy"]["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:iam::111111111111:role/reko-promote-plan",
            "arn:aws:iam::222222222222:role/reko-promote-plan",
            "arn:aws:iam::333333333333:role/reko-promote-plan"
        ])
    );
    assert!(
        plan_ci["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("declares no planRoleArn"))
    );
    // CI assumes exactly the declared roles.
    assert_eq!(
        by_name("ci")["policy"]["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:iam::111111111111:role/reko-promote",
            "arn:aws:iam::222222222222:role/reko-promote",
            "arn:aws:iam::333333333333:role/reko-promote"
        ])
    );
    // The external id is required where declared, and only there.
    assert_eq!(
        by_name("prod")["trustPolicy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "reko-promote-prod"
    );
    assert!(by_name("staging")["trustPolicy"]["Statement"][0]["Condition"].is_null());
    // The source writes policies (managePolicy) but copies nothing; destinations copy.
    let ml = check_document(&by_name("ml")["policy"], "ml");
    assert!(ml.contains(&"rekognition:PutProjectPolicy".to_string()));
    assert!(!ml.contains(&"rekognition:CopyProjectVersion".to_string()));
    let prod = check_document(&by_name("prod")["policy"], "prod");
    for action in [
        "rekognition:CopyProjectVersion",
        "kms:CreateGrant",
        "s3:PutObject",
    ] {
        assert!(prod.contains(&action.to_string()), "{action}");
    }
    let staging = check_document(&by_name("staging")["policy"], "staging");
    assert!(
        !staging.iter().any(|a| a.starts_with("kms:")),
        "no key, no KMS"
    );
    assert!(!staging.contains(&"rekognition:PutProjectPolicy".to_string()));
    let statements = by_name("prod")["policy"]["Statement"].as_array().unwrap();
    let s3 = statements
        .iter()
        .find(|s| s["Sid"] == "WriteCopyOutput")
        .unwrap();
    assert_eq!(
        s3["Resource"],
        serde_json::json!(["arn:aws:s3:::acme-prod-models/rekognition/*"])
    );
    let kms = statements
        .iter()
        .find(|s| s["Sid"].as_str().unwrap().starts_with("Kms"))
        .unwrap();
    assert_eq!(
        kms["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
        "alias/models"
    );

    // Terraform and CloudFormation carry the same documents.
    let tf = reko(None)
        .args([
            "iam",
            "--format",
            "terraform",
            "--ci-principal",
            ci,
            "--ci-plan-principal",
            ci_plan,
        ])
        .output()
        .unwrap();
    let tf = String::from_utf8(tf.stdout).unwrap();
    assert_eq!(tf.matches("resource \"aws_iam_role\"").count(), 6);
    assert!(tf.contains("assume_role_policy = jsonencode("));
    assert!(tf.contains("role = \"ci\""));
    assert!(tf.contains("role = \"ci-plan\""));
    assert!(tf.contains("resource \"aws_iam_role\" \"reko_promote_prod_plan\""));
    let cfn = reko(None)
        .args([
            "iam",
            "--format",
            "cloudformation",
            "--ci-principal",
            ci,
            "--ci-plan-principal",
            ci_plan,
        ])
        .output()
        .unwrap();
    let cfn = String::from_utf8(cfn.stdout).unwrap();
    let templates: Vec<Value> = cfn
        .split("---\n")
        .filter(|t| !t.trim().is_empty())
        .map(|t| serde_yaml::from_str(t).unwrap())
        .collect();
    assert_eq!(templates.len(), 8);
    let roles: usize = templates
        .iter()
        .flat_map(|t| t["Resources"].as_mapping().unwrap().values())
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .count();
    assert_eq!(roles, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_prints_what_apply_writes() {
    let sb = helpers::start().await;
    let handle: &SandboxHandle = &sb;
    let printed = tokio::task::block_in_place(|| {
        let output = reko(Some(handle))
            .args(["policy", "--format", "json", "manifests"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let text = reko(Some(handle))
            .args(["policy", "manifests"])
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains("reko-promote-managed-1"), "{text}");
        reko(Some(handle))
            .args(["apply", "--auto-approve", "manifests"])
            .assert()
            .success();
        printed
    });
    let policies = printed["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "one packed document: {printed}");
    let state = sb.state();
    let written = &state.rekognition[seed::ML_ACCOUNT][DEFAULT_REGION].projects
        [seed::DEFECT_DETECTOR]
        .policies;
    for p in policies {
        assert_eq!(p["managed"], true);
        let name = p["policyName"].as_str().unwrap();
        let live: serde_json::Value = serde_json::from_str(&written[name].document).unwrap();
        assert_eq!(live, p["document"], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_applied_copies_plans_nothing_to_do() {
    let sb = helpers::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("imported");
    tokio::task::block_in_place(|| {
        let sb: &SandboxHandle = &sb;
        reko(Some(sb))
            .args(["apply", "--auto-approve", "manifests"])
            .assert()
            .success();
        for account in ["staging", "prod"] {
            let output = reko(Some(sb))
                .args([
                    "import",
                    "--account",
                    account,
                    "--project",
                    "defect-detector",
                ])
                .args(["--format", "json", "--out"])
                .arg(&out)
                .arg("manifests/accounts.yaml")
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let expected = if account == "staging" { 2 } else { 1 };
            assert_eq!(
                summary["versions"].as_array().unwrap().len(),
                expected,
                "{summary}"
            );
        }
        // The source project's versions were trained in place: nothing to import, each noted.
        let output = reko(Some(sb))
            .args(["import", "--account", "ml", "--project", "defect-detector"])
            .args(["--format", "json", "--out"])
            .arg(&out)
            .arg("manifests/accounts.yaml")
            .output()
            .unwrap();
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(summary["versions"], serde_json::json!([]), "{summary}");
        let skipped = summary["skipped"].as_array().unwrap();
        assert!(!skipped.is_empty());
        assert!(
            skipped
                .iter()
                .all(|s| s.as_str().unwrap().contains("trained in place")),
            "{summary}"
        );
        for entry in std::fs::read_dir(&out).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(
                text.starts_with(&reko_promote::import::modeline(&out)),
                "{text}"
            );
        }
        let output = reko(Some(sb))
            .args(["plan", "--format", "json", "--detailed-exitcode"])
            .arg("manifests/accounts.yaml")
            .arg(&out)
            .output()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            let files: Vec<String> = std::fs::read_dir(&out)
                .unwrap()
                .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
                .collect();
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&output.stderr),
                files.join("\n")
            )
        });
        assert_eq!(output.status.code(), Some(0), "{plan}");
        assert_eq!(plan["summary"]["copy"], 0, "{plan}");
        assert_eq!(plan["summary"]["unchanged"], 3, "{plan}");
        assert_eq!(plan["summary"]["drift"], 0, "{plan}");
    });
}

#[test]
fn completions_cover_the_commands() {
    let output = reko(None).args(["completions", "bash"]).output().unwrap();
    assert!(output.status.success());
    let script = String::from_utf8(output.stdout).unwrap();
    for command in ["validate", "plan", "apply", "iam", "import"] {
        assert!(script.contains(command), "{command}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        reko(None).args(["completions", shell]).assert().success();
    }
}
