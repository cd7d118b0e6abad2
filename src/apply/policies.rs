//! Managed project policies (`managePolicy: true`): writing, in each SOURCE account, the policies
//! that let destination accounts copy exactly the versions the manifests send them.
//!
//! Grants come from `plan::managed_grants`, names and documents from `policy::managed_policy_set`
//! (packed into as few ≤ 2,000-character documents as fit, account-root principals, explicit
//! version ARNs: never `*`). Writes are optimistic: read the policies (ListProjectPolicies),
//! check the project's quota of 5 counting its other policies BEFORE writing anything, then
//! create without a revision id or update with the current one; when someone changed or created
//! a policy in between (InvalidPolicyRevisionIdException / ResourceAlreadyExistsException) the
//! policies are read again and the writes recomputed, a bounded number of times, so a concurrent
//! change is never overwritten blindly. Policies named `reko-promote-ACCOUNT[-N]` belong to
//! reko-promote: their content is what the manifests say, and a hand edit of one is replaced;
//! every other policy is never touched, only counted. Which copies depend
//! on these policies is `apply`'s business; evaluating policies is `policy`'s.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::list_project_policies::list_project_policies;
use crate::aws::put_project_policy::{PutPolicyError, put_project_policy};
use crate::aws::{AwsContext, AwsError, Sessions};
use crate::desired::DesiredState;
use crate::plan::{PlanDocument, managed_grants, managed_policy_name};
use crate::policy::{self, MAX_POLICIES_PER_PROJECT, PolicyDocument};
use crate::state::LivePolicy;

use super::progress::{Event, Progress};
use super::report::{PolicyOutcome, PolicyReport};

/// Read-recompute-write rounds before giving up on a contended project.
pub const MAX_ROUNDS: usize = 5;

/// Why the managed policies of a project could not be written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "source project {project_arn} (account `{account}`) needs {needed} managed policies \
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
        "the policies of source project {project_arn} (account `{account}`) kept changing while \
         being written ({MAX_ROUNDS} rounds); run apply again"
    )]
    Contended {
        account: String,
        project_arn: String,
    },
    #[error("cannot act in source account `{account}`: {reason}")]
    Session { account: String, reason: String },
    #[error("{0}")]
    Aws(AwsError),
}

/// The managed policies one source project must carry: the grants, turned into documents each
/// round against the policies just read (so a partial run can keep what they already grant).
#[derive(Debug, Clone)]
struct Wanted {
    account: String,
    account_id: String,
    region: String,
    project_arn: String,
    grants: BTreeMap<String, BTreeSet<String>>,
    keep_existing: bool,
}

impl Wanted {
    /// (policy name, document) for every destination account, against `current`.
    fn documents(&self, current: &[LivePolicy]) -> Vec<(String, PolicyDocument)> {
        let partition = crate::constraints::partition_of_region(&self.region);
        self.grants
            .iter()
            .flat_map(|(account_id, arns)| {
                policy::managed_policy_set(
                    partition,
                    account_id,
                    arns,
                    current
                        .iter()
                        .map(|p| (p.name.as_str(), p.document.as_str())),
                    self.keep_existing,
                )
            })
            .collect()
    }
}

/// The result of the policy phase.
#[derive(Debug, Default)]
pub struct PolicyPhase {
    pub reports: Vec<PolicyReport>,
    /// Source project ARN → why its policies could not be written.
    pub failed: BTreeMap<String, PolicyError>,
}

/// What to write: the managed grants of every source project the plan writes policies to.
fn wanted(desired: &DesiredState, plan: &PlanDocument) -> Vec<Wanted> {
    let projects: BTreeSet<&str> = plan
        .policies
        .iter()
        .map(|c| c.project_arn.as_str())
        .collect();
    managed_grants(desired, &plan.entries)
        .into_iter()
        .filter(|g| projects.contains(g.project_arn.as_str()))
        .map(|g| Wanted {
            account: g.source_account.name,
            account_id: g.project.account_id,
            region: g.project.region,
            project_arn: g.project_arn,
            grants: g.by_account,
            keep_existing: desired.partial,
        })
        .collect()
}

/// Writes every managed policy the plan shows, one source project at a time per project (the
/// projects concurrently).
pub async fn write_managed(
    ctx: &AwsContext,
    sessions: &Sessions,
    desired: &DesiredState,
    plan: &PlanDocument,
    progress: &Progress,
) -> PolicyPhase {
    let results =
        futures::future::join_all(wanted(desired, plan).into_iter().map(|w| async move {
            let mut reports = BTreeMap::new();
            let result = write_project(ctx, sessions, &w, progress, &mut reports).await;
            (w, reports, result)
        }))
        .await;
    let mut phase = PolicyPhase::default();
    for (w, reports, result) in results {
        phase.reports.extend(reports.into_values());
        if let Err(error) = result {
            progress.event(&Event::PolicyFailed {
                project_arn: w.project_arn.clone(),
                error: error.to_string(),
            });
            phase.reports.push(PolicyReport {
                account: w.account.clone(),
                project_arn: w.project_arn.clone(),
                policy_name: w
                    .grants
                    .keys()
                    .map(|account_id| managed_policy_name(account_id, 0))
                    .collect::<Vec<_>>()
                    .join(","),
                outcome: PolicyOutcome::Failed,
                revision_id: None,
                error: Some(error.to_string()),
            });
            phase.failed.insert(w.project_arn.clone(), error);
        }
    }
    phase
}

async fn write_project(
    ctx: &AwsContext,
    sessions: &Sessions,
    w: &Wanted,
    progress: &Progress,
    reports: &mut BTreeMap<String, PolicyReport>,
) -> Result<(), PolicyError> {
    let session = sessions
        .get(&w.account)
        .map_err(|reason| PolicyError::Session {
            account: w.account.clone(),
            reason,
        })?;
    let client = session.rekognition(&w.region);
    'round: for _ in 0..MAX_ROUNDS {
        let current = list_project_policies(ctx, &client, &w.account_id, &w.project_arn)
            .await
            .map_err(PolicyError::Aws)?;
        let documents = w.documents(&current);
        let names: BTreeSet<&str> = documents.iter().map(|(n, _)| n.as_str()).collect();
        // The quota counts every policy of the project; ours replace themselves by name.
        let others: Vec<String> = current
            .iter()
            .filter(|p| !names.contains(p.name.as_str()))
            .map(|p| p.name.clone())
            .collect();
        if others.len() + documents.len() > MAX_POLICIES_PER_PROJECT {
            return Err(PolicyError::Quota {
                account: w.account.clone(),
                project_arn: w.project_arn.clone(),
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
                reports.entry(name.clone()).or_insert(PolicyReport {
                    account: w.account.clone(),
                    project_arn: w.project_arn.clone(),
                    policy_name: name.clone(),
                    outcome: PolicyOutcome::Unchanged,
                    revision_id: Some(existing.revision_id.clone()),
                    error: None,
                });
                continue;
            }
            let revision = existing.map(|e| e.revision_id.as_str());
            match put_project_policy(
                ctx,
                &client,
                &w.account_id,
                &w.project_arn,
                name,
                &document.to_json(),
                revision,
            )
            .await
            {
                Ok(new_revision) => {
                    let created = revision.is_none();
                    progress.event(&Event::PolicyWritten {
                        account: w.account.clone(),
                        project_arn: w.project_arn.clone(),
                        name: name.clone(),
                        created,
                    });
                    reports.insert(
                        name.clone(),
                        PolicyReport {
                            account: w.account.clone(),
                            project_arn: w.project_arn.clone(),
                            policy_name: name.clone(),
                            outcome: if created {
                                PolicyOutcome::Created
                            } else {
                                PolicyOutcome::Updated
                            },
                            revision_id: Some(new_revision),
                            error: None,
                        },
                    );
                }
                Err(PutPolicyError::Conflict(e)) => {
                    tracing::info!(policy = %name, "policy changed concurrently ({e}); reading again");
                    continue 'round;
                }
                Err(PutPolicyError::Other(e)) => return Err(PolicyError::Aws(e)),
            }
        }
        return Ok(());
    }
    Err(PolicyError::Contended {
        account: w.account.clone(),
        project_arn: w.project_arn.clone(),
    })
}
