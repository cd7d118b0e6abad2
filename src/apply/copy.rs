//! Starting one copy: the last policy check and the CopyProjectVersion call, in the destination
//! account, with ResourceInUseException turned into what it means.
//!
//! A name already in use is read back (DescribeProjectVersions): from the same source version it
//! is the same copy, started by a concurrent run or by an SDK retry of our own call whose first
//! answer was lost, and apply waits for it; from another source it is a conflict. This is what
//! makes apply idempotent: a copy is never started twice under one name. Waiting is `wait`'s
//! job, and writing policies `policies`'s.

use crate::aws::copy_project_version::{CopyRequest, copy_project_version};
use crate::aws::describe_project_versions::describe_project_versions;
use crate::aws::{AccountSession, AwsContext, AwsError, ErrorKind};
use crate::plan::PlanEntry;
use crate::policy::{self, Caller, Decision, PolicyDocument};
use crate::state::LivePolicy;

/// How a copy got going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// This run started it.
    Started { version_arn: String },
    /// The same copy was already under way (or done): wait for it.
    Joined { version_arn: String, status: String },
}

/// Why a copy was not started.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CopyError {
    #[error(
        "no policy of source project {project_arn} (account {source_account}) allows account \
         {destination_account} to copy {version_arn} any more ({decision:?})"
    )]
    NotAllowed {
        source_account: String,
        destination_account: String,
        project_arn: String,
        version_arn: String,
        decision: Decision,
    },
    #[error(
        "`{version_name}` was created in {project_arn} meanwhile from {actual}, not from \
         {expected}"
    )]
    Conflict {
        version_name: String,
        project_arn: String,
        expected: String,
        actual: String,
    },
    #[error("the plan entry lacks {0}")]
    Incomplete(&'static str),
    #[error("{0}")]
    Aws(AwsError),
}

/// Whether the source project's `policies` let the destination account (acting through
/// `role_arn`, if any) copy the entry's source version.
pub fn check_policy(
    entry: &PlanEntry,
    role_arn: Option<String>,
    policies: &[LivePolicy],
) -> Result<(), CopyError> {
    let version_arn = entry
        .source
        .version_arn
        .clone()
        .ok_or(CopyError::Incomplete("the source version ARN"))?;
    let documents: Vec<PolicyDocument> = policies
        .iter()
        .filter_map(|p| PolicyDocument::parse(&p.document).ok())
        .collect();
    let caller = Caller {
        account_id: entry.target.account.account_id.clone(),
        iam_arn: role_arn,
        session_arn: None,
    };
    match policy::evaluate(&documents, &caller, policy::COPY_ACTION, &version_arn) {
        Decision::Allowed => Ok(()),
        decision => Err(CopyError::NotAllowed {
            source_account: entry.source.account.account_id.clone(),
            destination_account: entry.target.account.account_id.clone(),
            project_arn: entry.source.project_arn.clone().unwrap_or_default(),
            version_arn,
            decision,
        }),
    }
}

/// The CopyProjectVersion request of a plan entry.
pub fn request(entry: &PlanEntry) -> Result<CopyRequest, CopyError> {
    Ok(CopyRequest {
        source_project_arn: entry
            .source
            .project_arn
            .clone()
            .ok_or(CopyError::Incomplete("the source project ARN"))?,
        source_project_version_arn: entry
            .source
            .version_arn
            .clone()
            .ok_or(CopyError::Incomplete("the source version ARN"))?,
        destination_project_arn: entry
            .target
            .project_arn
            .clone()
            .ok_or(CopyError::Incomplete("the destination project ARN"))?,
        version_name: entry.target.version_name.clone(),
        s3_bucket: entry.settings.s3_bucket.clone(),
        s3_key_prefix: entry.settings.s3_key_prefix.clone(),
        kms_key_id: entry.settings.kms_key_id.clone(),
        tags: entry.settings.tags.clone(),
    })
}

/// Starts the copy of `entry` with the destination account's `session`.
pub async fn start(
    ctx: &AwsContext,
    session: &AccountSession,
    entry: &PlanEntry,
) -> Result<Started, CopyError> {
    let request = request(entry)?;
    let account_id = &session.account.account_id;
    let client = session.rekognition(&entry.region);
    match copy_project_version(ctx, &client, account_id, &request).await {
        Ok(version_arn) => Ok(Started::Started { version_arn }),
        Err(e) if e.kind == ErrorKind::InUse => {
            let found = describe_project_versions(
                ctx,
                &client,
                account_id,
                &request.destination_project_arn,
                std::slice::from_ref(&request.version_name),
            )
            .await
            .map_err(CopyError::Aws)?;
            match found.get(&request.version_name) {
                Some(v)
                    if v.source_project_version_arn.as_deref()
                        == Some(request.source_project_version_arn.as_str()) =>
                {
                    Ok(Started::Joined {
                        version_arn: v.arn.clone(),
                        status: v.status.clone(),
                    })
                }
                Some(v) => Err(CopyError::Conflict {
                    version_name: request.version_name.clone(),
                    project_arn: request.destination_project_arn.clone(),
                    expected: request.source_project_version_arn.clone(),
                    actual: v
                        .source_project_version_arn
                        .clone()
                        .unwrap_or_else(|| "no source (trained in place)".into()),
                }),
                // In use, yet not there: a project busy for another reason. Report AWS's words.
                None => Err(CopyError::Aws(e)),
            }
        }
        Err(e) => Err(CopyError::Aws(e)),
    }
}
