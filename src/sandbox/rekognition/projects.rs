//! CreateProject, DescribeProjects and DeleteProject.
//!
//! Projects are created at once in status CREATED (Custom Labels projects need no provisioning) and
//! deleted at once; deleting a project that still has versions is refused, as AWS requires the
//! versions to be deleted first. Versions and policies are handled in their own files.
//!
//! `Feature` follows the service model: CUSTOM_LABELS unless CONTENT_MODERATION is asked for (an
//! adapter project). `AutoUpdate` is "required for Content Moderation, applicable only to
//! adapters" (CreateProjectRequest's documentation; the Terraform and Pulumi providers word it
//! "must be set when feature is CONTENT_MODERATION, but do not set otherwise"), so either misuse
//! is an InvalidParameterException. DescribeProjects without `Features` lists CUSTOM_LABELS
//! projects only ("If no value is specified, CUSTOM_LABELS is used as a default").

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Ctx, Input, NAME, PROJECT_ARN, page, project_arn, project_json};
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{AutoUpdate, Feature, Project};

/// The `CustomizationFeature` values, as validation messages list them.
fn feature_names() -> Vec<&'static str> {
    Feature::ALL.iter().map(|f| f.as_str()).collect()
}

pub(super) fn create(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let name = input.string("ProjectName", true, 1, 255, Some(NAME))?;
    let feature = input.enumeration("Feature", &feature_names())?;
    let auto_update_names: Vec<&str> = AutoUpdate::ALL.iter().map(|a| a.as_str()).collect();
    let auto_update = input.enumeration("AutoUpdate", &auto_update_names)?;
    let tags = input.tags("Tags", false)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    // Both were checked against their enum values by `finish`.
    let feature = feature
        .as_deref()
        .and_then(Feature::parse)
        .unwrap_or_default();
    let auto_update = auto_update.as_deref().and_then(AutoUpdate::parse);
    match (feature, auto_update) {
        (Feature::ContentModeration, None) => {
            return Err(ApiError::invalid_parameter(
                "AutoUpdate is required for projects with the CONTENT_MODERATION feature.",
            ));
        }
        (Feature::CustomLabels, Some(_)) => {
            return Err(ApiError::invalid_parameter(
                "AutoUpdate can only be set for projects with the CONTENT_MODERATION feature.",
            ));
        }
        _ => {}
    }
    let (account, region) = (ctx.caller.account_id.clone(), ctx.caller.region.clone());
    let created = ctx.now;
    let rs = ctx.world.region_mut(&account, &region);
    if rs.projects.contains_key(&name) {
        return Err(ApiError::in_use(format!(
            "The project name {name} is already in use."
        )));
    }
    let arn = project_arn(&region, &account, &name, created);
    rs.projects.insert(
        name.clone(),
        Project {
            name,
            arn: arn.clone(),
            created_millis: created,
            feature,
            auto_update,
            tags: tags.unwrap_or_default(),
            versions: BTreeMap::new(),
            policies: BTreeMap::new(),
        },
    );
    ctx.dirty = true;
    Ok(json!({ "ProjectArn": arn }))
}

pub(super) fn describe(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let token = input.string("NextToken", false, 0, 1024, None)?;
    let max = input.int("MaxResults", false, 1, Some(100))?;
    let names = input.string_list("ProjectNames", false, 1, 10, 1, 255, Some(NAME))?;
    let features = input.string_list("Features", false, 1, 2, 0, 64, None)?;
    input.finish()?;
    let features: Vec<Feature> = match &features {
        None => vec![Feature::CustomLabels],
        Some(names) => names
            .iter()
            .map(|name| {
                Feature::parse(name).ok_or_else(|| {
                    ApiError::validation(format!(
                        "1 validation error detected: Value '{name}' at 'features' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                        feature_names().join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut projects: Vec<&Project> = ctx
        .world
        .region(&ctx.caller.account_id, &ctx.caller.region)
        .map(|r| r.projects.values().collect())
        .unwrap_or_default();
    if let Some(names) = &names {
        projects.retain(|p| names.contains(&p.name));
    }
    projects.retain(|p| features.contains(&p.feature));
    // Newest first, as the console and the API list them.
    projects.sort_by(|a, b| {
        b.created_millis
            .cmp(&a.created_millis)
            .then(a.name.cmp(&b.name))
    });
    let items: Vec<Value> = projects.into_iter().map(project_json).collect();
    let scope = format!(
        "DescribeProjects|{}|{}|{:?}|{:?}",
        ctx.caller.account_id, ctx.caller.region, names, features
    );
    let (items, next) = page(
        ctx,
        items,
        max.unwrap_or(100) as usize,
        token.as_deref(),
        &scope,
    )?;
    let mut out = json!({ "ProjectDescriptions": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

pub(super) fn delete(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let arn = input.string("ProjectArn", true, 20, 2048, Some(PROJECT_ARN))?;
    input.finish()?;
    let arn = ctx.own_project_arn("ProjectArn", &arn.unwrap_or_default())?;
    let project = ctx.project_mut(&arn)?;
    if !project.versions.is_empty() {
        return Err(ApiError::in_use(format!(
            "The project {} has {} model version(s); delete them before deleting the project.",
            project.arn,
            project.versions.len()
        )));
    }
    if let Some(rs) = ctx
        .world
        .rekognition
        .get_mut(&arn.account_id)
        .and_then(|r| r.get_mut(&arn.region))
    {
        rs.projects.remove(&arn.project);
    }
    ctx.dirty = true;
    Ok(json!({ "Status": "DELETING" }))
}
