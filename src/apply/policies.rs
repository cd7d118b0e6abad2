//! Managed project policies (`managePolicy: true`): writing, in each SOURCE account, the policies
//! that let destination accounts copy exactly the versions the manifests send them.
//!
//! What to write comes from the plan's grants ([`SourceGrants`], computed once by `plan`);
//! documents are produced from them by `policy::managed_policies`, the same function the plan
//! used (packed into as few ≤ 2,000-character documents as fit, account-root principals,
//! explicit version ARNs: never `*`). Writes are optimistic: read the policies
//! (ListProjectPolicies), check the project's quota of 5 counting its other policies BEFORE
//! writing anything, then create without a revision id or update with the current one; when
//! someone changed or created a policy in between (InvalidPolicyRevisionIdException /
//! ResourceAlreadyExistsException) the policies are read again and the writes recomputed, a
//! bounded number of times, so a concurrent change is never overwritten blindly. Policies named
//! `reko-promote-ACCOUNT[-N]` belong to reko-promote: their content is what the manifests say,
//! and a hand edit of one is replaced; every other policy is never touched, only counted. Which
//! copies depend on these policies is `apply`'s business; evaluating policies is `policy`'s.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aws::list_project_policies::list_project_policies;
use crate::aws::put_project_policy::{PutPolicyError, put_project_policy};
use crate::aws::session::SessionError;
use crate::aws::{AwsContext, AwsError, CallSite, Sessions};
use crate::plan::{PlanDocument, SourceGrants};
use crate::policy::{self, MAX_POLICIES_PER_PROJECT, PolicyDocument};
use crate::state::LivePolicy;

use super::progress::{Event, Progress};
use super::report::{PolicyOutcome, PolicyReport};

/// Read-recompute-write rounds before giving up on a contended project.
pub const MAX_ROUNDS: usize = 5;

/// Why the managed policies of a project could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum PolicyError {
    #[error(
        "source project {project_arn} (account {account}) needs {needed} managed policies \
         ({names}) but already has {} other policies ({}), and a project may have at most \
         {MAX_POLICIES_PER_PROJECT}; nothing was written. Remove unused policies from the \
         project, or send fewer versions to these accounts",
        others.len(),
        others.join(", "),
        names = wanted.join(", ")
    )]
    Quota {
        account: String,
        project_arn: String,
        needed: usize,
        wanted: Vec<String>,
        others: Vec<String>,
    },
    #[error(
        "the policies of source project {project_arn} (account {account}) kept changing while \
         being written ({MAX_ROUNDS} rounds); run apply again"
    )]
    Contended {
        account: String,
        project_arn: String,
    },
    #[error("{error}")]
    Session { error: SessionError },
    #[error("{error}")]
    Aws { error: AwsError },
}

/// The result of the policy phase.
#[derive(Debug, Default)]
pub struct PolicyPhase {
    pub reports: Vec<PolicyReport>,
    /// Source project ARN → why its policies could not be written.
    pub failed: BTreeMap<String, PolicyError>,
}

/// The documents one project must carry, against the policies just read (so a partial run can
/// keep what they already grant).
fn documents(
    grants: &SourceGrants,
    current: &[LivePolicy],
    keep_existing: bool,
) -> Vec<(String, PolicyDocument)> {
    policy::managed_policies(
        crate::constraints::partition_of_region(&grants.region),
        &grants.grants,
        current
            .iter()
            .map(|p| (p.name.as_str(), p.document.as_str())),
        keep_existing,
    )
    .into_iter()
    .map(|(_, name, document)| (name, document))
    .collect()
}

/// Writes every managed policy the plan shows, the projects concurrently.
pub async fn write_managed(
    ctx: &AwsContext,
    sessions: &Sessions,
    plan: &PlanDocument,
    progress: &Progress,
) -> PolicyPhase {
    let keep_existing = plan.scope.partial;
    let results = futures::future::join_all(plan.grants.iter().filter(|g| g.has_writes()).map(
        |grants| async move {
            let mut reports = BTreeMap::new();
            let result =
                write_project(ctx, sessions, grants, keep_existing, progress, &mut reports).await;
            (grants, reports, result)
        },
    ))
    .await;
    let mut phase = PolicyPhase::default();
    for (grants, reports, result) in results {
        phase.reports.extend(reports.into_values());
        if let Err(error) = result {
            progress.event(&Event::PolicyFailed {
                project_arn: grants.project_arn.clone(),
                error: error.clone(),
            });
            phase.reports.push(PolicyReport {
                account: grants.source_account.name.clone(),
                project_arn: grants.project_arn.clone(),
                policy_names: grants
                    .policies
                    .iter()
                    .map(|p| p.policy_name.clone())
                    .collect(),
                outcome: PolicyOutcome::Failed,
                revision_id: None,
                error: Some(error.clone()),
            });
            phase.failed.insert(grants.project_arn.clone(), error);
        }
    }
    phase
}

async fn write_project(
    ctx: &AwsContext,
    sessions: &Sessions,
    grants: &SourceGrants,
    keep_existing: bool,
    progress: &Progress,
    reports: &mut BTreeMap<String, PolicyReport>,
) -> Result<(), PolicyError> {
    let account = &grants.source_account.name;
    let session = sessions
        .get(account)
        .map_err(|error| PolicyError::Session { error })?;
    let site = CallSite::from(&session.account);
    let client = session.rekognition(&grants.region);
    let report = |name: &str, outcome, revision_id| PolicyReport {
        account: account.clone(),
        project_arn: grants.project_arn.clone(),
        policy_names: vec![name.to_string()],
        outcome,
        revision_id,
        error: None,
    };
    'round: for _ in 0..MAX_ROUNDS {
        let current: Vec<LivePolicy> =
            list_project_policies(ctx, &client, site, &grants.project_arn)
                .await
                .map_err(|error| PolicyError::Aws { error })?
                .iter()
                .map(LivePolicy::from_sdk)
                .collect();
        let documents = documents(grants, &current, keep_existing);
        let names: Vec<&str> = documents.iter().map(|(n, _)| n.as_str()).collect();
        // The quota counts every policy of the project; ours replace themselves by name.
        let others: Vec<String> = current
            .iter()
            .filter(|p| !names.contains(&p.name.as_str()))
            .map(|p| p.name.clone())
            .collect();
        if others.len() + documents.len() > MAX_POLICIES_PER_PROJECT {
            return Err(PolicyError::Quota {
                account: account.clone(),
                project_arn: grants.project_arn.clone(),
                needed: documents.len(),
                wanted: names.iter().map(|n| n.to_string()).collect(),
                others,
            });
        }
        for (name, document) in &documents {
            let existing = current.iter().find(|p| &p.name == name);
            if let Some(existing) = existing
                && PolicyDocument::parse(&existing.document).is_ok_and(|d| &d == document)
            {
                // Already right (maybe written by a concurrent run or an earlier round).
                reports.entry(name.clone()).or_insert(report(
                    name,
                    PolicyOutcome::Unchanged,
                    Some(existing.revision_id.clone()),
                ));
                continue;
            }
            let revision = existing.map(|e| e.revision_id.as_str());
            match put_project_policy(
                ctx,
                &client,
                site,
                &grants.project_arn,
                name,
                &document.to_json(),
                revision,
            )
            .await
            {
                Ok(new_revision) => {
                    let created = revision.is_none();
                    progress.event(&Event::PolicyWritten {
                        account: account.clone(),
                        project_arn: grants.project_arn.clone(),
                        name: name.clone(),
                        created,
                    });
                    let outcome = if created {
                        PolicyOutcome::Created
                    } else {
                        PolicyOutcome::Updated
                    };
                    reports.insert(name.clone(), report(name, outcome, Some(new_revision)));
                }
                Err(PutPolicyError::Conflict(e)) => {
                    tracing::info!(policy = %name, "policy changed concurrently ({e}); reading again");
                    continue 'round;
                }
                Err(PutPolicyError::Other(error)) => return Err(PolicyError::Aws { error }),
            }
        }
        return Ok(());
    }
    Err(PolicyError::Contended {
        account: account.clone(),
        project_arn: grants.project_arn.clone(),
    })
}
