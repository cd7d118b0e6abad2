//! CopyProjectVersion: same-account and cross-account (project-policy governed) copies, which
//! appear at once as COPYING_IN_PROGRESS and become COPYING_COMPLETED (or COPYING_FAILED by
//! injected fault) after the configured copy duration.
//!
//! Order of checks, chosen to match what AWS reveals to whom: request shape; destination project
//! owned by the caller and in the request's region (else AccessDenied / InvalidParameter); source
//! in the same region (else InvalidParameterException: copies never cross regions); source version
//! ARN inside the source project; for another account's source, a project policy that allows the
//! caller (else AccessDeniedException, also when the source project does not exist, so that
//! nothing about a foreign account leaks); then existence, the source being a Custom Labels
//! project, copyability, the destination being a Custom Labels project and the name being free.
//! Policy evaluation itself is the sandbox's own, `sandbox/iam_policy.rs`.
//!
//! Adapters (CONTENT_MODERATION projects): the API reference says "Copying project versions is
//! supported only for Custom Labels models" without naming the error. The sandbox answers
//! InvalidParameterException, the error the service model gives CopyProjectVersion for a request
//! whose parameters the operation cannot act on (the only other candidates, AccessDenied and
//! ResourceNotFound, would misstate the cause).

use serde_json::{Value, json};

use super::{Ctx, Input, KMS, NAME, PROJECT_ARN, VERSION_ARN, version_arn, version_not_found};
use crate::constraints::{self, ProjectArn, ProjectVersionArn};
use crate::sandbox::error::ApiError;
use crate::sandbox::iam_policy::{self, COPY_PROJECT_VERSION, Request, Requester, Verdict};
use crate::sandbox::state::{Feature, Pending, Project, Version, VersionStatus};

/// The refusal of a copy from or into an adapter project.
fn adapter_refused(side: &str, project: &Project) -> ApiError {
    ApiError::invalid_parameter(format!(
        "The {side} project {} is a {} adapter project; CopyProjectVersion copies only Custom Labels models.",
        project.arn,
        project.feature.as_str()
    ))
}

pub(super) fn copy(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let src_project = input.string("SourceProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let src_version = input.string("SourceProjectVersionArn", true, 20, 2048, Some(VERSION_ARN))?;
    let dst_project = input.string("DestinationProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let name = input.string("VersionName", true, 1, 255, Some(NAME))?;
    let output = input.output_config("OutputConfig", true)?;
    let tags = input.tags("Tags", false)?;
    let kms = input.string("KmsKeyId", false, 1, 2048, Some(KMS))?;
    input.finish()?;
    let (src_project_s, src_version_s) = (
        src_project.unwrap_or_default(),
        src_version.unwrap_or_default(),
    );
    let name = name.unwrap_or_default();
    let (bucket, prefix) = output.unwrap_or_default();

    let dst = ctx.own_project_arn("DestinationProjectArn", &dst_project.unwrap_or_default())?;
    let src = ProjectArn::parse(&src_project_s)
        .map_err(|e| ApiError::invalid_parameter(format!("SourceProjectArn: {e}")))?;
    let src_v = ProjectVersionArn::parse(&src_version_s)
        .map_err(|e| ApiError::invalid_parameter(format!("SourceProjectVersionArn: {e}")))?;
    if src.region != ctx.caller.region || src_v.region != ctx.caller.region {
        return Err(ApiError::invalid_parameter(format!(
            "The source project version {src_version_s} is in region {} but the destination project is in {}; \
             CopyProjectVersion copies only within one region.",
            src_v.region, ctx.caller.region
        )));
    }
    if src_v.account_id != src.account_id || src_v.project != src.project {
        return Err(ApiError::invalid_parameter(format!(
            "The source project version {src_version_s} does not belong to the source project {src_project_s}."
        )));
    }
    if bucket.is_none() {
        return Err(ApiError::invalid_parameter(
            "OutputConfig.S3Bucket is required to copy a model.",
        ));
    }

    // Find the source (with a settled status) and, across accounts, check the project policies.
    let now = ctx.now;
    ctx.world
        .settle_project(&src.account_id, &src.region, &src.project, now);
    let source: Option<Version> = {
        let project = ctx
            .world
            .project_mut(&src.account_id, &src.region, &src.project)
            .filter(|p| p.arn == src_project_s);
        if src.account_id != ctx.caller.account_id {
            let requester = Requester {
                partition: constraints::partition_of_region(&ctx.caller.region).to_string(),
                account_id: ctx.caller.account_id.clone(),
                identity_arn: ctx.caller.iam_arn.clone(),
                session_arn: ctx.caller.is_session.then(|| ctx.caller.arn.clone()),
            };
            let request = Request {
                requester: &requester,
                action: COPY_PROJECT_VERSION,
                resource: &src_version_s,
                region: &ctx.caller.region,
            };
            let verdict = project.as_ref().map(|p| {
                // Stored policies were checked when put; one that no longer parses (a
                // hand-edited state file) allows nothing but does not void the others.
                let documents: Vec<iam_policy::PolicyDocument> = p
                    .policies
                    .values()
                    .filter_map(|pol| iam_policy::project_policy(&pol.document).ok())
                    .collect();
                iam_policy::evaluate(&documents, &request)
            });
            let because = match verdict {
                Some(Verdict::Allow) => None,
                Some(Verdict::ExplicitDeny) => {
                    Some("with an explicit deny in a resource-based policy")
                }
                Some(Verdict::ImplicitDeny) | None => Some(
                    "because no resource-based policy allows the rekognition:CopyProjectVersion action",
                ),
            };
            if let Some(because) = because {
                return Err(ApiError::access_denied(format!(
                    "User: {} is not authorized to perform: rekognition:CopyProjectVersion on resource: {src_version_s} {because}",
                    ctx.caller.arn
                )));
            }
        }
        let Some(project) = project else {
            return Err(super::project_not_found(&src_project_s));
        };
        if project.feature != Feature::CustomLabels {
            return Err(adapter_refused("source", project));
        }
        project
            .versions
            .get(&src_v.version)
            .filter(|v| v.arn == src_version_s)
            .cloned()
    };
    let Some(source) = source else {
        return Err(version_not_found(&src_version_s));
    };
    if !source.status.is_copyable() {
        return Err(ApiError::invalid_parameter(format!(
            "The source project version {src_version_s} has status {} and cannot be copied; \
             only trained models can be copied.",
            source.status.as_str()
        )));
    }

    ctx.check_kms_region(kms.as_deref())?;
    let (duration, failure) = ctx.faults.copy_outcome(&name);
    let dst_project = ctx.project_mut(&dst)?;
    if dst_project.feature != Feature::CustomLabels {
        return Err(adapter_refused("destination", dst_project));
    }
    if dst_project.versions.contains_key(&name) {
        return Err(ApiError::in_use(format!(
            "The version name {name} is already used in project {}.",
            dst_project.arn
        )));
    }
    let arn = version_arn(&dst, &name, now);
    let (status, message) = match failure {
        Some(m) => (VersionStatus::CopyingFailed, Some(m)),
        None => (
            VersionStatus::CopyingCompleted,
            Some("The model copy is complete.".to_string()),
        ),
    };
    dst_project.versions.insert(
        name.clone(),
        Version {
            name,
            arn: arn.clone(),
            created_millis: now,
            status: VersionStatus::CopyingInProgress,
            status_message: Some("The model is being copied.".into()),
            f1_score: source.f1_score,
            summary: source.summary.clone(),
            output_bucket: bucket,
            output_prefix: prefix,
            kms_key_id: kms,
            source_version_arn: Some(src_version_s),
            description: source.description.clone(),
            tags: tags.unwrap_or_default(),
            training_end_millis: source.training_end_millis,
            billable_training_seconds: source.billable_training_seconds,
            min_inference_units: None,
            max_inference_units: None,
            pending: Some(Pending {
                due_millis: now + duration,
                status,
                status_message: message,
                ends_training: false,
            }),
        },
    );
    ctx.world
        .history
        .record(&arn, VersionStatus::CopyingInProgress, now);
    ctx.dirty = true;
    Ok(json!({ "ProjectVersionArn": arn }))
}
