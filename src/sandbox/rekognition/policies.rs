//! PutProjectPolicy, ListProjectPolicies and DeleteProjectPolicy.
//!
//! Revision semantics, per the Rekognition documentation: a new policy is put without a
//! PolicyRevisionId (giving one for a policy that does not exist is
//! InvalidPolicyRevisionIdException); updating an existing policy needs its current revision id
//! (a missing one is ResourceAlreadyExistsException, a stale one InvalidPolicyRevisionIdException);
//! each put yields a new revision id. At most 5 policies per project (LimitExceededException).
//! Documents (at most 2,000 characters) are checked by the sandbox's own `iam_policy.rs`, and
//! refused with MalformedPolicyDocumentException. Policies "only apply to Custom Labels
//! projects" (PutProjectPolicy's documentation): putting one on an adapter project is an
//! InvalidParameterException.

use serde_json::{Value, json};

use super::{Ctx, Input, POLICY_NAME, PROJECT_ARN, REVISION, page};
use crate::sandbox::error::ApiError;
use crate::sandbox::iam_policy::{self, MalformedPolicyDocument};
use crate::sandbox::seed::revision_id;
use crate::sandbox::state::{Feature, Policy, millis_to_secs};

/// Project policies allowed per project.
pub const MAX_POLICIES: usize = 5;

pub(super) fn put(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = input.string("ProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let name = input.string("PolicyName", true, 1, 128, Some(POLICY_NAME))?;
    let revision = input.string("PolicyRevisionId", false, 0, 64, Some(REVISION))?;
    let document = input.string(
        "PolicyDocument",
        true,
        1,
        2000,
        Some(("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", |s| {
            s.chars()
                .all(|c| matches!(c, '\u{09}' | '\u{0A}' | '\u{0D}' | '\u{20}'..='\u{FF}'))
        })),
    )?;
    input.finish()?;
    let arn = ctx.own_project_arn("ProjectArn", &arn.unwrap_or_default())?;
    let (name, document) = (name.unwrap_or_default(), document.unwrap_or_default());
    if let Err(e) = iam_policy::project_policy(&document) {
        return Err(ApiError::client(MalformedPolicyDocument::CODE, e.message));
    }
    let now = ctx.now;
    let project = ctx.project_mut(&arn)?;
    if project.feature != Feature::CustomLabels {
        return Err(ApiError::invalid_parameter(format!(
            "The project {} is a {} adapter project; project policies apply only to Custom Labels projects.",
            project.arn,
            project.feature.as_str()
        )));
    }
    let new_revision = revision_id(&format!(
        "{}/{name}/{now}/{document}/{}",
        project.arn,
        rand::random::<u64>()
    ));
    match (project.policies.get_mut(&name), revision) {
        (Some(existing), Some(rev)) => {
            if !rev.eq_ignore_ascii_case(&existing.revision_id) {
                return Err(ApiError::client(
                    "InvalidPolicyRevisionIdException",
                    format!("The revision id {rev} is not the current revision of policy {name}."),
                ));
            }
            existing.revision_id = new_revision.clone();
            existing.document = document;
            existing.updated_millis = now;
        }
        (Some(_), None) => {
            return Err(ApiError::client(
                "ResourceAlreadyExistsException",
                format!(
                    "A policy named {name} already exists on the project; give its PolicyRevisionId to update it."
                ),
            ));
        }
        (None, Some(rev)) => {
            return Err(ApiError::client(
                "InvalidPolicyRevisionIdException",
                format!(
                    "The revision id {rev} does not match any revision of policy {name}, which does not exist."
                ),
            ));
        }
        (None, None) => {
            if project.policies.len() >= MAX_POLICIES {
                return Err(ApiError::client(
                    "LimitExceededException",
                    format!("A project can have at most {MAX_POLICIES} project policies."),
                ));
            }
            project.policies.insert(
                name.clone(),
                Policy {
                    name,
                    revision_id: new_revision.clone(),
                    document,
                    created_millis: now,
                    updated_millis: now,
                },
            );
        }
    }
    ctx.dirty = true;
    Ok(json!({ "PolicyRevisionId": new_revision }))
}

pub(super) fn list(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = input.string("ProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let token = input.string("NextToken", false, 0, 1024, None)?;
    let max = input.int("MaxResults", false, 1, Some(5))?;
    input.finish()?;
    let arn_s = arn.unwrap_or_default();
    let arn = ctx.own_project_arn("ProjectArn", &arn_s)?;
    let project = ctx.project_mut(&arn)?;
    let items: Vec<Value> = project
        .policies
        .values()
        .map(|p| {
            json!({
                "ProjectArn": project.arn,
                "PolicyName": p.name,
                "PolicyRevisionId": p.revision_id,
                "PolicyDocument": p.document,
                "CreationTimestamp": millis_to_secs(p.created_millis),
                "LastUpdatedTimestamp": millis_to_secs(p.updated_millis),
            })
        })
        .collect();
    let scope = format!("ListProjectPolicies|{arn_s}");
    let (items, next) = page(
        ctx,
        items,
        max.unwrap_or(5) as usize,
        token.as_deref(),
        &scope,
    )?;
    let mut out = json!({ "ProjectPolicies": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

pub(super) fn delete(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = input.string("ProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    let name = input.string("PolicyName", true, 1, 128, Some(POLICY_NAME))?;
    let revision = input.string("PolicyRevisionId", false, 0, 64, Some(REVISION))?;
    input.finish()?;
    let arn = ctx.own_project_arn("ProjectArn", &arn.unwrap_or_default())?;
    let name = name.unwrap_or_default();
    let project = ctx.project_mut(&arn)?;
    let Some(existing) = project.policies.get(&name) else {
        return Err(ApiError::not_found(format!(
            "The project policy {name} does not exist on project {}.",
            project.arn
        )));
    };
    if let Some(rev) = revision {
        if !rev.eq_ignore_ascii_case(&existing.revision_id) {
            return Err(ApiError::client(
                "InvalidPolicyRevisionIdException",
                format!("The revision id {rev} is not the current revision of policy {name}."),
            ));
        }
    }
    project.policies.remove(&name);
    ctx.dirty = true;
    Ok(json!({}))
}
