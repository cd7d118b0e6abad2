//! Command-line options of `reko-promote sandbox` ([`SandboxArgs`], a `clap::Args` the CLI module
//! flattens into its subcommand) and the banner printed at start: the endpoint and the seeded
//! credentials as `export` lines a user can paste.
//!
//! Parsing the rest of the command line and dispatching to [`super::run_foreground`] is the CLI's.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::error::SandboxError;
use super::{SandboxConfig, SandboxHandle, Seed, default_organisation};

/// Run a local emulator of Rekognition Custom Labels and STS for tests and demos.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port). A non-loopback address needs
    /// --allow-remote.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// Allow --listen on an address other machines can reach: anyone reaching it can read every
    /// secret of the sandbox through its admin endpoint's API keys.
    #[arg(long)]
    pub allow_remote: bool,
    /// Seed file (YAML): accounts, roles, projects, versions, policies, faults. Without it, the
    /// default organisation (see docs/sandbox.md).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Persist the state to FILE after every change and reload it at start.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Latency added to every operation, in milliseconds.
    #[arg(long, value_name = "MS", value_parser = crate::duration::millis_at_most(crate::duration::MAX_LATENCY))]
    pub latency_ms: Option<u64>,
    /// Random extra latency of up to MS milliseconds.
    #[arg(long, value_name = "MS", value_parser = crate::duration::millis_at_most(crate::duration::MAX_LATENCY))]
    pub latency_jitter_ms: Option<u64>,
    /// Requests per second allowed per account and operation; beyond it: ThrottlingException.
    #[arg(long, value_name = "TPS")]
    pub tps: Option<f64>,
    /// Fraction (0..1) of requests answered with InternalServerError.
    #[arg(long, value_name = "RATE")]
    pub internal_error_rate: Option<f64>,
    /// Fraction (0..1) of requests whose operation takes effect but whose response is lost: the
    /// connection is closed with no answer.
    #[arg(long, value_name = "RATE")]
    pub lost_response_rate: Option<f64>,
    /// Delay added after every operation took effect, before answering, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub slow_response_ms: Option<u64>,
    /// How long a CopyProjectVersion takes, in milliseconds (default 2000).
    #[arg(long, value_name = "MS", value_parser = crate::duration::millis_at_most(crate::duration::MAX_COPY_DURATION))]
    pub copy_duration_ms: Option<u64>,
    /// Fraction (0..1) of copies that end COPYING_FAILED.
    #[arg(long, value_name = "RATE")]
    pub copy_failure_rate: Option<f64>,
    /// Copies to this version name (exact or regular expression) end COPYING_FAILED; repeatable.
    #[arg(long, value_name = "NAME_OR_REGEX")]
    pub fail_copy: Vec<String>,
}

impl Default for SandboxArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            allow_remote: false,
            seed: None,
            state: None,
            latency_ms: None,
            latency_jitter_ms: None,
            tps: None,
            internal_error_rate: None,
            lost_response_rate: None,
            slow_response_ms: None,
            copy_duration_ms: None,
            copy_failure_rate: None,
            fail_copy: Vec::new(),
        }
    }
}

impl SandboxArgs {
    /// The configuration these options describe: the seed's faults with the flags laid over them.
    pub fn to_config(&self) -> Result<SandboxConfig, SandboxError> {
        if !self.listen.ip().is_loopback() && !self.allow_remote {
            return Err(SandboxError::RemoteListen { addr: self.listen });
        }
        let seed = match &self.seed {
            Some(path) => Seed::from_file(path)?,
            None => default_organisation(),
        };
        let mut faults = seed.faults.clone();
        if self.latency_ms.is_some() || self.latency_jitter_ms.is_some() {
            faults.latency.insert(
                super::faults::ALL_OPERATIONS.into(),
                super::Latency {
                    ms: self.latency_ms.unwrap_or(0),
                    jitter_ms: self.latency_jitter_ms.unwrap_or(0),
                },
            );
        }
        if let Some(tps) = self.tps {
            faults.tps.insert(super::faults::ALL_OPERATIONS.into(), tps);
        }
        if let Some(rate) = self.internal_error_rate {
            faults
                .internal_error_rate
                .insert(super::faults::ALL_OPERATIONS.into(), rate);
        }
        if let Some(rate) = self.lost_response_rate {
            faults
                .lost_response
                .insert(super::faults::ALL_OPERATIONS.into(), rate);
        }
        if let Some(ms) = self.slow_response_ms {
            faults.slow_response.insert(
                super::faults::ALL_OPERATIONS.into(),
                super::Latency { ms, jitter_ms: 0 },
            );
        }
        if let Some(ms) = self.copy_duration_ms {
            faults.copy_duration_ms = ms;
        }
        if let Some(rate) = self.copy_failure_rate {
            faults.copy_failure_rate = rate;
        }
        faults
            .copy_fail_versions
            .extend(self.fail_copy.iter().cloned());
        // Checked here so a bad flag fails at start, not on the first request.
        super::faults::FaultEngine::new(faults.clone())?;
        Ok(SandboxConfig {
            listen: self.listen,
            seed,
            state_file: self.state.clone(),
            faults: Some(faults),
        })
    }
}

/// The warning `reko-promote sandbox` prints (on stderr) when it listens where other machines
/// can reach it, as `--allow-remote` permits.
pub fn remote_warning(listen: SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "warning: the sandbox listens on {listen}, reachable from other machines; its keys are printed below and in its docs, so anyone who reaches it can call it as any seeded account (the admin endpoint still answers only local requests)"
        )
    })
}

/// What `reko-promote sandbox` prints once listening.
pub fn banner(handle: &SandboxHandle, region: &str) -> String {
    let seed = handle.seed();
    let endpoint = handle.endpoint();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# reko-promote sandbox: Rekognition Custom Labels + STS on {endpoint} (admin: {endpoint}/_sandbox/state)"
    );
    let main = seed.account("ci").or_else(|| seed.accounts.first());
    if let Some(a) = main {
        let _ = writeln!(
            out,
            "# Credentials of account {} ({}); paste into a shell:",
            a.name, a.id
        );
        let _ = writeln!(out, "export AWS_ENDPOINT_URL={endpoint}");
        let _ = writeln!(out, "export AWS_ACCESS_KEY_ID={}", a.access_key_id);
        let _ = writeln!(out, "export AWS_SECRET_ACCESS_KEY={}", a.secret_access_key);
        let _ = writeln!(out, "export AWS_REGION={region}");
    }
    let others: Vec<_> = seed
        .accounts
        .iter()
        .filter(|a| main.is_none_or(|m| m.id != a.id))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(
            out,
            "# Other accounts (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):"
        );
        for a in others {
            let _ = writeln!(
                out,
                "#   {:<10} {}  {} {}",
                a.name, a.id, a.access_key_id, a.secret_access_key
            );
        }
    }
    if !seed.roles.is_empty() {
        let _ = writeln!(out, "# Roles:");
        for r in &seed.roles {
            let _ = writeln!(
                out,
                "#   {}  trusts {}{}",
                r.arn,
                r.trusted.join(", "),
                r.external_id
                    .as_ref()
                    .map(|x| format!(", ExternalId {x}"))
                    .unwrap_or_default()
            );
        }
    }
    let _ = writeln!(out, "# Ctrl-C to stop.");
    out
}
