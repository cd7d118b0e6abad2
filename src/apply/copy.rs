//! Starting one copy: the last policy check and the CopyProjectVersion call, in the destination
//! account, with ResourceInUseException turned into what it means.
//!
//! A name already in use is read back (DescribeProjectVersions): from the same source version it
//! is the same copy, started by a concurrent run or by an SDK retry of our own call whose first
//! answer was lost, and apply waits for it; from another source it is a conflict. This is what
//! makes apply idempotent: a copy is never started twice under one name. Waiting is `wait`'s
//! job, and writing policies `policies`'s.

use crate::aws::copy_project_version::{CopyRequest, copy_project_version};
use crate::aws::describe_project_versions::{Versions, describe_project_versions};
use crate::aws::{AccountSession, AwsContext, CallSite, ErrorKind};
use crate::plan::PlanEntry;
use crate::policy::{self, Caller, Decision, PolicyDocument};
use crate::state::{LivePolicy, LiveVersion, VersionStatus};

use super::report::{Missing, ReportReason};

/// How a copy got going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// This run started it.
    Started { version_arn: String },
    /// The same copy was already under way (or done): wait for it.
    Joined {
        version_arn: String,
        status: VersionStatus,
    },
}

/// Whether the source project's `policies` let the destination account (acting through
/// `role_arn`, if any) copy the entry's source version; the reason to report when not.
pub fn check_policy(
    entry: &PlanEntry,
    role_arn: Option<String>,
    policies: &[LivePolicy],
) -> Result<(), Box<ReportReason>> {
    let version_arn =
        entry
            .source
            .version_arn
            .clone()
            .ok_or(Box::new(ReportReason::Incomplete {
                missing: Missing::SourceVersionArn,
            }))?;
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
        decision => Err(Box::new(ReportReason::PolicyNoLongerAllows { decision })),
    }
}

/// The CopyProjectVersion request of a plan entry.
pub fn request(entry: &PlanEntry) -> Result<CopyRequest, Box<ReportReason>> {
    let missing = |missing| Box::new(ReportReason::Incomplete { missing });
    Ok(CopyRequest {
        source_project_arn: entry
            .source
            .project_arn
            .clone()
            .ok_or(missing(Missing::SourceProjectArn))?,
        source_project_version_arn: entry
            .source
            .version_arn
            .clone()
            .ok_or(missing(Missing::SourceVersionArn))?,
        destination_project_arn: entry
            .target
            .project_arn
            .clone()
            .ok_or(missing(Missing::DestinationProjectArn))?,
        version_name: entry.target.version_name.clone(),
        s3_bucket: entry.settings.s3_bucket.clone(),
        s3_key_prefix: entry.settings.s3_key_prefix.clone(),
        kms_key_id: entry.settings.kms_key_id.clone(),
        tags: with_ownership_tag(entry),
    })
}

/// The copy's tags: the manifests' merged tags and reko-promote's ownership tag
/// (`reko-promote:promotion` = the promotion's name), by which a later run knows it made the
/// version (tag-on-create: CopyProjectVersion's `Tags`, authorized by rekognition:TagResource).
pub fn with_ownership_tag(entry: &PlanEntry) -> std::collections::BTreeMap<String, String> {
    let mut tags = entry.settings.tags.clone();
    tags.insert(
        crate::manifest::model::OWNERSHIP_TAG.to_string(),
        entry.key.promotion.clone(),
    );
    tags
}

/// Why a copy was not started, and the outcome it makes.
pub enum NotStarted {
    /// The name holds a version from another source.
    Conflict(ReportReason),
    Failed(ReportReason),
}

/// Starts the copy of `entry` with the destination account's `session`.
pub async fn start(
    ctx: &AwsContext,
    session: &AccountSession,
    entry: &PlanEntry,
) -> Result<Started, NotStarted> {
    let request = request(entry).map_err(|why| NotStarted::Failed(*why))?;
    let site = CallSite::from(&session.account);
    let client = session.rekognition(&entry.region);
    let failed = |error| {
        NotStarted::Failed(ReportReason::CallFailed {
            error: Box::new(error),
        })
    };
    let foreign = |arn: &str| {
        (!crate::state::read::arn_is_in(arn, site.account_id, &entry.region)).then(|| {
            NotStarted::Failed(ReportReason::ForeignArn {
                arn: arn.to_string(),
            })
        })
    };
    match copy_project_version(ctx, &client, site, &request).await {
        Ok(version_arn) => match foreign(&version_arn) {
            Some(refused) => Err(refused),
            None => Ok(Started::Started { version_arn }),
        },
        Err(e) if e.kind == ErrorKind::InUse => {
            let found = describe_project_versions(
                ctx,
                &client,
                site,
                &request.destination_project_arn,
                Versions::Named(std::slice::from_ref(&request.version_name)),
            )
            .await
            .map_err(failed)?;
            match found
                .get(&request.version_name)
                .and_then(LiveVersion::from_description)
            {
                Some(v)
                    if v.source_project_version_arn.as_deref()
                        == Some(request.source_project_version_arn.as_str()) =>
                {
                    Ok(Started::Joined {
                        version_arn: v.arn,
                        status: v.status,
                    })
                }
                Some(v) => Err(NotStarted::Conflict(ReportReason::NameTaken {
                    actual_source: v.source_project_version_arn,
                })),
                // In use, yet not there: a project busy for another reason. Report AWS's words.
                None => Err(failed(e)),
            }
        }
        Err(e) => Err(failed(e)),
    }
}
