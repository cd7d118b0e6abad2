//! Rekognition DeleteProjectPolicy: deletes one project policy, in the source account.
//!
//! Always with the revision id read (never blindly): a stale revision is
//! InvalidPolicyRevisionIdException and a policy already gone ResourceNotFoundException; both
//! are reported as [`PolicyWriteError::Conflict`] so that `apply::policies` re-reads and
//! recomputes. Which policy to delete, and when, is entirely `apply::policies`'s decision.

use super::put_project_policy::PolicyWriteError;
use super::{AwsContext, AwsError, CallSite, Operation};

/// Deletes policy `name` of `project_arn` at revision `revision_id`.
pub async fn delete_project_policy(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    project_arn: &str,
    name: &str,
    revision_id: &str,
) -> Result<(), PolicyWriteError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::DeleteProjectPolicy.name())
        .await;
    client
        .delete_project_policy()
        .project_arn(project_arn)
        .policy_name(name)
        .policy_revision_id(revision_id)
        .send()
        .await
        .map_err(|e| {
            let error =
                AwsError::from_sdk(Operation::DeleteProjectPolicy, site, Some(project_arn), e);
            PolicyWriteError::classify(
                error,
                &[
                    "InvalidPolicyRevisionIdException",
                    "ResourceNotFoundException",
                ],
            )
        })?;
    Ok(())
}
