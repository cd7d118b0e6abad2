//! The sandbox's model of the world (accounts, roles, STS sessions, and per account and region the
//! Rekognition projects, versions and policies) and its persistence to a `--state` file.
//!
//! Everything here is plain data plus a few lookups; the wire formats live in `rekognition/` and
//! `sts.rs`, the rules about who may touch what in those handlers and in `iam_policy.rs`. Status
//! transitions that take time (training, copying, starting, stopping) are stored as a `Pending`
//! change with a due time and applied lazily when the version is next read, so that they come out
//! right after a restart without any timer having to survive it.
//!
//! Every status change of every version is also appended to the world's [`StatusHistory`]
//! (`GET /_sandbox/history`), a lazily applied change with its due time rather than the time it
//! was observed. The history lives in memory only: it is not written to the `--state` file, and
//! versions that came from the seed or an earlier run have no creation row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Wall-clock now in epoch milliseconds.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Epoch milliseconds as the fractional epoch seconds the JSON protocol carries.
pub fn millis_to_secs(millis: u64) -> f64 {
    millis as f64 / 1000.0
}

/// The whole sandbox state. Persisted as JSON; also what `GET /_sandbox/state` returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct World {
    /// Accounts by 12-digit id.
    pub accounts: BTreeMap<String, Account>,
    /// IAM roles by ARN.
    pub roles: BTreeMap<String, Role>,
    /// Temporary credentials issued by AssumeRole, by access key id.
    pub sessions: BTreeMap<String, Session>,
    /// Rekognition resources: account id → region → state.
    pub rekognition: BTreeMap<String, BTreeMap<String, RegionState>>,
    /// Every status change of every version since the start or the last reset (not persisted).
    #[serde(skip)]
    pub history: StatusHistory,
}

/// One status change of a project version: a row of `GET /_sandbox/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusChange {
    /// The version's ARN.
    pub arn: String,
    /// The status it entered (`DELETING` for a deletion, after which it is gone).
    pub status: VersionStatus,
    /// When, on the sandbox's Rekognition clock (epoch milliseconds): a timed change's due
    /// time, however late it was observed.
    pub at_ms: u64,
    /// Global insertion counter: orders changes recorded for the same millisecond.
    pub seq: u64,
}

/// The status changes of all versions, in insertion order.
#[derive(Debug, Clone, Default)]
pub struct StatusHistory {
    rows: Vec<StatusChange>,
}

impl StatusHistory {
    /// Records that `arn` entered `status` at `at_ms`.
    pub fn record(&mut self, arn: &str, status: VersionStatus, at_ms: u64) {
        let seq = self.rows.len() as u64;
        self.rows.push(StatusChange {
            arn: arn.to_string(),
            status,
            at_ms,
            seq,
        });
    }

    /// Every change, ordered by (`at_ms`, `seq`).
    pub fn ordered(&self) -> Vec<StatusChange> {
        let mut rows = self.rows.clone();
        rows.sort_by_key(|r| (r.at_ms, r.seq));
        rows
    }
}

/// An AWS account and the long-term key of its ambient identity (an IAM user).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// The IAM user the ambient key belongs to (`arn:aws:iam::ID:user/USER_NAME`).
    pub user_name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Account {
    pub fn user_arn(&self) -> String {
        format!("arn:aws:iam::{}:user/{}", self.id, self.user_name)
    }
}

/// An IAM role that AssumeRole can hand out sessions for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub arn: String,
    pub account_id: String,
    pub name: String,
    /// Principals the trust policy admits: account ids, `arn:aws:iam::ID:root`, user or role ARNs.
    pub trusted: Vec<String>,
    /// The `sts:ExternalId` the trust policy requires, if any.
    pub external_id: Option<String>,
    /// Longest session in seconds (IAM's MaxSessionDuration, 3600..=43200).
    pub max_session_duration: u32,
    /// The role's unique id (`AROA...`), used in AssumedRoleId.
    pub role_id: String,
}

/// Temporary credentials from AssumeRole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub account_id: String,
    pub role_arn: String,
    pub role_name: String,
    pub role_id: String,
    pub session_name: String,
    /// Expiry in epoch milliseconds.
    pub expiration_millis: u64,
}

impl Session {
    pub fn assumed_role_arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account_id, self.role_name, self.session_name
        )
    }
}

/// Rekognition resources of one account in one region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RegionState {
    pub projects: BTreeMap<String, Project>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    pub arn: String,
    pub created_millis: u64,
    #[serde(default)]
    pub feature: Feature,
    /// Set for adapters only (`AutoUpdate` applies to them alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_update: Option<AutoUpdate>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub versions: BTreeMap<String, Version>,
    #[serde(default)]
    pub policies: BTreeMap<String, Policy>,
}

/// `CustomizationFeature`: what a project customizes. `CONTENT_MODERATION` projects hold
/// adapters, which CopyProjectVersion and project policies do not apply to.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Feature {
    #[default]
    CustomLabels,
    ContentModeration,
}

impl Feature {
    /// Every value, in the service model's order.
    pub const ALL: [Feature; 2] = [Feature::ContentModeration, Feature::CustomLabels];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomLabels => "CUSTOM_LABELS",
            Self::ContentModeration => "CONTENT_MODERATION",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// `ProjectAutoUpdate`: whether an adapter is retrained automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AutoUpdate {
    Enabled,
    Disabled,
}

impl AutoUpdate {
    pub const ALL: [AutoUpdate; 2] = [AutoUpdate::Enabled, AutoUpdate::Disabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// `ProjectVersionStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VersionStatus {
    TrainingInProgress,
    TrainingCompleted,
    TrainingFailed,
    Starting,
    Running,
    Failed,
    Stopping,
    Stopped,
    Deleting,
    CopyingInProgress,
    CopyingCompleted,
    CopyingFailed,
    Deprecated,
    Expired,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrainingInProgress => "TRAINING_IN_PROGRESS",
            Self::TrainingCompleted => "TRAINING_COMPLETED",
            Self::TrainingFailed => "TRAINING_FAILED",
            Self::Starting => "STARTING",
            Self::Running => "RUNNING",
            Self::Failed => "FAILED",
            Self::Stopping => "STOPPING",
            Self::Stopped => "STOPPED",
            Self::Deleting => "DELETING",
            Self::CopyingInProgress => "COPYING_IN_PROGRESS",
            Self::CopyingCompleted => "COPYING_COMPLETED",
            Self::CopyingFailed => "COPYING_FAILED",
            Self::Deprecated => "DEPRECATED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Whether a model with this status holds trained artefacts that CopyProjectVersion can copy.
    pub fn is_copyable(self) -> bool {
        matches!(
            self,
            Self::TrainingCompleted
                | Self::CopyingCompleted
                | Self::Running
                | Self::Stopped
                | Self::Starting
                | Self::Stopping
        )
    }
}

/// An S3 object reference (`S3Object`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct S3Object {
    pub bucket: String,
    pub name: String,
}

/// A status change that becomes true at `due_millis`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub due_millis: u64,
    pub status: VersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Set when the change ends a training run (fills TrainingEndTimestamp and the evaluation).
    #[serde(default)]
    pub ends_training: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub name: String,
    pub arn: String,
    pub created_millis: u64,
    pub status: VersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<S3Object>,
    /// OutputConfig as received (`S3Bucket`, `S3KeyPrefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_end_millis: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_training_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_inference_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_inference_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

impl Version {
    /// Applies a due pending change, recording it in `history` at its due time. Returns whether
    /// anything changed.
    pub fn settle(&mut self, now: u64, history: &mut StatusHistory) -> bool {
        match &self.pending {
            Some(p) if p.due_millis <= now => {
                let p = self.pending.take().expect("matched Some above");
                history.record(&self.arn, p.status, p.due_millis);
                self.status = p.status;
                self.status_message = p.status_message;
                if p.ends_training {
                    self.training_end_millis = Some(p.due_millis);
                    self.billable_training_seconds =
                        Some(p.due_millis.saturating_sub(self.created_millis) / 1000);
                }
                true
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub revision_id: String,
    pub document: String,
    pub created_millis: u64,
    pub updated_millis: u64,
}

impl World {
    pub fn region(&self, account: &str, region: &str) -> Option<&RegionState> {
        self.rekognition.get(account)?.get(region)
    }

    pub fn region_mut(&mut self, account: &str, region: &str) -> &mut RegionState {
        self.rekognition
            .entry(account.to_string())
            .or_default()
            .entry(region.to_string())
            .or_default()
    }

    pub fn project(&self, account: &str, region: &str, name: &str) -> Option<&Project> {
        self.region(account, region)?.projects.get(name)
    }

    pub fn project_mut(&mut self, account: &str, region: &str, name: &str) -> Option<&mut Project> {
        self.rekognition
            .get_mut(account)?
            .get_mut(region)?
            .projects
            .get_mut(name)
    }

    /// Applies every due pending change; returns whether anything changed.
    pub fn settle_all(&mut self, now: u64) -> bool {
        let mut changed = false;
        for regions in self.rekognition.values_mut() {
            for region in regions.values_mut() {
                for project in region.projects.values_mut() {
                    for version in project.versions.values_mut() {
                        changed |= version.settle(now, &mut self.history);
                    }
                }
            }
        }
        changed
    }

    /// Applies the due pending changes of one project's versions (none if it does not exist).
    pub fn settle_project(&mut self, account: &str, region: &str, name: &str, now: u64) {
        let Self {
            rekognition,
            history,
            ..
        } = self;
        let project = rekognition
            .get_mut(account)
            .and_then(|r| r.get_mut(region))
            .and_then(|r| r.projects.get_mut(name));
        for version in project.into_iter().flat_map(|p| p.versions.values_mut()) {
            version.settle(now, history);
        }
    }

    /// The account owning a long-term access key.
    pub fn account_by_key(&self, access_key_id: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.access_key_id == access_key_id)
    }
}

/// Errors reading or writing the `--state` file.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path} is not a sandbox state: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Loads a state file, `Ok(None)` when it does not exist yet.
pub fn load(path: &Path) -> Result<Option<World>, PersistError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| PersistError::Parse {
                    path: path.into(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PersistError::Read {
            path: path.into(),
            source,
        }),
    }
}

/// Writes the state atomically: a uniquely named temporary file beside the target (created
/// readable by the owner only, as it holds every secret key), then a rename, so a crash leaves
/// either the old or the new state, never half of one, and no other process can have prepared or
/// opened the temporary file.
pub fn save(path: &Path, world: &World) -> Result<(), PersistError> {
    use std::io::Write;
    let err = |source| PersistError::Write {
        path: path.into(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(world).map_err(|e| err(std::io::Error::other(e)))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".sandbox-state-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(&bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
