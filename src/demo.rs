//! `reko-promote demo`: the whole GitOps loop on the built-in sandbox, in under a minute, with
//! no AWS account, no network and no set-up.
//!
//! It starts the sandbox in-process with its default organisation (a source ML account, staging,
//! production, a CI identity), writes the repository's example manifests to a temporary
//! directory and shows them, then runs `plan`, `apply` (with progress), `plan` again (nothing to
//! do) and finally the plan of a pull request that adds one more promotion, as the markdown a
//! CI job would post. That promotion shows the lifecycle: a quality gate holds a version whose
//! F1 score is too low (a `label-reader.v2` the demo adds to the sandbox's seed), and a chain
//! holds production until staging has had the version for a day. Then staging declares which
//! version serves (`running`): apply starts it, and a switch to the newer version is blue/green
//! (the new one RUNNING before the old one is stopped). Every step goes through the same library
//! code the commands use, with the real AWS SDK talking to the sandbox. A test runs it and checks
//! that it converges.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use owo_colors::OwoColorize;

use crate::apply::{self, ApplyOptions, Progress};
use crate::aws::{AwsContext, AwsOptions};
use crate::plan::Summary;
use crate::sandbox::seed::{self, DEFAULT_REGION};
use crate::sandbox::{Faults, Sandbox, SandboxConfig};

/// The manifests the demo starts from: the repository's own (`manifests/`).
const ACCOUNTS: &str = include_str!("../manifests/accounts.yaml");
const DEFECT_DETECTOR: &str = include_str!("../manifests/defect-detector.yaml");

/// The promotion the demo's pull request adds.
const PULL_REQUEST: &str = "\
# yaml-language-server: $schema=../schemas/manifest.schema.json
#
# Added by a pull request: the label reader goes to staging, then a day later to production;
# only versions with an F1 score of 0.85 or more.
apiVersion: reko-promote/v1
kind: Promotion
name: label-reader
region: eu-west-1
source: { account: ml, project: label-reader, managePolicy: true }
gates: { minF1Score: 0.85 }
versions:
  - version: label-reader.v1
  - version: label-reader.v2
destinations:
  staging: { account: staging, project: label-reader }
  prod: { account: prod, project: label-reader, after: staging, soak: 24h }
";

/// A version of the label reader trained below the pull request's gate (F1 0.81 < 0.85).
const LABEL_V2: &str = "label-reader.v2";

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// How long the sandbox takes to copy a version.
    pub copy_duration_ms: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            copy_duration_ms: 3000,
        }
    }
}

/// What each step found, for callers (and the test) to check that the loop converged.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    pub first_plan: Summary,
    pub apply_succeeded: bool,
    pub second_plan: Summary,
    pub pull_request_plan: Summary,
    /// Whether both serving applies (start, then the blue/green switch) succeeded.
    pub serving_succeeded: bool,
    /// The plan after the switch: nothing left to do.
    pub after_switch: Summary,
}

/// The staging destination of `manifests/defect-detector.yaml`, as the demo's serving steps
/// rewrite it.
const STAGING_DESTINATION: &str = "  staging: { account: staging, project: defect-detector }";

/// `manifests/defect-detector.yaml` with staging running `version`.
fn serving_manifest(version: &str) -> String {
    DEFECT_DETECTOR.replace(
        STAGING_DESTINATION,
        &format!(
            "  staging:\n    account: staging\n    project: defect-detector\n    running: {{ \
             versionName: {version}, inferenceUnits: {{ min: 1, max: 2 }} }}"
        ),
    )
}

fn step(out: &mut impl Write, n: usize, title: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{} {}\n",
        format!("Step {n}.").bold().cyan(),
        title.bold()
    )
}

fn show_file(out: &mut impl Write, name: &str, text: &str) -> std::io::Result<()> {
    writeln!(out, "{}", format!("── {name} ──").dimmed())?;
    for line in text.lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

fn load(dir: &Path) -> anyhow::Result<crate::desired::DesiredState> {
    let loaded = crate::manifest::load(&[dir.to_path_buf()]);
    loaded.desired.with_context(|| {
        format!(
            "the demo manifests do not validate:\n{}",
            crate::render::findings::render(&loaded.report)
        )
    })
}

/// Runs the demo, writing what it shows to `out`.
pub async fn run(out: &mut impl Write, options: &DemoOptions) -> anyhow::Result<DemoOutcome> {
    let mut config = SandboxConfig {
        faults: Some(Faults {
            copy_duration_ms: options.copy_duration_ms,
            hosting_transition_ms: 500,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    };
    if let Some(label_reader) = config
        .seed
        .projects
        .iter_mut()
        .find(|p| p.account == seed::ML_ACCOUNT && p.name == seed::LABEL_READER)
    {
        label_reader.versions.push(seed::SeedVersion {
            name: LABEL_V2.into(),
            status: crate::sandbox::state::VersionStatus::TrainingCompleted,
            f1_score: Some(0.81),
            created: Some("2026-11-20T12:00:00Z".into()),
            status_message: None,
            tags: Default::default(),
        });
    }
    let sandbox = Sandbox::start(config)
        .await
        .context("cannot start the sandbox")?;
    writeln!(
        out,
        "{}\n\nThe sandbox runs at {} with its default organisation: account `ml` \
         (111111111111) trains models; `staging` (222222222222) and `prod` (333333333333) \
         receive them; CI runs as account 444444444444 and assumes the `reko-promote` role in \
         each. Everything below goes through the real AWS SDK.",
        "reko-promote demo: promoting Rekognition Custom Labels models, GitOps-style".bold(),
        sandbox.endpoint()
    )?;

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    std::fs::write(dir.path().join("accounts.yaml"), ACCOUNTS)?;
    std::fs::write(dir.path().join("defect-detector.yaml"), DEFECT_DETECTOR)?;

    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(sandbox.endpoint())
        .region(aws_config::Region::new(DEFAULT_REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            seed::CI_ACCESS_KEY_ID,
            seed::CI_SECRET_ACCESS_KEY,
            None,
            None,
            "reko-promote-demo",
        ))
        .load()
        .await;
    let aws_options = AwsOptions {
        parallelism: crate::aws::DEFAULT_PARALLELISM,
        rate_limit: crate::aws::DEFAULT_RATE_LIMIT,
        max_attempts: crate::aws::DEFAULT_MAX_ATTEMPTS,
        ..AwsOptions::default()
    };

    step(
        out,
        1,
        "The manifests, as reviewed in a pull request (manifests/)",
    )?;
    show_file(out, "manifests/accounts.yaml", ACCOUNTS)?;
    show_file(out, "manifests/defect-detector.yaml", DEFECT_DETECTOR)?;

    step(out, 2, "reko-promote plan: what apply would do")?;
    let desired = load(dir.path())?;
    let ctx = AwsContext::from_config(config.clone(), &aws_options);
    let full = crate::plan::RunScope::full();
    let first = crate::pipeline::plan_live(&ctx, &desired, &full).await;
    write!(out, "{}", crate::render::plan::text(&first.plan, false))?;

    step(
        out,
        3,
        "reko-promote apply: policies, copies, waiting for them",
    )?;
    out.flush()?;
    let report = apply::apply(
        &ctx,
        &first.sessions,
        &first.plan,
        &ApplyOptions::default(),
        &Progress::auto(&first.plan, crate::render::apply::PROGRESS_WORDS),
        apply::never_interrupted(),
    )
    .await;
    write!(out, "{}", crate::render::apply::text(&report))?;

    step(out, 4, "reko-promote plan again: nothing left to do")?;
    let ctx = AwsContext::from_config(config.clone(), &aws_options);
    let second = crate::pipeline::plan_live(&ctx, &desired, &full).await;
    write!(out, "{}", crate::render::plan::text(&second.plan, true))?;

    step(
        out,
        5,
        "A pull request adds one more promotion: the plan CI posts on it (markdown)",
    )?;
    std::fs::write(dir.path().join("label-reader.yaml"), PULL_REQUEST)?;
    show_file(out, "manifests/label-reader.yaml (new)", PULL_REQUEST)?;
    let proposed = load(dir.path())?;
    let ctx = AwsContext::from_config(config.clone(), &aws_options);
    let pull_request = crate::pipeline::plan_live(&ctx, &proposed, &full).await;
    writeln!(out)?;
    write!(out, "{}", crate::render::plan::markdown(&pull_request.plan))?;
    std::fs::remove_file(dir.path().join("label-reader.yaml"))?;

    // Serving: staging declares what runs, then switches to the newer version.
    let mut serving_succeeded = true;
    let mut after_switch = Summary::default();
    for (n, version, title) in [
        (
            6,
            "defect-detector-v1",
            "Staging declares which version serves (`running`): apply starts it",
        ),
        (
            7,
            "defect-detector-v2",
            "A serving switch: blue/green (v2 RUNNING before v1 is stopped)",
        ),
    ] {
        step(out, n, title)?;
        let manifest = serving_manifest(version);
        std::fs::write(dir.path().join("defect-detector.yaml"), &manifest)?;
        writeln!(out, "  staging runs `{version}` with 1–2 inference units\n")?;
        let desired = load(dir.path())?;
        let ctx = AwsContext::from_config(config.clone(), &aws_options);
        let planned = crate::pipeline::plan_live(&ctx, &desired, &full).await;
        write!(out, "{}", crate::render::plan::text(&planned.plan, false))?;
        out.flush()?;
        let report = apply::apply(
            &ctx,
            &planned.sessions,
            &planned.plan,
            &ApplyOptions::default(),
            &Progress::silent(),
            apply::never_interrupted(),
        )
        .await;
        writeln!(out)?;
        write!(out, "{}", crate::render::apply::text(&report))?;
        serving_succeeded &= report.succeeded(true);
        let ctx = AwsContext::from_config(config.clone(), &aws_options);
        after_switch = crate::pipeline::plan_live(&ctx, &desired, &full)
            .await
            .plan
            .summary;
    }

    writeln!(
        out,
        "\n{}\n  reko-promote sandbox            # run the sandbox yourself (prints the AWS_* settings)\n  \
         reko-promote plan manifests/     # then plan and apply against it\n  \
         reko-promote apply --auto-approve manifests/\n  \
         README.md                        # the manifest reference, CI and IAM set-up",
        "Next:".bold()
    )?;
    sandbox.shutdown().await;
    Ok(DemoOutcome {
        first_plan: first.plan.summary,
        apply_succeeded: report.succeeded(true),
        second_plan: second.plan.summary,
        pull_request_plan: pull_request.plan.summary,
        serving_succeeded,
        after_switch,
    })
}
