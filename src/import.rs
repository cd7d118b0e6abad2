//! Import: turns the copies that already exist in an account's projects into Promotion
//! manifests, so that adopting reko-promote on an existing organisation starts from a plan with
//! nothing to do.
//!
//! Live versions are read with the destination account's session (`aws::Sessions`), through
//! `aws::describe_project_versions` (its paging) and `state::LiveVersion` (its conversion); source
//! ARNs are parsed by `constraints::ProjectVersionArn`; each version copied from another
//! project (it has a `SourceProjectVersionArn`) becomes one version entry, with its exact output
//! config and KMS key, grouped into one Promotion per source project. Source accounts are
//! resolved among the accounts the given manifests declare. Versions trained in place, failed
//! copies and sources of undeclared accounts are skipped with a note. Tags are not read (plan
//! does not compare them). Writing the files is left to the caller (`cli::import`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use crate::aws::describe_project_versions::{Versions, describe_project_versions};
use crate::aws::describe_projects::describe_projects;
use crate::aws::session::SessionError;
use crate::aws::{AwsContext, AwsError, CallSite, Sessions};
use crate::constraints::ProjectVersionArn;
use crate::desired::{Account, DesiredState};
use crate::state::{LiveVersion, VersionStatus};

/// The schema modeline written on the first line of every manifest imported into `out_dir`: the
/// checkout's `schemas/` relative to it when there is one, else this release's schema asset.
pub fn modeline(out_dir: &Path) -> String {
    use crate::manifest::schema::{MANIFEST_SCHEMA_FILE, reference_from};
    format!(
        "# yaml-language-server: $schema={}",
        reference_from(out_dir, MANIFEST_SCHEMA_FILE)
    )
}

/// Why an import could not run.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("account `{0}` is not declared in the manifests")]
    UnknownAccount(String),
    #[error("{0}")]
    Session(SessionError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("project `{project}` does not exist in account {account} ({region})")]
    NoProject {
        account: String,
        project: String,
        region: String,
    },
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The destination account's name.
    pub account: String,
    pub projects: Vec<String>,
    /// Only versions copied from this account (its name).
    pub source_account: Option<String>,
    pub region: String,
}

/// One imported copy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedVersion {
    pub source_account: String,
    pub source_project: String,
    pub source_version: String,
    pub destination_project: String,
    pub version_name: String,
    pub version: LiveVersion,
}

/// The result: imported copies and the versions left out, with why.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub region: String,
    pub destination_account: String,
    pub versions: Vec<ImportedVersion>,
    /// `project/version: reason`.
    pub skipped: Vec<String>,
}

/// Reads the versions of `request.projects` in the destination account.
pub async fn read(
    ctx: &AwsContext,
    desired: &DesiredState,
    request: &ImportRequest,
) -> Result<Imported, ImportError> {
    let account = desired
        .account(&request.account)
        .ok_or_else(|| ImportError::UnknownAccount(request.account.clone()))?
        .clone();
    let only_source: Option<&Account> = match &request.source_account {
        Some(name) => Some(
            desired
                .account(name)
                .ok_or_else(|| ImportError::UnknownAccount(name.clone()))?,
        ),
        None => None,
    };
    let sessions = Sessions::open(ctx, std::slice::from_ref(&account), &request.region).await;
    let session = sessions.get(&account.name).map_err(ImportError::Session)?;
    let site = CallSite::from(&account);
    let client = session.rekognition(&request.region);
    let projects = describe_projects(ctx, &client, site, &request.projects).await?;
    let mut imported = Imported {
        region: request.region.clone(),
        destination_account: account.name.clone(),
        ..Imported::default()
    };
    for name in &request.projects {
        let project_arn = projects
            .get(name)
            .and_then(|p| p.project_arn())
            .ok_or_else(|| ImportError::NoProject {
                account: account.name.clone(),
                project: name.clone(),
                region: request.region.clone(),
            })?;
        let versions =
            describe_project_versions(ctx, &client, site, project_arn, Versions::All).await?;
        for (version_name, version) in LiveVersion::all_from(versions) {
            let skip = |why: String| format!("{name}/{version_name}: {why}");
            let Some(source_arn) = version.source_project_version_arn.clone() else {
                imported
                    .skipped
                    .push(skip("trained in place (no source version)".into()));
                continue;
            };
            if matches!(
                version.status,
                VersionStatus::TrainingFailed
                    | VersionStatus::CopyingFailed
                    | VersionStatus::Deleting
            ) {
                imported
                    .skipped
                    .push(skip(format!("status {}", version.status)));
                continue;
            }
            let Ok(ProjectVersionArn {
                account_id: source_account_id,
                project: source_project,
                version: source_version,
                ..
            }) = ProjectVersionArn::parse(&source_arn)
            else {
                imported
                    .skipped
                    .push(skip(format!("unreadable source ARN {source_arn}")));
                continue;
            };
            let Some(source) = desired
                .accounts
                .iter()
                .find(|a| a.account_id == source_account_id)
            else {
                imported.skipped.push(skip(format!(
                    "source account {source_account_id} is not declared in the manifests"
                )));
                continue;
            };
            if only_source.is_some_and(|s| s.name != source.name) {
                imported
                    .skipped
                    .push(skip(format!("copied from account {}", source.name)));
                continue;
            }
            imported.versions.push(ImportedVersion {
                source_account: source.name.clone(),
                source_project,
                source_version,
                destination_project: name.clone(),
                version_name,
                version,
            });
        }
    }
    Ok(imported)
}

/// The manifests (file name → YAML text) declaring the imported copies: one Promotion per
/// source project, named after the destination account and the source project (promotion names
/// are unique across files, and one import per account must not collide with the next), one
/// destination per destination project, and every version entry stating its output config and
/// KMS key exactly as AWS reports them (so plan finds no drift).
pub fn manifests(imported: &Imported, out_dir: &Path) -> BTreeMap<String, String> {
    let modeline = modeline(out_dir);
    let mut by_source: BTreeMap<(String, String), Vec<&ImportedVersion>> = BTreeMap::new();
    for v in &imported.versions {
        by_source
            .entry((v.source_account.clone(), v.source_project.clone()))
            .or_default()
            .push(v);
    }
    let same_name_sources = |project: &str| by_source.keys().filter(|(_, p)| p == project).count();
    let mut files = BTreeMap::new();
    for ((source_account, source_project), versions) in &by_source {
        let name = if same_name_sources(source_project) > 1 {
            format!(
                "{}-{source_project}-from-{source_account}",
                imported.destination_account
            )
        } else {
            format!("{}-{source_project}", imported.destination_account)
        };
        let destination_key = |project: &str| format!("{}-{project}", imported.destination_account);
        let mut destinations = Mapping::new();
        let mut entries = Vec::new();
        for v in versions {
            let key = destination_key(&v.destination_project);
            destinations.insert(
                key.clone().into(),
                map([
                    ("account", imported.destination_account.clone().into()),
                    ("project", v.destination_project.clone().into()),
                ]),
            );
            let mut entry = Mapping::new();
            entry.insert("version".into(), v.source_version.clone().into());
            entry.insert("versionName".into(), v.version_name.clone().into());
            entry.insert("to".into(), Value::Sequence(vec![key.into()]));
            if let Some(output) = &v.version.output_config {
                let mut config = Mapping::new();
                config.insert("s3Bucket".into(), output.s3_bucket.clone().into());
                if let Some(prefix) = &output.s3_key_prefix {
                    config.insert("s3KeyPrefix".into(), prefix.clone().into());
                }
                entry.insert("outputConfig".into(), Value::Mapping(config));
            }
            if let Some(key) = &v.version.kms_key_id {
                entry.insert("kmsKeyId".into(), key.clone().into());
            }
            entries.push(Value::Mapping(entry));
        }
        let document = map([
            ("apiVersion", "reko-promote/v1".into()),
            ("kind", "Promotion".into()),
            ("name", name.clone().into()),
            (
                "description",
                format!(
                    "Imported from the copies in account {} by `reko-promote import`",
                    imported.destination_account
                )
                .into(),
            ),
            ("region", imported.region.clone().into()),
            (
                "source",
                map([
                    ("account", source_account.clone().into()),
                    ("project", source_project.clone().into()),
                ]),
            ),
            ("versions", Value::Sequence(entries)),
            ("destinations", Value::Mapping(destinations)),
        ]);
        let yaml = serde_yaml::to_string(&document).expect("YAML values serialize");
        files.insert(
            format!("{name}.yaml"),
            format!(
                "{modeline}\n#\n# Written by `reko-promote import`; review, then commit.\n{yaml}"
            ),
        );
    }
    files
}

/// A YAML mapping with its keys in the given order (the order manifests are written in).
fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Mapping(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}
