//! The command line: clap definitions and one small function per command.
//!
//! Commands parse their flags, call the library, print through a renderer and return an exit
//! code; they hold no logic of their own. `main` only maps errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod apply;
mod completions;
mod iam;
mod import;
mod plan;
mod policy;
mod validate;

/// Declarative, GitOps-style promotion of Amazon Rekognition Custom Labels model versions
/// across AWS accounts and projects.
#[derive(Debug, Parser)]
#[command(name = "reko-promote", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  reko-promote validate manifests/\n  reko-promote validate --format json manifests/ examples/\n  reko-promote schema > schemas/manifest.schema.json"
)]
pub struct Cli {
    /// More output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline (no AWS call) and report every problem at once.
    ///
    /// Exit status: 0 when valid (warnings allowed), 1 when any error is found.
    #[command(
        after_help = "Examples:\n  reko-promote validate\n  reko-promote validate manifests/ examples/\n  reko-promote validate --format json manifests/prod.yaml"
    )]
    Validate {
        /// Manifest files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text, env = "REKO_PROMOTE_FORMAT")]
        format: Format,
    },
    /// Read live state in every account and show what apply would do.
    ///
    /// Exit status: 0, or with --detailed-exitcode: 0 nothing to do, 2 changes pending, 1 an
    /// error or anything blocked, in conflict or unknown.
    #[command(
        after_help = "Examples:\n  reko-promote plan\n  reko-promote plan --format markdown --detailed-exitcode manifests/\n  reko-promote plan --out plan.json --target prod\n  AWS_ENDPOINT_URL=http://127.0.0.1:4566 reko-promote plan   # against the sandbox"
    )]
    Plan {
        /// Manifest files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text, env = "REKO_PROMOTE_PLAN_FORMAT")]
        format: PlanFormat,
        /// Save the plan (JSON) for `apply --plan FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 0 when there is nothing to do, 2 when changes are pending, 1 when anything is
        /// blocked, in conflict or unknown.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Exit 1 when any placement is held (a quality gate, `after` or `soak`); without it a
        /// held placement alone is no change.
        #[arg(long)]
        fail_on_held: bool,
        /// Plan as if it were this time (RFC 3339), instead of the system clock: for what-if
        /// planning of soak times, and for tests.
        #[arg(long, hide = true, value_name = "RFC3339", env = "REKO_PROMOTE_NOW")]
        now: Option<String>,
        /// List unchanged placements instead of counting them.
        #[arg(long)]
        show_unchanged: bool,
        /// With --format markdown: print at most this many bytes (a pull-request comment),
        /// collapsing unchanged rows, then counting per account, then per promotion; rows
        /// that need attention are always kept. 0: no limit.
        #[arg(long, value_name = "BYTES", default_value_t = crate::render::budget::COMMENT_MAX_BYTES)]
        max_bytes: usize,
        /// Also write the markdown plan to FILE, cut only to fit a CI job summary (1,000,000
        /// bytes; GitHub's limit is 1 MiB).
        #[arg(long, value_name = "FILE")]
        summary_out: Option<PathBuf>,
        /// Only these promotions, accounts or destinations (repeatable).
        #[arg(long, value_name = "NAME")]
        target: Vec<String>,
        /// Leave out these promotions, accounts or destinations (repeatable).
        #[arg(long, value_name = "NAME")]
        exclude: Vec<String>,
        #[command(flatten)]
        serving: ServingArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Make the live accounts match the manifests: write managed policies, copy, wait.
    ///
    /// Applies a saved plan (`--plan FILE`, refused if the manifests or live state changed since)
    /// or a fresh one, shown first and confirmed on a terminal (`--auto-approve` otherwise).
    /// Exit status: 0 all done, 1 anything failed, blocked, in conflict or unknown (or refused),
    /// 130 interrupted (copies in flight go on in AWS; the next apply waits for them).
    #[command(
        after_help = "Examples:\n  reko-promote plan --out plan.json && reko-promote apply --plan plan.json\n  reko-promote apply --auto-approve --target staging manifests/\n  reko-promote apply --auto-approve --no-wait --format json\n  reko-promote apply --plan plan.json --timeout 30m --fail-fast"
    )]
    Apply {
        /// Manifest files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// Apply this saved plan (`plan --out FILE`) instead of computing one; refused when
        /// stale. Give the same paths and --target/--exclude as the plan.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Apply without asking (required without a terminal, unless --plan).
        #[arg(long)]
        auto_approve: bool,
        /// Only these promotions, accounts or destinations (repeatable).
        #[arg(long, value_name = "NAME")]
        target: Vec<String>,
        /// Leave out these promotions, accounts or destinations (repeatable).
        #[arg(long, value_name = "NAME")]
        exclude: Vec<String>,
        /// Wait for copies to finish (the default).
        #[arg(long, overrides_with = "no_wait")]
        wait: bool,
        /// Start copies and exit without waiting for them.
        #[arg(long, overrides_with = "wait")]
        no_wait: bool,
        /// Stop waiting after this long, e.g. `30m`, at most 7 days (copies go on in AWS; exit 1).
        #[arg(long, value_name = "DURATION", value_parser = crate::duration::at_most(crate::duration::MAX_TIMEOUT))]
        timeout: Option<std::time::Duration>,
        /// Start no new copy after the first failure.
        #[arg(long)]
        fail_fast: bool,
        /// Copies in flight (started, not yet finished) at most; unbounded by default (copies
        /// run in AWS; the API calls are bounded by --parallelism).
        #[arg(long, value_name = "N", env = "REKO_PROMOTE_MAX_COPIES_IN_FLIGHT")]
        max_copies_in_flight: Option<usize>,
        /// Format of the final report (progress goes to stderr).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        serving: ServingArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Run the whole GitOps loop on the built-in sandbox: plan, apply, plan again, a pull request.
    ///
    /// Needs no AWS account and no network; takes well under a minute.
    #[command(after_help = "Example:\n  cargo run --release -- demo")]
    Demo {
        /// How long the sandbox takes to copy a version, in milliseconds.
        #[arg(long, default_value_t = 3000, value_name = "MS", value_parser = crate::duration::millis_at_most(crate::duration::MAX_COPY_DURATION))]
        copy_duration_ms: u64,
    },
    /// Run the local AWS sandbox (Rekognition Custom Labels + STS) in the foreground.
    ///
    /// Prints the endpoint and the seeded credentials to use; serves until Ctrl-C.
    #[command(
        after_help = "Examples:\n  reko-promote sandbox\n  reko-promote sandbox --listen 127.0.0.1:4566 --state sandbox-state.json\n  reko-promote sandbox --seed examples/sandbox-seed.yaml"
    )]
    Sandbox(crate::sandbox::SandboxArgs),
    /// Print the least-privilege IAM the CI principals and each account's roles need (offline).
    ///
    /// Two sides: the apply principal and each account's apply role (`roleArn`), and the
    /// read-only plan principal and each account's plan role (`planRoleArn`: Describe and List
    /// only). Permission policies for all, trust policies admitting each side's CI principal
    /// (with the declared external ids).
    #[command(
        after_help = "Examples:\n  reko-promote iam --ci-principal arn:aws:iam::444444444444:role/ci --ci-plan-principal arn:aws:iam::444444444444:role/ci-plan\n  reko-promote iam --format terraform manifests/ > iam.tf\n  reko-promote iam --format cloudformation > iam.yaml"
    )]
    Iam {
        /// Manifest files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = IamFormat::Json, env = "REKO_PROMOTE_IAM_FORMAT")]
        format: IamFormat,
        /// The principal CI applies as (trusted by every apply role).
        #[arg(long, value_name = "ARN", default_value = crate::iam::CI_PRINCIPAL_PLACEHOLDER, env = "REKO_PROMOTE_CI_PRINCIPAL")]
        ci_principal: String,
        /// The principal CI plans as, e.g. in pull requests (trusted by every read-only plan role).
        #[arg(long, value_name = "ARN", default_value = crate::iam::CI_PLAN_PRINCIPAL_PLACEHOLDER, env = "REKO_PROMOTE_CI_PLAN_PRINCIPAL")]
        ci_plan_principal: String,
    },
    /// Print the project policies each source project needs, as apply writes them.
    ///
    /// Reads the live source versions (their ARNs carry a timestamp) like plan. Exit status: 0,
    /// or 1 when a source version could not be read.
    #[command(
        after_help = "Examples:\n  reko-promote policy\n  reko-promote policy --format json manifests/"
    )]
    Policy {
        /// Manifest files or directories (walked for *.yaml and *.yml).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text, env = "REKO_PROMOTE_FORMAT")]
        format: Format,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Write manifests declaring the copies that already exist in an account's projects.
    ///
    /// Reads the destination projects' versions (their source version, output config and KMS
    /// key) and writes one Promotion manifest per source project, so the first plan of an
    /// existing organisation has nothing to do. Versions trained in place are skipped.
    #[command(
        after_help = "Examples:\n  reko-promote import --account prod --project defect-detector --out imported/ manifests/accounts.yaml\n  reko-promote plan manifests/accounts.yaml imported/"
    )]
    Import {
        /// Manifests declaring the accounts (sources are resolved among them by account id).
        #[arg(default_value = crate::manifest::DEFAULT_PATH)]
        paths: Vec<PathBuf>,
        /// The destination account (its name in the manifests).
        #[arg(long, value_name = "NAME")]
        account: String,
        /// Destination projects to read (repeatable).
        #[arg(long = "project", value_name = "NAME", required = true)]
        projects: Vec<String>,
        /// Only versions copied from this account (its name in the manifests).
        #[arg(long, value_name = "NAME")]
        source_account: Option<String>,
        /// Directory to write the manifests to.
        #[arg(long, value_name = "DIR", default_value = "imported")]
        out: PathBuf,
        /// Region of the projects (default: the region of the AWS configuration).
        #[arg(long = "project-region", value_name = "REGION")]
        project_region: Option<String>,
        /// Format of the summary.
        #[arg(long, value_enum, default_value_t = Format::Text, env = "REKO_PROMOTE_FORMAT")]
        format: Format,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  reko-promote completions bash > /etc/bash_completion.d/reko-promote\n  reko-promote completions zsh > \"${fpath[1]}/_reko-promote\"\n  reko-promote completions fish > ~/.config/fish/completions/reko-promote.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema of a document: manifests (default), the plan, the apply report, the
    /// sandbox seed (the ones committed under schemas/).
    #[command(
        after_help = "Examples:\n  reko-promote schema > schemas/manifest.schema.json\n  reko-promote schema plan > schemas/plan.schema.json\n  reko-promote schema apply-report > schemas/apply-report.schema.json"
    )]
    Schema {
        /// Which document.
        #[arg(value_enum, default_value_t = SchemaKind::Manifest)]
        kind: SchemaKind,
    },
}

/// The documents whose JSON Schema `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A manifest document (schemas/manifest.schema.json).
    Manifest,
    /// The plan document (schemas/plan.schema.json).
    Plan,
    /// The apply report (schemas/apply-report.schema.json).
    ApplyReport,
    /// A sandbox seed file (schemas/sandbox-seed.schema.json).
    SandboxSeed,
}

/// `iam` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IamFormat {
    /// Policy documents per role (valid IAM JSON).
    Json,
    /// `aws_iam_role` + `aws_iam_role_policy` resources.
    Terraform,
    /// `AWS::IAM::Role` templates, one per account.
    Cloudformation,
}

/// Plan output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// For people: grouped by destination, colours on a terminal.
    Text,
    /// The plan document (schemas/plan.schema.json).
    Json,
    /// For a pull-request comment.
    Markdown,
}

/// How to reach AWS (the AWS_* variables of the SDK work too).
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// Named profile of the shared AWS config files [env: AWS_PROFILE].
    #[arg(long)]
    pub profile: Option<String>,
    /// Region for STS and the ambient identity [env: AWS_REGION].
    #[arg(long)]
    pub region: Option<String>,
    /// Send every request (STS included) to this endpoint, e.g. the sandbox
    /// [env: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS requests in flight at most, all accounts together (a cap; the per-account bound
    /// and rate limit are what follow AWS's quotas).
    #[arg(long, default_value_t = crate::aws::DEFAULT_PARALLELISM, env = "REKO_PROMOTE_PARALLELISM")]
    pub parallelism: usize,
    /// AWS requests in flight at most in each account.
    #[arg(long, default_value_t = crate::aws::DEFAULT_MAX_IN_FLIGHT_PER_ACCOUNT, env = "REKO_PROMOTE_MAX_IN_FLIGHT_PER_ACCOUNT")]
    pub max_in_flight_per_account: usize,
    /// Requests per second per account and operation (client-side rate limit).
    #[arg(long, default_value_t = crate::aws::DEFAULT_RATE_LIMIT, env = "REKO_PROMOTE_RATE_LIMIT")]
    pub rate_limit: u32,
    /// Attempts per request, retries with backoff on throttling and transient errors included.
    #[arg(long, default_value_t = crate::aws::DEFAULT_MAX_ATTEMPTS, env = "REKO_PROMOTE_MAX_ATTEMPTS")]
    pub max_attempts: u32,
    /// OS threads the accounts' reads are spread over, each with its own connections
    /// [default: one per core the process may use].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), env = "REKO_PROMOTE_THREADS")]
    pub threads: Option<u16>,
}

impl AwsArgs {
    pub fn options(&self) -> crate::aws::AwsOptions {
        crate::aws::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            parallelism: self.parallelism,
            max_in_flight_per_account: self.max_in_flight_per_account,
            rate_limit: self.rate_limit,
            max_attempts: self.max_attempts,
            read_only: false,
            threads: self.threads.map(usize::from),
        }
    }
}

/// Loads the manifests; on errors prints the findings to stderr and returns `None`.
pub(crate) fn load_or_report(
    paths: &[PathBuf],
) -> anyhow::Result<Option<crate::desired::DesiredState>> {
    use std::io::Write;
    let loaded = crate::manifest::load(paths);
    if loaded.desired.is_none() {
        let mut stderr = anstream::stderr();
        write!(
            stderr,
            "{}",
            crate::render::findings::render(&loaded.report)
        )?;
    }
    Ok(loaded.desired)
}

/// The flags of `plan` and `apply` about serving and prune (`running`, `prune` in manifests).
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ServingArgs {
    /// Delete no version this run (`prune: true` destinations keep what they would prune; the
    /// plan shows it).
    #[arg(long)]
    pub no_prune: bool,
    /// Restart a running version whose inference units differ from the manifests' (a restart
    /// interrupts its inference); without it, that is drift, shown only.
    #[arg(long)]
    pub replace_running: bool,
}

impl ServingArgs {
    /// `scope` with these flags.
    pub fn apply_to(self, mut scope: crate::plan::RunScope) -> crate::plan::RunScope {
        scope.no_prune = self.no_prune;
        scope.replace_running = self.replace_running;
        scope
    }
}

/// Loads the manifests and narrows them to `selection`: `None` (after printing why to stderr)
/// when they do not validate or a `--target`/`--exclude` name matches nothing, before any AWS
/// call. Also says which part of the manifests the run covers.
pub(crate) fn load_selected(
    paths: &[PathBuf],
    selection: &crate::desired::Selection,
) -> anyhow::Result<Option<(crate::desired::DesiredState, crate::plan::RunScope)>> {
    use std::io::Write;
    let Some(desired) = load_or_report(paths)? else {
        return Ok(None);
    };
    if let Err(unknown) = selection.check(&desired) {
        writeln!(anstream::stderr(), "error: {unknown}")?;
        return Ok(None);
    }
    Ok(Some((
        selection.select(desired),
        run_scope(paths, selection),
    )))
}

/// Which part of the manifests a run covers: manifest files named one by one, or a
/// `--target`/`--exclude`, make it partial (it sees only part of what is declared).
pub(crate) fn run_scope(
    paths: &[PathBuf],
    selection: &crate::desired::Selection,
) -> crate::plan::RunScope {
    use crate::plan::PartialCause;
    let mut because = Vec::new();
    let files: Vec<String> = paths
        .iter()
        .filter(|p| !p.is_dir())
        .map(|p| p.display().to_string())
        .collect();
    if !files.is_empty() {
        because.push(PartialCause::ManifestFiles { files });
    }
    if !selection.is_everything() {
        because.push(PartialCause::Selection {
            targets: selection.targets.clone(),
            excludes: selection.excludes.clone(),
        });
    }
    crate::plan::RunScope::partial(because)
}

/// The async runtime of the commands that call AWS.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Leaves a command's large values (runtime, sessions, live state, plan) to the operating
/// system: the process exits as soon as the command returns, and freeing tens of thousands of
/// allocations one by one (idle connections, SDK clients, the plan's maps) only delays that
/// exit, by milliseconds a plan is measured in. Call it last, once every output is flushed.
pub(crate) fn leave_to_exit<T>(values: T) {
    std::mem::forget(values);
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For tools: the documented, versioned JSON document.
    Json,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Plan {
            paths,
            format,
            out,
            detailed_exitcode,
            fail_on_held,
            now,
            show_unchanged,
            max_bytes,
            summary_out,
            target,
            exclude,
            serving,
            aws,
        } => plan::run(
            plan::PlanArgs {
                paths,
                format,
                out,
                detailed_exitcode,
                fail_on_held,
                now,
                show_unchanged,
                max_bytes,
                summary_out,
                selection: crate::desired::Selection {
                    targets: target,
                    excludes: exclude,
                },
                verbose: cli.verbose > 0,
                serving,
            },
            &aws,
        ),
        Command::Apply {
            paths,
            plan,
            auto_approve,
            target,
            exclude,
            wait: _,
            no_wait,
            timeout,
            fail_fast,
            max_copies_in_flight,
            format,
            serving,
            aws,
        } => apply::run(
            apply::ApplyArgs {
                plan,
                paths,
                auto_approve,
                selection: crate::desired::Selection {
                    targets: target,
                    excludes: exclude,
                },
                wait: !no_wait,
                timeout,
                fail_fast,
                max_copies_in_flight,
                format,
                verbose: cli.verbose > 0,
                serving,
            },
            &aws,
        ),
        Command::Demo { copy_duration_ms } => {
            let outcome = runtime()?.block_on(async {
                let mut out = anstream::stdout();
                crate::demo::run(&mut out, &crate::demo::DemoOptions { copy_duration_ms }).await
            })?;
            let converged = outcome.apply_succeeded
                && !outcome.second_plan.has_changes()
                && !outcome.second_plan.needs_attention()
                && outcome.serving_succeeded
                && !outcome.after_switch.has_changes()
                && !outcome.after_switch.needs_attention();
            Ok(if converged {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Iam {
            paths,
            format,
            ci_principal,
            ci_plan_principal,
        } => iam::run(&paths, format, &ci_principal, &ci_plan_principal),
        Command::Policy { paths, format, aws } => policy::run(&paths, format, &aws),
        Command::Import {
            paths,
            account,
            projects,
            source_account,
            out,
            project_region,
            format,
            aws,
        } => import::run(
            import::ImportArgs {
                paths,
                account,
                projects,
                source_account,
                out,
                region: project_region,
                format,
            },
            &aws,
        ),
        Command::Completions { shell } => completions::run(shell),
        Command::Sandbox(args) => {
            runtime()?.block_on(crate::sandbox::run_foreground(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind } => {
            use crate::schema::Document;
            print!(
                "{}",
                crate::schema::text(match kind {
                    SchemaKind::Manifest => Document::Manifest,
                    SchemaKind::Plan => Document::Plan,
                    SchemaKind::ApplyReport => Document::ApplyReport,
                    SchemaKind::SandboxSeed => Document::SandboxSeed,
                })
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sets up tracing on stderr: `-q` errors only, default warnings, `-v` info, `-vv` debug;
/// RUST_LOG wins when set, except over the cap below.
///
/// The AWS SDK and HTTP crates print, at debug and trace, the SigV4 canonical request, whole
/// requests with their `Authorization` and `x-amz-security-token` headers, and HTTP frames
/// (STS responses carry session credentials). Their events above `info` are dropped by a second
/// filter that RUST_LOG cannot lift, so no verbosity ever prints a secret.
pub fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::FilterExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    /// Targets (crate names) whose verbose events may carry credentials.
    const CAPPED_TARGETS: &[&str] = &["aws_", "hyper", "h2", "rustls", "tower", "reqwest"];
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let cap = tracing_subscriber::filter::filter_fn(|meta| {
        *meta.level() <= tracing::Level::INFO
            || !CAPPED_TARGETS.iter().any(|t| meta.target().starts_with(t))
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter.and(cap));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
