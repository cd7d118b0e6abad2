//! Reading live state through the AWS SDK, with the fewest calls the API allows.
//!
//! What the placements need is gathered first and de-duplicated across manifests: per account
//! and region the project names (one DescribeProjects per 10 names), per project the version
//! names (one DescribeProjectVersions per 10 names, pages followed), and the policies of source
//! projects that cross-account copies come from (ListProjectPolicies). Projects are read first
//! (their ARNs are needed for the rest), then versions and policies, all concurrently under the
//! run's limits. A failing account or project is recorded, never fatal: the plan marks what it
//! touches as unknown and goes on.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::describe_project_versions::describe_project_versions;
use crate::aws::describe_projects::describe_projects;
use crate::aws::list_project_policies::list_project_policies;
use crate::aws::{AwsContext, Sessions};
use crate::desired::DesiredState;

use super::{LiveState, ProjectKey};

/// What must be read for a desired state.
#[derive(Debug, Default)]
pub struct Needs {
    /// (account name, region) → project names.
    pub projects: BTreeMap<(String, String), BTreeSet<String>>,
    /// Project → version names.
    pub versions: BTreeMap<ProjectKey, BTreeSet<String>>,
    /// Source projects whose policies cross-account copies depend on.
    pub policies: BTreeSet<ProjectKey>,
    /// Account id → account name, for the projects above.
    pub account_names: BTreeMap<String, String>,
}

impl Needs {
    pub fn of(desired: &DesiredState) -> Self {
        let mut needs = Needs::default();
        for p in &desired.placements {
            for (account, project, version) in [
                (&p.source_account, &p.source_project, &p.source_version),
                (
                    &p.destination_account,
                    &p.destination_project,
                    &p.version_name,
                ),
            ] {
                needs
                    .projects
                    .entry((account.clone(), p.region.clone()))
                    .or_default()
                    .insert(project.name.clone());
                needs
                    .versions
                    .entry(ProjectKey::of(project))
                    .or_default()
                    .insert(version.clone());
                needs
                    .account_names
                    .insert(project.account_id.clone(), account.clone());
            }
            if p.is_cross_account() {
                needs.policies.insert(ProjectKey::of(&p.source_project));
            }
        }
        needs
    }
}

/// Reads the live state the placements of `desired` depend on.
pub async fn read(ctx: &AwsContext, sessions: &Sessions, desired: &DesiredState) -> LiveState {
    let needs = Needs::of(desired);
    let mut live = LiveState::default();
    for account in needs.account_names.values() {
        if let Err(reason) = sessions.get(account) {
            live.inaccessible.insert(account.clone(), reason);
        }
    }

    // Phase 1: the projects, batched per account and region.
    let project_reads = needs
        .projects
        .iter()
        .filter_map(|((account, region), names)| {
            let session = sessions.get(account).ok()?;
            let names: Vec<String> = names.iter().cloned().collect();
            Some(async move {
                let client = session.rekognition(region);
                let result =
                    describe_projects(ctx, &client, &session.account.account_id, &names).await;
                (
                    session.account.account_id.clone(),
                    region.clone(),
                    names,
                    result,
                )
            })
        });
    for (account_id, region, names, result) in futures::future::join_all(project_reads).await {
        for name in names {
            let key = ProjectKey {
                account_id: account_id.clone(),
                region: region.clone(),
                name: name.clone(),
            };
            match &result {
                Ok(found) => {
                    live.projects.insert(key, found.get(&name).cloned());
                }
                Err(e) => {
                    live.read_errors.insert(key, e.to_string());
                }
            }
        }
    }

    // Phase 2: versions and policies of the projects that exist.
    let version_reads = needs.versions.iter().filter_map(|(key, names)| {
        let project = live.projects.get(key)?.as_ref()?;
        let session = sessions.get(&needs.account_names[&key.account_id]).ok()?;
        let names: Vec<String> = names.iter().cloned().collect();
        let arn = project.arn.clone();
        Some(async move {
            let client = session.rekognition(&key.region);
            let result =
                describe_project_versions(ctx, &client, &key.account_id, &arn, &names).await;
            (key.clone(), names, result)
        })
    });
    let policy_reads = needs.policies.iter().filter_map(|key| {
        let project = live.projects.get(key)?.as_ref()?;
        let session = sessions.get(&needs.account_names[&key.account_id]).ok()?;
        let arn = project.arn.clone();
        Some(async move {
            let client = session.rekognition(&key.region);
            (
                key.clone(),
                list_project_policies(ctx, &client, &key.account_id, &arn).await,
            )
        })
    });
    let (versions, policies) = futures::future::join(
        futures::future::join_all(version_reads),
        futures::future::join_all(policy_reads),
    )
    .await;
    for (key, names, result) in versions {
        match result {
            Ok(mut found) => {
                let entry = live.versions.entry(key).or_default();
                for name in names {
                    let version = found.remove(&name);
                    entry.insert(name, version);
                }
            }
            Err(e) => {
                live.read_errors.insert(key, e.to_string());
            }
        }
    }
    for (key, result) in policies {
        match result {
            Ok(found) => {
                live.policies.insert(key, found);
            }
            Err(e) => {
                live.read_errors.insert(key, e.to_string());
            }
        }
    }
    live
}
