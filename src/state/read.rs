//! Reading live state through the AWS SDK, with the fewest calls the API allows.
//!
//! What the placements need is gathered first and de-duplicated across manifests: per account
//! and region the project names (one DescribeProjects per 10 names), per project the version
//! names (one DescribeProjectVersions per 10 names, pages followed), and the policies of source
//! projects that cross-account copies come from (ListProjectPolicies). Each account is read by
//! its own chain: projects first (their ARNs are needed for the rest), then versions and
//! policies; the chains run concurrently under the run's limits. A failing account or project is recorded, never fatal: the plan marks what it
//! touches as unknown and goes on.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::describe_project_versions::describe_project_versions;
use crate::aws::describe_projects::describe_projects;
use crate::aws::list_project_policies::list_project_policies;
use crate::aws::{AccountSession, AwsContext, Sessions};
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

/// Reads the live state the placements of `desired` depend on, with sessions already open.
pub async fn read(ctx: &AwsContext, sessions: &Sessions, desired: &DesiredState) -> LiveState {
    let needs = Needs::of(desired);
    let accounts: BTreeSet<&String> = needs.account_names.values().collect();
    let parts = futures::future::join_all(accounts.into_iter().map(|account| {
        let needs = &needs;
        async move {
            match sessions.get(account) {
                Ok(session) => read_account(ctx, session, needs).await,
                Err(reason) => LiveState::inaccessible(account, reason),
            }
        }
    }))
    .await;
    let mut live = LiveState::default();
    for part in parts {
        live.merge(part);
    }
    live
}

/// Reads what `needs` asks of one account: its projects (batched per region), then the versions
/// and policies of those that exist. Accounts are independent, so callers run one such chain per
/// account concurrently, each starting as soon as its session is open.
pub async fn read_account(ctx: &AwsContext, session: &AccountSession, needs: &Needs) -> LiveState {
    let account = &session.account;
    let mut live = LiveState::default();
    let project_reads = needs
        .projects
        .iter()
        .filter(|((name, _), _)| *name == account.name)
        .map(|((_, region), names)| {
            let names: Vec<String> = names.iter().cloned().collect();
            async move {
                let client = session.rekognition(region);
                let result = describe_projects(ctx, &client, &account.account_id, &names).await;
                (region.clone(), names, result)
            }
        });
    for (region, names, result) in futures::future::join_all(project_reads).await {
        for name in names {
            let key = ProjectKey {
                account_id: account.account_id.clone(),
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

    let existing = |key: &ProjectKey| -> Option<String> {
        live.projects.get(key)?.as_ref().map(|p| p.arn.clone())
    };
    let version_reads = needs
        .versions
        .iter()
        .filter(|(key, _)| key.account_id == account.account_id)
        .filter_map(|(key, names)| {
            let arn = existing(key)?;
            let names: Vec<String> = names.iter().cloned().collect();
            Some(async move {
                let client = session.rekognition(&key.region);
                let result =
                    describe_project_versions(ctx, &client, &key.account_id, &arn, &names).await;
                (key.clone(), names, result)
            })
        });
    let policy_reads = needs
        .policies
        .iter()
        .filter(|key| key.account_id == account.account_id)
        .filter_map(|key| {
            let arn = existing(key)?;
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
