//! Fault injection and limits: per-operation latency with jitter, per-account per-operation TPS
//! token buckets, InternalServerError rates, the faults of a real network after an operation took
//! effect (a lost response, a slow response), the timing and failure of asynchronous copies,
//! and the timing and failure of model starts.
//!
//! [`Faults`] is the serialisable settings (seed file `faults:`, `SandboxConfig`, CLI flags, and
//! `GET/PUT /_sandbox/faults`); [`FaultEngine`] holds the live settings and the bucket state. The
//! engine only decides (how long to sleep, whether to throttle, fail or drop the answer); answering
//! with the right error on the wire is left to the protocol handlers, and closing a connection to
//! the front door (`mod.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::Rng;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Key meaning "every operation" in the per-operation maps.
pub const ALL_OPERATIONS: &str = "*";

/// Latency added before an operation is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Base delay in milliseconds.
    #[serde(default)]
    pub ms: u64,
    /// Up to this many milliseconds more, uniformly random.
    #[serde(default)]
    pub jitter_ms: u64,
}

impl Latency {
    /// One delay drawn from this setting; `None` when it is zero.
    fn draw(&self) -> Option<Duration> {
        if self.ms == 0 && self.jitter_ms == 0 {
            return None;
        }
        let jitter = if self.jitter_ms > 0 {
            rand::rng().random_range(0..=self.jitter_ms)
        } else {
            0
        };
        Some(Duration::from_millis(self.ms.saturating_add(jitter)))
    }
}

/// Fault and timing settings. Maps are keyed by operation name (`DescribeProjectVersions`,
/// `AssumeRole`, ...) or `*`; a named operation's entry wins over `*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub latency: BTreeMap<String, Latency>,
    /// Requests per second allowed per (account, operation); past it: ThrottlingException.
    pub tps: BTreeMap<String, f64>,
    /// Fraction (0..=1) of requests answered with InternalServerError.
    pub internal_error_rate: BTreeMap<String, f64>,
    /// Fraction (0..=1) of requests whose operation takes effect but whose response is lost: the
    /// connection is closed with no answer, so the client retries a call that already happened.
    pub lost_response: BTreeMap<String, f64>,
    /// The next N answers of an operation are lost, whatever the rate (counts down as they are;
    /// for deterministic tests: "the first CopyProjectVersion's answer is lost, its retry is not").
    pub lost_response_next: BTreeMap<String, u32>,
    /// Delay added after the operation took effect, before answering (set it beyond the client's
    /// timeout to make the client give up on a call that happened).
    pub slow_response: BTreeMap<String, Latency>,
    /// How long CopyProjectVersion stays COPYING_IN_PROGRESS.
    pub copy_duration_ms: u64,
    /// Fraction (0..=1) of copies that end COPYING_FAILED.
    pub copy_failure_rate: f64,
    /// Destination version names whose copy fails: exact names or regular expressions
    /// (matched against the whole name).
    pub copy_fail_versions: Vec<String>,
    /// StatusMessage of a failed copy.
    pub copy_failure_message: String,
    /// How long CreateProjectVersion stays TRAINING_IN_PROGRESS.
    pub training_duration_ms: u64,
    /// How long StartProjectVersion / StopProjectVersion stay STARTING / STOPPING.
    pub hosting_transition_ms: u64,
    /// Version names whose StartProjectVersion ends FAILED (after `hosting_transition_ms`; the
    /// call itself succeeds): exact names or regular expressions (matched against the whole name).
    pub start_fail_versions: Vec<String>,
    /// StatusMessage of a failed start.
    pub start_failure_message: String,
    /// Role ARN → the account its AssumeRole sessions act in (and that the returned
    /// assumed-role ARN names) instead of the role's own: a misrouted role, which AWS itself
    /// never produces, for testing that callers verify the account AWS answers with.
    pub misrouted_roles: BTreeMap<String, String>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: BTreeMap::new(),
            tps: BTreeMap::new(),
            internal_error_rate: BTreeMap::new(),
            lost_response: BTreeMap::new(),
            lost_response_next: BTreeMap::new(),
            slow_response: BTreeMap::new(),
            copy_duration_ms: 2000,
            copy_failure_rate: 0.0,
            copy_fail_versions: Vec::new(),
            copy_failure_message: "The model copy failed: the source model artifacts could not be read (injected by the sandbox).".into(),
            training_duration_ms: 3000,
            hosting_transition_ms: 1000,
            start_fail_versions: Vec::new(),
            start_failure_message: "The model failed to start: not enough inference capacity is available for the requested inference units (injected by the sandbox).".into(),
            misrouted_roles: BTreeMap::new(),
        }
    }
}

/// Invalid fault settings.
#[derive(Debug, thiserror::Error)]
pub enum FaultsError {
    #[error("{field}: `{pattern}` is not a regular expression: {source}")]
    Pattern {
        field: &'static str,
        pattern: String,
        source: regex::Error,
    },
    #[error("{0}")]
    Range(String),
}

/// The version-name patterns of the fault settings, compiled.
struct NamePatterns {
    copy_fail: Vec<Regex>,
    start_fail: Vec<Regex>,
}

/// Compiles `patterns` (the setting `field`) to whole-name regular expressions.
fn whole_name_patterns(
    field: &'static str,
    patterns: &[String],
) -> Result<Vec<Regex>, FaultsError> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(&format!("^(?:{p})$")).map_err(|source| FaultsError::Pattern {
                field,
                pattern: p.clone(),
                source,
            })
        })
        .collect()
}

impl Faults {
    fn compile(&self) -> Result<NamePatterns, FaultsError> {
        for (field, rates) in [
            ("internal_error_rate", &self.internal_error_rate),
            ("lost_response", &self.lost_response),
        ] {
            for (op, rate) in rates {
                if !(0.0..=1.0).contains(rate) {
                    return Err(FaultsError::Range(format!(
                        "{field}.{op}: {rate} is not between 0 and 1"
                    )));
                }
            }
        }
        if !(0.0..=1.0).contains(&self.copy_failure_rate) {
            return Err(FaultsError::Range(format!(
                "copy_failure_rate: {} is not between 0 and 1",
                self.copy_failure_rate
            )));
        }
        for (op, tps) in &self.tps {
            if !tps.is_finite() || *tps <= 0.0 {
                return Err(FaultsError::Range(format!(
                    "tps.{op}: {tps} must be above 0"
                )));
            }
        }
        Ok(NamePatterns {
            copy_fail: whole_name_patterns("copy_fail_versions", &self.copy_fail_versions)?,
            start_fail: whole_name_patterns("start_fail_versions", &self.start_fail_versions)?,
        })
    }

    fn for_op<'a, T>(map: &'a BTreeMap<String, T>, op: &str) -> Option<&'a T> {
        map.get(op).or_else(|| map.get(ALL_OPERATIONS))
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct Live {
    faults: Faults,
    patterns: NamePatterns,
}

/// The live fault settings and throttling state.
pub struct FaultEngine {
    live: RwLock<Live>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

/// What the engine decided for a request.
pub enum Verdict {
    Proceed,
    Throttle,
    InternalError,
}

/// What happens to the answer of an operation that took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Answer, after this delay if any.
    Answer(Option<Duration>),
    /// Close the connection without answering.
    Lose,
}

impl FaultEngine {
    pub fn new(faults: Faults) -> Result<Self, FaultsError> {
        let patterns = faults.compile()?;
        Ok(Self {
            live: RwLock::new(Live { faults, patterns }),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    pub fn get(&self) -> Faults {
        self.live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .faults
            .clone()
    }

    /// Replaces the settings; throttling starts afresh.
    pub fn set(&self, faults: Faults) -> Result<(), FaultsError> {
        let patterns = faults.compile()?;
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = Live { faults, patterns };
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    /// The latency to add before answering `op`.
    pub fn latency(&self, op: &str) -> Option<Duration> {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        Faults::for_op(&live.faults.latency, op).and_then(Latency::draw)
    }

    /// The fate of the answer to `op`, which has just taken effect.
    pub fn delivery(&self, op: &str) -> Delivery {
        if self.take_lost_next(op) {
            return Delivery::Lose;
        }
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        let lost = Faults::for_op(&live.faults.lost_response, op).copied();
        if lost.is_some_and(|rate| rate > 0.0 && rand::rng().random_bool(rate.clamp(0.0, 1.0))) {
            return Delivery::Lose;
        }
        Delivery::Answer(Faults::for_op(&live.faults.slow_response, op).and_then(Latency::draw))
    }

    /// Counts down `lost_response_next` for `op`; true when this answer is one to lose.
    fn take_lost_next(&self, op: &str) -> bool {
        // The write lock only when there is a count to take, as this runs for every answer.
        if self
            .live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .faults
            .lost_response_next
            .is_empty()
        {
            return false;
        }
        let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
        let next = &mut live.faults.lost_response_next;
        let key = if next.contains_key(op) {
            op
        } else {
            ALL_OPERATIONS
        };
        match next.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    next.remove(key);
                }
                true
            }
            _ => false,
        }
    }

    /// Throttling, then injected server errors.
    pub fn admit(&self, account: &str, op: &str) -> Verdict {
        let (tps, error_rate) = {
            let live = self.live.read().unwrap_or_else(|e| e.into_inner());
            (
                Faults::for_op(&live.faults.tps, op).copied(),
                Faults::for_op(&live.faults.internal_error_rate, op).copied(),
            )
        };
        if let Some(tps) = tps {
            let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            // Burst capacity of one second's worth (at least one request), as AWS's limits allow
            // short bursts at the steady rate.
            let capacity = tps.max(1.0);
            let now = Instant::now();
            let b = buckets
                .entry((account.to_string(), op.to_string()))
                .or_insert(Bucket {
                    tokens: capacity,
                    last: now,
                });
            b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * tps).min(capacity);
            b.last = now;
            if b.tokens < 1.0 {
                return Verdict::Throttle;
            }
            b.tokens -= 1.0;
        }
        let rate = error_rate.unwrap_or(0.0);
        if rate > 0.0 && rand::rng().random_bool(rate.clamp(0.0, 1.0)) {
            return Verdict::InternalError;
        }
        Verdict::Proceed
    }

    /// Copy timing and outcome for a new copy named `version_name`: (duration, failure message).
    pub fn copy_outcome(&self, version_name: &str) -> (u64, Option<String>) {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        let f = &live.faults;
        let by_name = live
            .patterns
            .copy_fail
            .iter()
            .any(|r| r.is_match(version_name));
        let by_rate = f.copy_failure_rate > 0.0
            && rand::rng().random_bool(f.copy_failure_rate.clamp(0.0, 1.0));
        let failure = (by_name || by_rate).then(|| f.copy_failure_message.clone());
        (f.copy_duration_ms, failure)
    }

    /// Start timing and outcome for StartProjectVersion of the version named `version_name`:
    /// (how long it stays STARTING, the StatusMessage if it then ends FAILED).
    pub fn start_outcome(&self, version_name: &str) -> (u64, Option<String>) {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        let fails = live
            .patterns
            .start_fail
            .iter()
            .any(|r| r.is_match(version_name));
        (
            live.faults.hosting_transition_ms,
            fails.then(|| live.faults.start_failure_message.clone()),
        )
    }

    pub fn training_duration_ms(&self) -> u64 {
        self.live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .faults
            .training_duration_ms
    }

    pub fn hosting_transition_ms(&self) -> u64 {
        self.live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .faults
            .hosting_transition_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_throttles_past_the_rate() {
        let mut f = Faults::default();
        f.tps.insert("DescribeProjects".into(), 2.0);
        let e = FaultEngine::new(f).unwrap();
        assert!(matches!(e.admit("1", "DescribeProjects"), Verdict::Proceed));
        assert!(matches!(e.admit("1", "DescribeProjects"), Verdict::Proceed));
        assert!(matches!(
            e.admit("1", "DescribeProjects"),
            Verdict::Throttle
        ));
        // Other accounts and operations have their own buckets.
        assert!(matches!(e.admit("2", "DescribeProjects"), Verdict::Proceed));
        assert!(matches!(e.admit("1", "CreateProject"), Verdict::Proceed));
    }

    #[test]
    fn lost_and_slow_responses_per_operation() {
        let mut f = Faults::default();
        f.lost_response.insert("CopyProjectVersion".into(), 1.0);
        f.slow_response.insert(
            ALL_OPERATIONS.into(),
            Latency {
                ms: 40,
                jitter_ms: 0,
            },
        );
        f.lost_response_next.insert("PutProjectPolicy".into(), 2);
        let e = FaultEngine::new(f.clone()).unwrap();
        assert_eq!(e.delivery("CopyProjectVersion"), Delivery::Lose);
        assert_eq!(e.delivery("PutProjectPolicy"), Delivery::Lose);
        assert_eq!(e.delivery("PutProjectPolicy"), Delivery::Lose);
        assert_eq!(
            e.delivery("PutProjectPolicy"),
            Delivery::Answer(Some(Duration::from_millis(40)))
        );
        assert!(e.get().lost_response_next.is_empty());
        assert_eq!(
            e.delivery("DescribeProjects"),
            Delivery::Answer(Some(Duration::from_millis(40)))
        );
        f.lost_response.insert("*".into(), 1.5);
        assert!(FaultEngine::new(f).is_err());
        assert_eq!(
            FaultEngine::new(Faults::default())
                .unwrap()
                .delivery("CopyProjectVersion"),
            Delivery::Answer(None)
        );
    }

    #[test]
    fn copy_failures_by_exact_name_or_regex() {
        let f = Faults {
            copy_fail_versions: vec!["exact.v1".into(), "bad-.*".into()],
            ..Faults::default()
        };
        let e = FaultEngine::new(f).unwrap();
        assert!(e.copy_outcome("exact.v1").1.is_some());
        assert!(e.copy_outcome("bad-7").1.is_some());
        assert!(e.copy_outcome("exact.v10").1.is_none());
        assert!(
            FaultEngine::new(Faults {
                copy_fail_versions: vec!["(".into()],
                ..Faults::default()
            })
            .is_err()
        );
    }

    #[test]
    fn start_failures_by_exact_name_or_regex_with_the_configured_message() {
        let f = Faults {
            start_fail_versions: vec!["blue.v2".into(), "green-.*".into()],
            start_failure_message: "no capacity".into(),
            hosting_transition_ms: 7,
            ..Faults::default()
        };
        let e = FaultEngine::new(f).unwrap();
        assert_eq!(e.start_outcome("blue.v2"), (7, Some("no capacity".into())));
        assert_eq!(e.start_outcome("green-3").1.as_deref(), Some("no capacity"));
        assert_eq!(e.start_outcome("blue.v20"), (7, None));
        let bad = FaultEngine::new(Faults {
            start_fail_versions: vec!["(".into()],
            ..Faults::default()
        });
        assert!(matches!(
            bad,
            Err(FaultsError::Pattern {
                field: "start_fail_versions",
                ..
            })
        ));
    }

    #[test]
    fn fault_settings_without_the_start_fields_still_parse() {
        let f: Faults = serde_json::from_str(r#"{"copy_duration_ms": 5}"#).unwrap();
        assert!(f.start_fail_versions.is_empty());
        assert!(!f.start_failure_message.is_empty());
    }
}
