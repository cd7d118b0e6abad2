//! CreateProject, DescribeProjects and DeleteProject.
//!
//! Projects are created at once in status CREATED (Custom Labels projects need no provisioning) and
//! deleted at once; deleting a project that still has versions is refused, as AWS requires the
//! versions to be deleted first. Versions and policies are handled in their own files.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Ctx, Input, NAME, PROJECT_ARN, page, project_arn, project_json};
use crate::sandbox::error::ApiError;
use crate::sandbox::state::Project;

const FEATURES: &[&str] = &["CONTENT_MODERATION", "CUSTOM_LABELS"];

pub(super) fn create(ctx: &mut Ctx<'_>, input: &mut Input) -> Result<Value, ApiError> {
    let name = input.string("ProjectName", true, 1, 255, Some(NAME))?;
    let feature = input.enumeration("Feature", FEATURES)?;
    let auto_update = input.enumeration("AutoUpdate", &["ENABLED", "DISABLED"])?;
    let tags = input.tags("Tags", false)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    let feature = feature.unwrap_or_else(|| "CUSTOM_LABELS".into());
    if auto_update.is_some() && feature != "CONTENT_MODERATION" {
        return Err(ApiError::invalid_parameter(
            "AutoUpdate can only be set for projects with the CONTENT_MODERATION feature.",
        ));
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
            feature: feature.clone(),
            auto_update: (feature == "CONTENT_MODERATION")
                .then(|| auto_update.unwrap_or_else(|| "DISABLED".into())),
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
    if let Some(fs) = &features {
        if let Some(bad) = fs.iter().find(|f| !FEATURES.contains(&f.as_str())) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{bad}' at 'features' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                FEATURES.join(", ")
            )));
        }
    }
    let mut projects: Vec<&Project> = ctx
        .world
        .region(&ctx.caller.account_id, &ctx.caller.region)
        .map(|r| r.projects.values().collect())
        .unwrap_or_default();
    if let Some(names) = &names {
        projects.retain(|p| names.contains(&p.name));
    }
    if let Some(fs) = &features {
        projects.retain(|p| fs.contains(&p.feature));
    }
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
