//! The seed: what the sandbox holds at start (accounts and their keys, IAM roles, projects,
//! trained versions, project policies, faults), read from a YAML file or, without `--seed`, the
//! default organisation the demo, the examples and the tests rely on.
//!
//! The YAML format is documented in `docs/sandbox.md` with `examples/sandbox-seed.yaml` as a full
//! example. This module only builds a [`World`] from a seed and checks the seed's values with the
//! shared `constraints`; serving requests is left to the rest of the sandbox.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::faults::Faults;
use super::iam_policy;
use super::state::{
    Account, AutoUpdate, Feature, Pending, Policy, Project, Role, S3Object, Version, VersionStatus,
    World,
};
use crate::constraints;

/// Region of the default organisation (and of seed projects that name none).
pub const DEFAULT_REGION: &str = "eu-west-1";
/// The CI identity: only an ambient key, no projects.
pub const CI_ACCOUNT: &str = "444444444444";
/// The source account where models are trained.
pub const ML_ACCOUNT: &str = "111111111111";
pub const STAGING_ACCOUNT: &str = "222222222222";
pub const PROD_ACCOUNT: &str = "333333333333";
/// Name of the role each target account has, trusting [`CI_ACCOUNT`].
pub const ROLE_NAME: &str = "reko-promote";
/// ExternalId the prod role requires.
pub const PROD_EXTERNAL_ID: &str = "reko-promote-prod";

pub const CI_ACCESS_KEY_ID: &str = "AKIASANDBOXCI0000001";
pub const CI_SECRET_ACCESS_KEY: &str = "sandboxCiSecretKey0000000000000000000001";
pub const ML_ACCESS_KEY_ID: &str = "AKIASANDBOXML0000001";
pub const ML_SECRET_ACCESS_KEY: &str = "sandboxMlSecretKey0000000000000000000001";
pub const STAGING_ACCESS_KEY_ID: &str = "AKIASANDBOXST0000001";
pub const STAGING_SECRET_ACCESS_KEY: &str = "sandboxStagingSecretKey00000000000000001";
pub const PROD_ACCESS_KEY_ID: &str = "AKIASANDBOXPR0000001";
pub const PROD_SECRET_ACCESS_KEY: &str = "sandboxProdSecretKey00000000000000000001";

pub const DEFECT_DETECTOR: &str = "defect-detector";
pub const LABEL_READER: &str = "label-reader";
pub const DEFECT_V1: &str = "defect-detector.2026-11-01T10.00.00";
pub const DEFECT_V2: &str = "defect-detector.2026-11-15T09.30.00";
pub const DEFECT_V3_FAILED: &str = "defect-detector.2026-11-20T08.00.00";
pub const LABEL_V1: &str = "label-reader.v1";
/// The policy on ml's `label-reader` letting staging copy `label-reader.v1`.
pub const LABEL_READER_POLICY: &str = "reko-promote-staging";

/// Creation times of the default projects (so their ARNs are stable across runs).
pub const ML_PROJECTS_CREATED: &str = "2026-10-01T00:00:00Z";
pub const TARGET_PROJECTS_CREATED: &str = "2026-10-02T00:00:00Z";

/// The role ARN of the default organisation in `account`.
pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE_NAME}")
}

/// A seed file.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Region for projects that name none (default `eu-west-1`).
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub accounts: Vec<SeedAccount>,
    #[serde(default)]
    pub roles: Vec<SeedRole>,
    #[serde(default)]
    pub projects: Vec<SeedProject>,
    #[serde(default)]
    pub faults: Faults,
}

fn default_region() -> String {
    DEFAULT_REGION.to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    pub id: String,
    pub name: String,
    /// IAM user of the ambient key; defaults to `name`.
    #[serde(default)]
    pub user_name: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedRole {
    pub arn: String,
    /// Principals the trust policy admits: account ids, `arn:aws:iam::ID:root`, user/role ARNs.
    pub trusted: Vec<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    /// Seconds, 3600..=43200 (default 3600).
    #[serde(default)]
    pub max_session_duration: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedProject {
    pub account: String,
    #[serde(default)]
    pub region: Option<String>,
    pub name: String,
    /// RFC 3339; fixes the ARN's creation millis (default: 2026-10-01T00:00:00Z).
    #[serde(default)]
    pub created: Option<String>,
    /// What the project customizes: `CUSTOM_LABELS` (default) or `CONTENT_MODERATION` (an
    /// adapter project, which CopyProjectVersion and project policies do not apply to).
    #[serde(default)]
    pub feature: Feature,
    /// Adapters only: whether they are retrained automatically (default `DISABLED`).
    #[serde(default)]
    pub auto_update: Option<AutoUpdate>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub versions: Vec<SeedVersion>,
    #[serde(default)]
    pub policies: Vec<SeedPolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedVersion {
    pub name: String,
    #[serde(default = "default_status")]
    pub status: VersionStatus,
    #[serde(default)]
    pub f1_score: Option<f64>,
    /// RFC 3339 (default: the project's creation time plus one day per version index).
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_status() -> VersionStatus {
    VersionStatus::TrainingCompleted
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedPolicy {
    pub name: String,
    /// The policy: a JSON string, or a YAML mapping that is serialised to JSON.
    #[schemars(with = "serde_json::Value")]
    pub document: serde_yaml::Value,
}

/// Why a seed cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("seed file {path} is not valid: {source}")]
    Parse {
        path: String,
        source: serde_yaml::Error,
    },
    #[error("seed: {0}")]
    Invalid(String),
}

impl Seed {
    /// Reads and checks a seed file.
    pub fn from_file(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let seed: Seed = serde_yaml::from_str(&text).map_err(|source| SeedError::Parse {
            path: path.display().to_string(),
            source,
        })?;
        seed.to_world()?;
        Ok(seed)
    }

    /// The account of a given name (e.g. `ci`).
    pub fn account(&self, name: &str) -> Option<&SeedAccount> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// Builds the initial world, checking every value.
    pub fn to_world(&self) -> Result<World, SeedError> {
        let bad = |what: String| SeedError::Invalid(what);
        constraints::check_region(&self.region)
            .map_err(|e| bad(format!("region `{}`: {e}", self.region)))?;
        let mut world = World::default();
        for a in &self.accounts {
            constraints::check_account_id(&a.id)
                .map_err(|e| bad(format!("account `{}` id: {e}", a.name)))?;
            if a.access_key_id.len() < 16
                || !a.access_key_id.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(bad(format!(
                    "account `{}`: access_key_id must be 16 to 128 letters and digits",
                    a.name
                )));
            }
            if a.secret_access_key.is_empty() {
                return Err(bad(format!(
                    "account `{}`: empty secret_access_key",
                    a.name
                )));
            }
            if world.account_by_key(&a.access_key_id).is_some() {
                return Err(bad(format!("access key {} used twice", a.access_key_id)));
            }
            let prev = world.accounts.insert(
                a.id.clone(),
                Account {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    user_name: a.user_name.clone().unwrap_or_else(|| a.name.clone()),
                    access_key_id: a.access_key_id.clone(),
                    secret_access_key: a.secret_access_key.clone(),
                },
            );
            if prev.is_some() {
                return Err(bad(format!("account {} listed twice", a.id)));
            }
        }
        for r in &self.roles {
            let arn = constraints::RoleArn::parse(&r.arn)
                .map_err(|e| bad(format!("role `{}`: {e}", r.arn)))?;
            if let Some(x) = &r.external_id {
                constraints::check_external_id(x)
                    .map_err(|e| bad(format!("role `{}` external_id: {e}", r.arn)))?;
            }
            let max = r.max_session_duration.unwrap_or(3600);
            if !(3600..=43200).contains(&max) {
                return Err(bad(format!(
                    "role `{}`: max_session_duration must be 3600 to 43200 seconds",
                    r.arn
                )));
            }
            world.roles.insert(
                r.arn.clone(),
                Role {
                    arn: r.arn.clone(),
                    account_id: arn.account_id.clone(),
                    name: arn.name.clone(),
                    trusted: r.trusted.clone(),
                    external_id: r.external_id.clone(),
                    max_session_duration: max,
                    role_id: unique_id("AROA", &r.arn),
                },
            );
        }
        for p in &self.projects {
            let region = p.region.clone().unwrap_or_else(|| self.region.clone());
            constraints::check_region(&region)
                .map_err(|e| bad(format!("project `{}` region: {e}", p.name)))?;
            constraints::check_name(&p.name)
                .map_err(|e| bad(format!("project name `{}`: {e}", p.name)))?;
            if !world.accounts.contains_key(&p.account) {
                return Err(bad(format!(
                    "project `{}` names account {} which is not in `accounts`",
                    p.name, p.account
                )));
            }
            let created = parse_time(p.created.as_deref().unwrap_or(ML_PROJECTS_CREATED))
                .map_err(|e| bad(format!("project `{}` created: {e}", p.name)))?;
            let partition = constraints::partition_of_region(&region);
            let arn = format!(
                "arn:{partition}:rekognition:{region}:{}:project/{}/{created}",
                p.account, p.name
            );
            let mut project = Project {
                name: p.name.clone(),
                arn: arn.clone(),
                created_millis: created,
                feature: p.feature,
                auto_update: match (p.feature, p.auto_update) {
                    (Feature::CustomLabels, None) => None,
                    (Feature::CustomLabels, Some(_)) => {
                        return Err(bad(format!(
                            "project `{}`: auto_update applies only to CONTENT_MODERATION projects",
                            p.name
                        )));
                    }
                    (Feature::ContentModeration, auto) => {
                        Some(auto.unwrap_or(AutoUpdate::Disabled))
                    }
                },
                tags: p.tags.clone(),
                versions: BTreeMap::new(),
                policies: BTreeMap::new(),
            };
            for (i, v) in p.versions.iter().enumerate() {
                constraints::check_name(&v.name)
                    .map_err(|e| bad(format!("version name `{}`: {e}", v.name)))?;
                let vcreated = match &v.created {
                    Some(t) => parse_time(t)
                        .map_err(|e| bad(format!("version `{}` created: {e}", v.name)))?,
                    None => created + 86_400_000 * (i as u64 + 1),
                };
                project
                    .versions
                    .insert(v.name.clone(), seed_version(&project, v, vcreated));
            }
            for pol in &p.policies {
                constraints::check_policy_name(&pol.name)
                    .map_err(|e| bad(format!("policy name `{}`: {e}", pol.name)))?;
                let document = match &pol.document {
                    serde_yaml::Value::String(s) => s.clone(),
                    other => serde_json::to_string(other)
                        .map_err(|e| bad(format!("policy `{}`: {e}", pol.name)))?,
                };
                if p.feature != Feature::CustomLabels {
                    return Err(bad(format!(
                        "project `{}`: policies apply only to CUSTOM_LABELS projects",
                        p.name
                    )));
                }
                iam_policy::project_policy(&document)
                    .map_err(|e| bad(format!("policy `{}`: {e}", pol.name)))?;
                project.policies.insert(
                    pol.name.clone(),
                    Policy {
                        name: pol.name.clone(),
                        revision_id: revision_id(&format!("{arn}/{}/{document}", pol.name)),
                        document,
                        created_millis: created,
                        updated_millis: created,
                    },
                );
            }
            let rs = world.region_mut(&p.account, &region);
            if rs.projects.insert(p.name.clone(), project).is_some() {
                return Err(bad(format!(
                    "project `{}` listed twice in {} {region}",
                    p.name, p.account
                )));
            }
        }
        Ok(world)
    }
}

fn seed_version(project: &Project, v: &SeedVersion, created: u64) -> Version {
    let arn = format!(
        "{}/version/{}/{created}",
        project
            .arn
            .rsplit_once('/')
            .map(|(a, _)| a)
            .unwrap_or(&project.arn),
        v.name
    );
    let trained = !matches!(
        v.status,
        VersionStatus::TrainingFailed | VersionStatus::TrainingInProgress
    );
    let bucket = format!("sandbox-{}-models", project.name);
    Version {
        name: v.name.clone(),
        arn,
        created_millis: created,
        status: v.status,
        status_message: v.status_message.clone().or_else(|| {
            (v.status == VersionStatus::TrainingFailed)
                .then(|| "The manifest file contains too many invalid data lines.".to_string())
        }),
        f1_score: if trained { v.f1_score } else { None },
        summary: trained.then(|| S3Object {
            bucket: bucket.clone(),
            name: format!(
                "output/EvaluationResultSummary-{}-{}.json",
                project.name, v.name
            ),
        }),
        output_bucket: Some(bucket),
        output_prefix: Some("output/".into()),
        kms_key_id: None,
        source_version_arn: None,
        description: None,
        tags: v.tags.clone(),
        training_end_millis: (v.status != VersionStatus::TrainingInProgress)
            .then_some(created + 3_600_000),
        billable_training_seconds: (v.status != VersionStatus::TrainingInProgress).then_some(3600),
        min_inference_units: None,
        max_inference_units: None,
        pending: None::<Pending>,
    }
}

/// Parses an RFC 3339 time to epoch millis.
pub fn parse_time(s: &str) -> Result<u64, String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{s}` is not an RFC 3339 time: {e}"))?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| format!("`{s}` is before 1970"))
}

/// A stable IAM-style unique id (`AIDA...`, `AROA...`) derived from an ARN.
pub fn unique_id(prefix: &str, arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(arn.as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// A policy revision id: 32 hex digits.
pub fn revision_id(material: &str) -> String {
    hex::encode(&Sha256::digest(material.as_bytes())[..16])
}

/// The default organisation: see the module constants and `docs/sandbox.md`.
pub fn default_organisation() -> Seed {
    let account = |id: &str, name: &str, key: &str, secret: &str| SeedAccount {
        id: id.into(),
        name: name.into(),
        user_name: None,
        access_key_id: key.into(),
        secret_access_key: secret.into(),
    };
    let role = |acct: &str, external_id: Option<&str>| SeedRole {
        arn: role_arn(acct),
        trusted: vec![CI_ACCOUNT.into()],
        external_id: external_id.map(Into::into),
        max_session_duration: Some(3600),
    };
    let version = |name: &str, status, f1: Option<f64>, created: &str| SeedVersion {
        name: name.into(),
        status,
        f1_score: f1,
        created: Some(created.into()),
        status_message: None,
        tags: BTreeMap::new(),
    };
    let empty = |acct: &str, name: &str| SeedProject {
        account: acct.into(),
        region: None,
        name: name.into(),
        created: Some(TARGET_PROJECTS_CREATED.into()),
        feature: Feature::CustomLabels,
        auto_update: None,
        tags: BTreeMap::new(),
        versions: vec![],
        policies: vec![],
    };
    let label_v1_created = "2026-10-10T12:00:00Z";
    let label_v1_arn = format!(
        "arn:aws:rekognition:{DEFAULT_REGION}:{ML_ACCOUNT}:project/{LABEL_READER}/version/{LABEL_V1}/{}",
        parse_time(label_v1_created).unwrap_or_default()
    );
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowStagingToCopy",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{STAGING_ACCOUNT}:root")},
            "Action": "rekognition:CopyProjectVersion",
            "Resource": label_v1_arn,
        }]
    });
    Seed {
        region: DEFAULT_REGION.into(),
        accounts: vec![
            account(CI_ACCOUNT, "ci", CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY),
            account(ML_ACCOUNT, "ml", ML_ACCESS_KEY_ID, ML_SECRET_ACCESS_KEY),
            account(
                STAGING_ACCOUNT,
                "staging",
                STAGING_ACCESS_KEY_ID,
                STAGING_SECRET_ACCESS_KEY,
            ),
            account(
                PROD_ACCOUNT,
                "prod",
                PROD_ACCESS_KEY_ID,
                PROD_SECRET_ACCESS_KEY,
            ),
        ],
        roles: vec![
            role(ML_ACCOUNT, None),
            role(STAGING_ACCOUNT, None),
            role(PROD_ACCOUNT, Some(PROD_EXTERNAL_ID)),
        ],
        projects: vec![
            SeedProject {
                account: ML_ACCOUNT.into(),
                region: None,
                name: DEFECT_DETECTOR.into(),
                created: Some(ML_PROJECTS_CREATED.into()),
                feature: Feature::CustomLabels,
                auto_update: None,
                tags: BTreeMap::new(),
                versions: vec![
                    version(
                        DEFECT_V1,
                        VersionStatus::TrainingCompleted,
                        Some(0.912),
                        "2026-11-01T10:00:00Z",
                    ),
                    version(
                        DEFECT_V2,
                        VersionStatus::TrainingCompleted,
                        Some(0.947),
                        "2026-11-15T09:30:00Z",
                    ),
                    version(
                        DEFECT_V3_FAILED,
                        VersionStatus::TrainingFailed,
                        None,
                        "2026-11-20T08:00:00Z",
                    ),
                ],
                policies: vec![],
            },
            SeedProject {
                account: ML_ACCOUNT.into(),
                region: None,
                name: LABEL_READER.into(),
                created: Some(ML_PROJECTS_CREATED.into()),
                feature: Feature::CustomLabels,
                auto_update: None,
                tags: BTreeMap::new(),
                versions: vec![version(
                    LABEL_V1,
                    VersionStatus::TrainingCompleted,
                    Some(0.88),
                    label_v1_created,
                )],
                policies: vec![SeedPolicy {
                    name: LABEL_READER_POLICY.into(),
                    document: serde_yaml::Value::String(policy.to_string()),
                }],
            },
            empty(STAGING_ACCOUNT, DEFECT_DETECTOR),
            empty(STAGING_ACCOUNT, LABEL_READER),
            empty(PROD_ACCOUNT, DEFECT_DETECTOR),
            empty(PROD_ACCOUNT, LABEL_READER),
        ],
        faults: Faults::default(),
    }
}

/// The ARN of a project of the default organisation.
pub fn default_project_arn(account: &str, project: &str) -> String {
    let created = if account == ML_ACCOUNT {
        ML_PROJECTS_CREATED
    } else {
        TARGET_PROJECTS_CREATED
    };
    format!(
        "arn:aws:rekognition:{DEFAULT_REGION}:{account}:project/{project}/{}",
        parse_time(created).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keys_have_aws_lengths() {
        for a in default_organisation().accounts {
            assert_eq!(a.access_key_id.len(), 20, "{}", a.name);
            assert_eq!(a.secret_access_key.len(), 40, "{}", a.name);
        }
    }

    #[test]
    fn default_organisation_builds() {
        let world = default_organisation().to_world().unwrap();
        let p = world
            .project(ML_ACCOUNT, DEFAULT_REGION, LABEL_READER)
            .unwrap();
        assert_eq!(p.arn, default_project_arn(ML_ACCOUNT, LABEL_READER));
        assert_eq!(p.policies.len(), 1);
        let v = &world
            .project(ML_ACCOUNT, DEFAULT_REGION, DEFECT_DETECTOR)
            .unwrap()
            .versions[DEFECT_V2];
        assert_eq!(v.f1_score, Some(0.947));
        assert!(v.arn.starts_with(
            "arn:aws:rekognition:eu-west-1:111111111111:project/defect-detector/version/defect-detector.2026-11-15T09.30.00/"
        ));
    }
}
