//! CreateProjectVersion (simulated training), DescribeProjectVersions, DeleteProjectVersion,
//! StartProjectVersion and StopProjectVersion.
//!
//! Training and hosting transitions are stored as pending changes with a due time (see
//! `state::Pending`) and applied when the version is read; their durations, and which starts
//! fail (`start_fail_versions`), come from the fault settings. Every status change is recorded
//! in the world's status history. Copies are in `copy.rs`.

use rand::Rng;
use serde_json::{Value, json};

use super::{
    Ctx, Input, KMS, NAME, Output, PROJECT_ARN, VERSION_ARN, VersionOut, page_bounds, version_arn,
};
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{Feature, Pending, S3Object, Version, VersionStatus};

pub(super) fn create(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = input.string("ProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let name = input.string("VersionName", true, 1, 255, Some(NAME))?;
    let output = input.output_config("OutputConfig", true)?;
    let tags = input.tags("Tags", false)?;
    let kms = input.string("KmsKeyId", false, 1, 2048, Some(KMS))?;
    let description = input.string(
        "VersionDescription",
        false,
        1,
        255,
        Some(("[a-zA-Z0-9-_. ()':,;?]+", |s| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_. ()':,;?".contains(c))
        })),
    )?;
    input.finish()?;
    let arn = ctx.own_project_arn("ProjectArn", &arn.unwrap_or_default())?;
    let name = name.unwrap_or_default();
    let (bucket, prefix) = output.unwrap_or_default();
    let Some(bucket) = bucket else {
        return Err(ApiError::invalid_parameter(
            "OutputConfig.S3Bucket is required to train a model.",
        ));
    };
    ctx.check_kms_region(kms.as_deref())?;
    let now = ctx.now;
    let training = ctx.faults.training_duration_ms();
    let f1: f64 = rand::rng().random_range(0.80..0.99);
    let project = ctx.project_mut(&arn)?;
    if project.versions.contains_key(&name) {
        return Err(ApiError::in_use(format!(
            "The version name {name} is already used in project {}.",
            project.arn
        )));
    }
    let varn = version_arn(&arn, &name, now);
    let summary = S3Object {
        bucket: bucket.clone(),
        name: format!(
            "{}EvaluationResultSummary-{}-{name}.json",
            prefix.clone().unwrap_or_default(),
            arn.project
        ),
    };
    project.versions.insert(
        name.clone(),
        Version {
            name,
            arn: varn.clone(),
            created_millis: now,
            status: VersionStatus::TrainingInProgress,
            status_message: Some("The model is being trained.".into()),
            // The evaluation is known in advance but only shown once training has completed.
            f1_score: Some((f1 * 1000.0).round() / 1000.0),
            summary: Some(summary),
            output_bucket: Some(bucket),
            output_prefix: prefix,
            kms_key_id: kms,
            source_version_arn: None,
            description,
            tags: tags.unwrap_or_default(),
            training_end_millis: None,
            billable_training_seconds: None,
            min_inference_units: None,
            max_inference_units: None,
            pending: Some(Pending {
                due_millis: now + training,
                status: VersionStatus::TrainingCompleted,
                status_message: Some("The model is ready to run.".into()),
                ends_training: true,
            }),
        },
    );
    ctx.world
        .history
        .record(&varn, VersionStatus::TrainingInProgress, now);
    ctx.dirty = true;
    Ok(json!({ "ProjectVersionArn": varn }))
}

pub(super) fn describe(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Output, ApiError> {
    let arn = input.string("ProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let names = input.string_list("VersionNames", false, 1, 10, 1, 255, Some(NAME))?;
    let token = input.string("NextToken", false, 0, 1024, None)?;
    let max = input.int("MaxResults", false, 1, Some(100))?;
    input.finish()?;
    let arn_s = arn.unwrap_or_default();
    let arn = ctx.own_project_arn("ProjectArn", &arn_s)?;
    let (now, secret) = (ctx.now, ctx.token_secret);
    ctx.world
        .settle_project(&arn.account_id, &arn.region, &arn.project, now);
    let project = ctx.project_mut(&arn)?;
    let feature = project.feature;
    let mut versions: Vec<&Version> = project
        .versions
        .values()
        .filter(|v| names.as_ref().is_none_or(|n| n.contains(&v.name)))
        .collect();
    // Newest first, as AWS lists them.
    versions.sort_by(|a, b| {
        b.created_millis
            .cmp(&a.created_millis)
            .then_with(|| a.name.cmp(&b.name))
    });
    let items: Vec<VersionOut<'_>> = versions
        .iter()
        .map(|v| VersionOut::new(v, feature))
        .collect();
    let scope = format!("DescribeProjectVersions|{arn_s}|{names:?}");
    let (start, end, next) = page_bounds(
        secret,
        items.len(),
        max.unwrap_or(100) as usize,
        token.as_deref(),
        &scope,
    )?;
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Page<'a, 'b> {
        project_version_descriptions: &'b [VersionOut<'a>],
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }
    let body = serde_json::to_string(&Page {
        project_version_descriptions: &items[start..end],
        next_token: next,
    })
    .map_err(|e| {
        ApiError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            e.to_string(),
        )
    })?;
    Ok(Output::Serialized(body))
}

fn version_arn_input(
    ctx: &Ctx<'_>,
    input: &mut Input,
) -> Result<crate::constraints::ProjectVersionArn, ApiError> {
    let arn = input.string("ProjectVersionArn", true, 20, 2048, Some(VERSION_ARN))?;
    input.finish()?;
    ctx.own_version_arn("ProjectVersionArn", &arn.unwrap_or_default())
}

pub(super) fn delete(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = version_arn_input(ctx, input)?;
    let now = ctx.now;
    let v = ctx.version_mut(&arn)?;
    match v.status {
        VersionStatus::Running | VersionStatus::Starting | VersionStatus::Stopping => {
            return Err(ApiError::in_use(format!(
                "Cannot delete project version {} while it is {}. Stop the model with StopProjectVersion and wait until it is STOPPED.",
                v.arn,
                v.status.as_str()
            )));
        }
        VersionStatus::TrainingInProgress | VersionStatus::CopyingInProgress => {
            return Err(ApiError::in_use(format!(
                "Cannot delete project version {} while it is {}. Wait until it finishes.",
                v.arn,
                v.status.as_str()
            )));
        }
        _ => {}
    }
    let full = v.arn.clone();
    if let Some(p) = ctx
        .world
        .project_mut(&arn.account_id, &arn.region, &arn.project)
    {
        p.versions.remove(&arn.version);
    }
    ctx.world
        .history
        .record(&full, VersionStatus::Deleting, now);
    ctx.dirty = true;
    Ok(json!({ "Status": "DELETING" }))
}

/// Refuses hosting an adapter: StartProjectVersion and StopProjectVersion "apply only to Amazon
/// Rekognition Custom Labels" (service model); InvalidParameterException as for copies.
fn custom_labels_only(
    ctx: &Ctx<'_>,
    arn: &crate::constraints::ProjectVersionArn,
) -> Result<(), ApiError> {
    match ctx
        .world
        .project(&arn.account_id, &arn.region, &arn.project)
        .map(|p| p.feature)
    {
        Some(feature) if feature != Feature::CustomLabels => {
            Err(ApiError::invalid_parameter(format!(
                "The project version {arn} belongs to a {} adapter project; {} applies only to Custom Labels models.",
                feature.as_str(),
                ctx.op
            )))
        }
        _ => Ok(()),
    }
}

/// Statuses StartProjectVersion accepts: a trained or copied model that is not hosted, or one
/// whose last start failed.
fn is_startable(status: VersionStatus) -> bool {
    matches!(
        status,
        VersionStatus::TrainingCompleted
            | VersionStatus::CopyingCompleted
            | VersionStatus::Stopped
            | VersionStatus::Failed
    )
}

pub(super) fn start(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = input.string("ProjectVersionArn", true, 20, 2048, Some(VERSION_ARN))?;
    let min = input.int("MinInferenceUnits", true, 1, None)?;
    let max = input.int("MaxInferenceUnits", false, 1, None)?;
    input.finish()?;
    let arn = ctx.own_version_arn("ProjectVersionArn", &arn.unwrap_or_default())?;
    let min = min.unwrap_or(1);
    if max.is_some_and(|m| m < min) {
        return Err(ApiError::invalid_parameter(
            "MaxInferenceUnits must be greater than or equal to MinInferenceUnits.",
        ));
    }
    custom_labels_only(ctx, &arn)?;
    let now = ctx.now;
    let (delay, failure) = ctx.faults.start_outcome(&arn.version);
    let v = ctx.version_mut(&arn)?;
    if !is_startable(v.status) {
        return Err(ApiError::in_use(format!(
            "The model {} cannot be started while it is {}.",
            v.arn,
            v.status.as_str()
        )));
    }
    let (status, status_message) = match failure {
        Some(message) => (VersionStatus::Failed, message),
        None => (VersionStatus::Running, "The model is running.".to_string()),
    };
    v.status = VersionStatus::Starting;
    v.status_message = Some("The model is being started.".into());
    v.min_inference_units = Some(min);
    v.max_inference_units = Some(max.unwrap_or(min));
    v.pending = Some(Pending {
        due_millis: now + delay,
        status,
        status_message: Some(status_message),
        ends_training: false,
    });
    let full = v.arn.clone();
    ctx.world
        .history
        .record(&full, VersionStatus::Starting, now);
    ctx.dirty = true;
    Ok(json!({ "Status": "STARTING" }))
}

pub(super) fn stop(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = version_arn_input(ctx, input)?;
    custom_labels_only(ctx, &arn)?;
    let (now, delay) = (ctx.now, ctx.faults.hosting_transition_ms());
    let v = ctx.version_mut(&arn)?;
    if !matches!(v.status, VersionStatus::Running | VersionStatus::Starting) {
        return Err(ApiError::in_use(format!(
            "The model {} cannot be stopped while it is {}.",
            v.arn,
            v.status.as_str()
        )));
    }
    v.status = VersionStatus::Stopping;
    v.status_message = Some("The model is being stopped.".into());
    v.pending = Some(Pending {
        due_millis: now + delay,
        status: VersionStatus::Stopped,
        status_message: Some("The model is stopped.".into()),
        ends_training: false,
    });
    let full = v.arn.clone();
    ctx.world
        .history
        .record(&full, VersionStatus::Stopping, now);
    ctx.dirty = true;
    Ok(json!({ "Status": "STOPPING" }))
}
