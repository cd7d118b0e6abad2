//! Managed project policies (`managePolicy: true`): writing, in each SOURCE account, the packed
//! policies that let destination accounts copy exactly what the manifests send them.
//!
//! What to write comes from the plan's grants ([`SourceGrants`], computed once by `plan`);
//! documents and the order of writes come from `plan::grants::pack_project`, the function the
//! plan used (so a saved plan's documents are the ones written while the live policies have not
//! moved, which `apply --plan` checks first). Each write is revision-safe: creates pass no
//! revision id, updates and deletes the one read; the order is `policy_pack::write_steps`'s
//! (widening writes first, transitional documents, deletes last), so a needed grant is never
//! absent. When someone changed a policy in between (InvalidPolicyRevisionIdException,
//! ResourceAlreadyExistsException, ResourceNotFoundException) the policies are read again and
//! the documents and writes recomputed, a bounded number of times: two concurrent partial runs
//! each keep what the other wrote. Policies that are not managed (`plan::grants`) are never
//! touched, only counted. Which copies depend on these policies is `apply`'s business.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aws::delete_project_policy::delete_project_policy;
use crate::aws::list_project_policies::list_project_policies;
use crate::aws::put_project_policy::{PolicyWriteError, put_project_policy};
use crate::aws::session::SessionError;
use crate::aws::{AwsContext, AwsError, CallSite, Sessions};
use crate::plan::{PlanDocument, Reason, SourceGrants, grants};
use crate::policy_pack::{Revision, WriteStep};
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
        "the managed policies of source project {project_arn} (account {account}) cannot be \
         written as the policies stand now; nothing was written. Run plan again to see why"
    )]
    Unwritable {
        account: String,
        project_arn: String,
        /// Why, as the plan states it (`policy-overflow`, `policy-no-safe-order`, ...).
        reason: Box<Reason>,
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
            let known = grants::known_versions(&plan.entries, &grants.project_arn);
            let result = write_project(
                ctx,
                sessions,
                grants,
                keep_existing,
                &known,
                progress,
                &mut reports,
            )
            .await;
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
    known: &std::collections::BTreeSet<String>,
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
        let packed = grants::pack_project(grants, &current, grants.scope, keep_existing, known)
            .map_err(|reason| PolicyError::Unwritable {
                account: account.clone(),
                project_arn: grants.project_arn.clone(),
                reason: Box::new(reason),
            })?;
        for policy in &packed.policies {
            if let Some(live) = current.iter().find(|c| c.name == policy.name)
                && live.document == policy.document_json
            {
                // Already right (maybe written by a concurrent run or an earlier round).
                reports.entry(policy.name.clone()).or_insert(report(
                    &policy.name,
                    PolicyOutcome::Unchanged,
                    Some(live.revision_id.clone()),
                ));
            }
        }
        // The revision each policy is at, as this sequence writes them.
        let mut revisions: BTreeMap<String, String> = BTreeMap::new();
        for step in &packed.steps {
            let revision_of = |name: &str, revision: &Revision| match revision {
                Revision::Live(id) => id.clone(),
                Revision::LastWritten => revisions.get(name).cloned().unwrap_or_default(),
            };
            match step {
                WriteStep::Put {
                    name,
                    document,
                    revision,
                    transitional,
                } => {
                    let revision = revision.as_ref().map(|r| revision_of(name, r));
                    match put_project_policy(
                        ctx,
                        &client,
                        site,
                        &grants.project_arn,
                        name,
                        document,
                        revision.as_deref(),
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
                            revisions.insert(name.clone(), new_revision.clone());
                            if !transitional {
                                let outcome = if created {
                                    PolicyOutcome::Created
                                } else {
                                    PolicyOutcome::Updated
                                };
                                reports.insert(
                                    name.clone(),
                                    report(name, outcome, Some(new_revision)),
                                );
                            }
                        }
                        Err(PolicyWriteError::Conflict(e)) => {
                            tracing::info!(policy = %name, "policy changed concurrently ({e}); reading again");
                            continue 'round;
                        }
                        Err(PolicyWriteError::Other(error)) => {
                            return Err(PolicyError::Aws { error });
                        }
                    }
                }
                WriteStep::Delete { name, revision } => {
                    let revision = revision_of(name, revision);
                    match delete_project_policy(
                        ctx,
                        &client,
                        site,
                        &grants.project_arn,
                        name,
                        &revision,
                    )
                    .await
                    {
                        Ok(()) => {
                            progress.event(&Event::PolicyDeleted {
                                account: account.clone(),
                                project_arn: grants.project_arn.clone(),
                                name: name.clone(),
                            });
                            revisions.remove(name);
                            reports
                                .insert(name.clone(), report(name, PolicyOutcome::Deleted, None));
                        }
                        Err(PolicyWriteError::Conflict(e)) => {
                            tracing::info!(policy = %name, "policy changed concurrently ({e}); reading again");
                            continue 'round;
                        }
                        Err(PolicyWriteError::Other(error)) => {
                            return Err(PolicyError::Aws { error });
                        }
                    }
                }
            }
        }
        return Ok(());
    }
    Err(PolicyError::Contended {
        account: account.clone(),
        project_arn: grants.project_arn.clone(),
    })
}
