//! Reading live state through the AWS SDK, with the fewest calls the API allows.
//!
//! What the placements need is gathered first and de-duplicated across manifests: per account
//! and region the project names (one DescribeProjects per 10 names), per project the version
//! names (one DescribeProjectVersions per 10 names, pages followed), and the policies of source
//! projects that cross-account copies come from (ListProjectPolicies), the tags of source
//! versions that `requireTags` gates check (ListTagsForResource, one call per such version, after
//! the versions are read), every version of the destination projects declaring `running` or
//! `prune` with the tags of those no placement declares (ownership), and the destination each placement comes `after`, even when a
//! `--target` left that placement out. Each account is read by
//! its own chain: projects first (their ARNs are needed for the rest), then versions and
//! policies; the chains run concurrently under the run's limits. A failing account or project
//! is recorded with its typed error, never fatal: the plan marks what it touches as unknown and
//! goes on. Every ARN AWS returns must be in the account and region asked about; one that is
//! not makes the whole account unknown.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::describe_project_versions::{Versions, describe_project_versions};
use crate::aws::describe_projects::describe_projects;
use crate::aws::list_project_policies::list_project_policies;
use crate::aws::list_tags_for_resource::list_tags_for_resource;
use crate::aws::{AccountSession, AwsContext, CallSite};
use crate::desired::DesiredState;

use super::{AccountProblem, LivePolicy, LiveProject, LiveState, LiveVersion, ProjectKey};

/// What must be read for a desired state.
#[derive(Debug, Default)]
pub struct Needs {
    /// (account name, region) → project names.
    pub projects: BTreeMap<(String, String), BTreeSet<String>>,
    /// Project → version names.
    pub versions: BTreeMap<ProjectKey, BTreeSet<String>>,
    /// Source projects whose policies cross-account copies depend on.
    pub policies: BTreeSet<ProjectKey>,
    /// Source versions (project, version name) whose tags `requireTags` gates check.
    pub tags: BTreeSet<(ProjectKey, String)>,
    /// Destination projects declaring `running` or `prune`: every version is listed, and the
    /// tags of those no placement declares (the names here) are read, for ownership.
    pub listed: BTreeMap<ProjectKey, BTreeSet<String>>,
}

impl Needs {
    /// How many read calls each account's chain makes (by account ID), batched as the reads
    /// are: DescribeProjects per 10 names and region, DescribeProjectVersions per 10 names
    /// (one per listed project, besides), one ListProjectPolicies per source project, one tag
    /// read per version whose tags are read. `names` maps account names to IDs.
    pub fn calls_by_account(&self, names: &BTreeMap<&str, &str>) -> BTreeMap<String, usize> {
        let mut calls: BTreeMap<String, usize> = BTreeMap::new();
        let mut add = |account_id: &str, n: usize| {
            *calls.entry(account_id.to_string()).or_default() += n;
        };
        for ((name, _), projects) in &self.projects {
            if let Some(account_id) = names.get(name.as_str()) {
                add(account_id, projects.len().div_ceil(10));
            }
        }
        for (key, versions) in &self.versions {
            add(&key.account_id, versions.len().div_ceil(10));
        }
        for key in &self.policies {
            add(&key.account_id, 1);
        }
        for (key, _) in &self.tags {
            add(&key.account_id, 1);
        }
        for (key, untagged) in &self.listed {
            add(&key.account_id, 1 + untagged.len());
        }
        calls
    }

    pub fn of(desired: &DesiredState) -> Self {
        let mut needs = Needs::default();
        for p in &desired.placements {
            // The destination a placement comes `after` is read too, even when `--target` left
            // its own placement out: whether the version is there decides this one.
            let after = p
                .lifecycle
                .after
                .as_ref()
                .map(|a| (&a.account, &a.project, &a.key.version_name));
            for (account, project, version) in [
                (&p.source_account, &p.source_project, &p.source_version),
                (
                    &p.destination_account,
                    &p.destination_project,
                    &p.version_name,
                ),
            ]
            .into_iter()
            .chain(after)
            {
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
            }
            if p.is_cross_account() {
                needs.policies.insert(ProjectKey::of(&p.source_project));
            }
            if !p.lifecycle.gates.require_tags.is_empty() {
                needs
                    .tags
                    .insert((ProjectKey::of(&p.source_project), p.source_version.clone()));
            }
        }
        for s in &desired.serving {
            needs
                .projects
                .entry((s.account.clone(), s.project.region.clone()))
                .or_default()
                .insert(s.project.name.clone());
            needs.listed.entry(ProjectKey::of(&s.project)).or_default();
        }
        for p in &desired.placements {
            if let Some(declared) = needs
                .listed
                .get_mut(&ProjectKey::of(&p.destination_project))
            {
                declared.insert(p.version_name.clone());
            }
        }
        needs
    }
}

/// Whether `arn` is in `account_id` and `region`: every ARN AWS answers with must be where it
/// was asked about.
pub fn arn_is_in(arn: &str, account_id: &str, region: &str) -> bool {
    arn_scope(arn) == Some((region, account_id))
}

/// The account and region of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`).
fn arn_scope(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("arn"), Some(_), Some(_), Some(region), Some(account)) => Some((region, account)),
        _ => None,
    }
}

/// Reads what `needs` asks of one account: its projects (batched per region), then the versions
/// and policies of those that exist. Accounts are independent, so callers run one such chain per
/// account concurrently, each starting as soon as its session is open.
pub async fn read_account(ctx: &AwsContext, session: &AccountSession, needs: &Needs) -> LiveState {
    let account = &session.account;
    let site = CallSite::from(account);
    let mut live = LiveState::default();
    let mut foreign: Option<(String, String)> = None;
    let mut check = |region: &str, arn: &str| {
        if !arn_is_in(arn, &account.account_id, region) && foreign.is_none() {
            foreign = Some((region.to_string(), arn.to_string()));
        }
    };
    let project_reads = needs
        .projects
        .iter()
        .filter(|((name, _), _)| *name == account.name)
        .map(|((_, region), names)| {
            let names: Vec<String> = names.iter().cloned().collect();
            async move {
                let client = session.rekognition(region);
                let result = describe_projects(ctx, &client, site, &names).await;
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
                    let project = found.get(&name).and_then(LiveProject::from_description);
                    if let Some(project) = &project {
                        check(&region, &project.arn);
                    }
                    live.projects.insert(key, project);
                }
                Err(e) => {
                    live.read_errors.insert(key, e.clone());
                }
            }
        }
    }

    let existing = |key: &ProjectKey| -> Option<String> {
        live.projects.get(key)?.as_ref().map(|p| p.arn.clone())
    };
    let no_names = BTreeSet::new();
    let version_reads = needs
        .versions
        .keys()
        .chain(needs.listed.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|key| key.account_id == account.account_id)
        .filter_map(|key| {
            let arn = existing(key)?;
            let names: Vec<String> = needs
                .versions
                .get(key)
                .unwrap_or(&no_names)
                .iter()
                .cloned()
                .collect();
            // A project declaring `running` or `prune` is listed whole (its names included).
            let listed = needs.listed.contains_key(key);
            Some(async move {
                let client = session.rekognition(&key.region);
                let which = if listed {
                    Versions::All
                } else {
                    Versions::Named(&names)
                };
                let result = describe_project_versions(ctx, &client, site, &arn, which).await;
                (key.clone(), names, listed, result)
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
                    list_project_policies(ctx, &client, site, &arn).await,
                )
            })
        });
    let (versions, policies) = futures::future::join(
        crate::aws::pace::join_paced(version_reads),
        crate::aws::pace::join_paced(policy_reads),
    )
    .await;
    for (key, names, listed, result) in versions {
        match result {
            Ok(found) => {
                let mut found = LiveVersion::all_from(found);
                for version in found.values() {
                    check(&key.region, &version.arn);
                }
                if listed {
                    live.listed.insert(key.clone());
                }
                let entry = live.versions.entry(key).or_default();
                for name in names {
                    let version = found.remove(&name);
                    entry.insert(name, version);
                }
                if listed {
                    entry.extend(found.into_iter().map(|(name, v)| (name, Some(v))));
                }
            }
            Err(e) => {
                live.read_errors.insert(key, e);
            }
        }
    }
    // Tags need the version ARNs just read: only of versions `requireTags` gates check, and,
    // in projects declaring `running` or `prune`, of the versions no placement declares (who
    // made them decides whether they may be stopped or pruned).
    let ownership: Vec<(ProjectKey, String)> = needs
        .listed
        .iter()
        .filter(|(key, _)| live.listed.contains(*key))
        .flat_map(|(key, declared)| {
            live.versions
                .get(key)
                .into_iter()
                .flatten()
                .filter(|(name, v)| v.is_some() && !declared.contains(*name))
                .map(|(name, _)| (key.clone(), name.clone()))
        })
        .collect();
    let tag_reads = needs
        .tags
        .iter()
        .chain(&ownership)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|(key, _)| key.account_id == account.account_id)
        .filter_map(|(key, name)| {
            let arn = live.version(key, name)??.arn.clone();
            Some(async move {
                let client = session.rekognition(&key.region);
                let result = list_tags_for_resource(ctx, &client, site, &arn).await;
                (arn, result)
            })
        });
    for (arn, result) in futures::future::join_all(tag_reads).await {
        match result {
            Ok(tags) => {
                live.version_tags.insert(arn, tags);
            }
            Err(e) => {
                live.tag_errors.insert(arn, e);
            }
        }
    }
    for (key, result) in policies {
        match result {
            Ok(found) => {
                live.policies
                    .insert(key, found.iter().map(LivePolicy::from_sdk).collect());
            }
            Err(e) => {
                live.read_errors.insert(key, e);
            }
        }
    }
    if let Some((region, arn)) = foreign {
        return LiveState::inaccessible(
            &account.name,
            AccountProblem::ForeignArn {
                account: account.name.clone(),
                account_id: account.account_id.clone(),
                region,
                arn,
            },
        );
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_scopes() {
        assert_eq!(
            arn_scope("arn:aws:rekognition:eu-west-1:111111111111:project/p/1"),
            Some(("eu-west-1", "111111111111"))
        );
        assert_eq!(arn_scope("nonsense"), None);
        let arn = "arn:aws:rekognition:eu-west-1:222222222222:project/p/version/v/1";
        assert!(arn_is_in(arn, "222222222222", "eu-west-1"));
        assert!(!arn_is_in(arn, "333333333333", "eu-west-1"));
        assert!(!arn_is_in(arn, "222222222222", "us-east-1"));
    }
}
