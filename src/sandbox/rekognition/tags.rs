//! TagResource, UntagResource and ListTagsForResource on project and project version ARNs.
//!
//! The resource must be the caller's own (another account's ARN is AccessDeniedException) and in
//! the request's region; tag keys and values follow the shared `constraints` rules.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Ctx;
use super::Input;
use crate::constraints::{self, ProjectArn, ProjectVersionArn};
use crate::sandbox::error::ApiError;

fn tags_of<'a>(
    ctx: &'a mut Ctx<'_>,
    arn: &str,
) -> Result<&'a mut BTreeMap<String, String>, ApiError> {
    if let Ok(v) = ProjectVersionArn::parse(arn) {
        let v = ctx.own_version_arn("ResourceArn", arn).map(|_| v)?;
        return Ok(&mut ctx.version_mut(&v)?.tags);
    }
    if let Ok(p) = ProjectArn::parse(arn) {
        let p = ctx.own_project_arn("ResourceArn", arn).map(|_| p)?;
        return Ok(&mut ctx.project_mut(&p)?.tags);
    }
    Err(ApiError::invalid_parameter(format!(
        "ResourceArn {arn} is not a Rekognition project or project version ARN."
    )))
}

fn resource_arn(input: &mut Input) -> Result<String, ApiError> {
    Ok(input
        .string("ResourceArn", true, 20, 2048, None)?
        .unwrap_or_default())
}

pub(super) fn tag(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = resource_arn(input)?;
    let tags = input.tags("Tags", true)?;
    input.finish()?;
    let current = tags_of(ctx, &arn)?;
    let mut merged = current.clone();
    merged.extend(tags.unwrap_or_default());
    if merged.len() > constraints::MAX_TAGS {
        return Err(ApiError::client(
            "ServiceQuotaExceededException",
            format!(
                "A resource can have at most {} tags.",
                constraints::MAX_TAGS
            ),
        ));
    }
    *current = merged;
    ctx.dirty = true;
    Ok(json!({}))
}

pub(super) fn untag(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = resource_arn(input)?;
    let keys = input.string_list("TagKeys", true, 0, 200, 1, 128, None)?;
    input.finish()?;
    let current = tags_of(ctx, &arn)?;
    for k in keys.unwrap_or_default() {
        current.remove(&k);
    }
    ctx.dirty = true;
    Ok(json!({}))
}

pub(super) fn list(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = resource_arn(input)?;
    input.finish()?;
    let current = tags_of(ctx, &arn)?;
    Ok(json!({ "Tags": current }))
}
