//! Rekognition PutProjectPolicy: creates or updates one project policy, in the source account.
//!
//! Revision semantics are AWS's: create without a revision id, update with the current one; a
//! stale revision is InvalidPolicyRevisionIdException and a create racing another create is
//! ResourceAlreadyExistsException. Both are reported as [`PolicyWriteError::Conflict`] so that
//! `apply::policies` re-reads and recomputes instead of overwriting blindly; what to write and
//! when is entirely `apply::policies`'s decision. (An SDK retry of a put that had in fact
//! succeeded also comes back as one of these, and the re-read then finds the policy as wanted.)

use super::{AwsContext, AwsError, CallSite, Operation};

/// Why a put or a delete of a project policy failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyWriteError {
    /// Someone changed (created, deleted) the policy since it was read.
    #[error("{0}")]
    Conflict(AwsError),
    #[error("{0}")]
    Other(AwsError),
}

impl PolicyWriteError {
    /// `error`, a conflict when AWS's code is one of `conflicts`.
    pub fn classify(error: AwsError, conflicts: &[&str]) -> Self {
        match error.code.as_deref() {
            Some(code) if conflicts.contains(&code) => PolicyWriteError::Conflict(error),
            _ => PolicyWriteError::Other(error),
        }
    }
}

/// Writes `document` as policy `name` of `project_arn`; `revision_id` is the revision being
/// replaced (`None`: a new policy). Returns the new revision id.
pub async fn put_project_policy(
    ctx: &AwsContext,
    client: &aws_sdk_rekognition::Client,
    site: CallSite<'_>,
    project_arn: &str,
    name: &str,
    document: &str,
    revision_id: Option<&str>,
) -> Result<String, PolicyWriteError> {
    let _slot = ctx
        .limits
        .acquire(site.account_id, Operation::PutProjectPolicy.name())
        .await;
    let output = client
        .put_project_policy()
        .project_arn(project_arn)
        .policy_name(name)
        .policy_document(document)
        .set_policy_revision_id(revision_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| {
            let error = AwsError::from_sdk(Operation::PutProjectPolicy, site, Some(project_arn), e);
            PolicyWriteError::classify(
                error,
                &[
                    "InvalidPolicyRevisionIdException",
                    "ResourceAlreadyExistsException",
                ],
            )
        })?;
    Ok(output.policy_revision_id().unwrap_or_default().to_string())
}
