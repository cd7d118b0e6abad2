//! Serving and prune in the manifests: `running` (which version serves in a destination
//! project, with how many inference units) and `prune` on destinations.
//!
//! `check` validates one promotion's declarations (the running version must be one the
//! destination receives; units at least 1, `max` at least `min`), reporting findings with file
//! and line like every other check. `resolve` turns the checked destinations into the desired
//! state's [`Serving`] declarations and refuses two destinations of one project that disagree on
//! what runs there (`conflicting-running`). Deciding what to start, stop or delete against live
//! state is the plan's job (`plan::serving`).

use std::collections::{BTreeMap, BTreeSet};

use crate::desired::{InferenceUnits, Origin, ProjectRef, Running, Serving};

use super::findings::Code;
use super::load::{DocRef, Documents};
use super::model::PromotionManifest;
use super::validate::{AccountTable, Checker};
use super::yaml::FieldPath;

/// The version names a destination receives: each version entry sent to it, by its name there.
fn received(promotion: &PromotionManifest, destination: &str) -> BTreeSet<String> {
    promotion
        .versions
        .iter()
        .filter(|e| {
            e.to.as_ref()
                .is_none_or(|to| to.iter().any(|t| t == destination))
        })
        .map(|e| version_name_of(&e.version, e.version_name.as_deref()))
        .collect()
}

/// The destination name of a version entry: `versionName`, else the source version's name.
pub fn version_name_of(version: &str, version_name: Option<&str>) -> String {
    match version_name {
        Some(name) => name.to_string(),
        None => crate::constraints::ProjectVersionArn::parse(version)
            .map_or_else(|_| version.to_string(), |arn| arn.version),
    }
}

/// Checks the `running` declarations of one promotion; findings go to `c`.
pub fn check(c: &mut Checker<'_>, at: DocRef, label: &str, promotion: &PromotionManifest) {
    for (name, destination) in &promotion.destinations {
        let Some(running) = &destination.running else {
            continue;
        };
        let path = FieldPath::root()
            .key("destinations")
            .key(name)
            .key("running");
        let names = received(promotion, name);
        if !names.contains(&running.version_name) {
            let shown: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let hint =
                super::load::closest(&running.version_name, names.iter().map(String::as_str))
                    .map(|best| format!("did you mean `{best}`?"));
            let finding = c.error(
                Code::RunningNotReceived,
                at,
                label,
                &path.key("versionName"),
                format!(
                    "destination `{name}` is to run version `{}`, which it does not receive",
                    running.version_name
                ),
            );
            finding.allowed = Some(if shown.is_empty() {
                format!("the name of a version sent to `{name}` (none is)")
            } else {
                format!(
                    "the name of a version sent to `{name}`: {}",
                    shown.join(", ")
                )
            });
            finding.hint = hint;
        }
        let Some(units) = running.inference_units else {
            continue;
        };
        let units_path = path.key("inferenceUnits");
        if units.min == 0 {
            c.error(
                Code::InvalidValue,
                at,
                label,
                &units_path.key("min"),
                "inferenceUnits.min is 0: a running model has at least one inference unit",
            )
            .allowed = Some("a whole number of at least 1 (MinInferenceUnits)".into());
        }
        if let Some(max) = units.max
            && max < units.min.max(1)
        {
            c.error(
                Code::InvalidValue,
                at,
                label,
                &units_path.key("max"),
                format!(
                    "inferenceUnits.max {max} is below inferenceUnits.min {}",
                    units.min
                ),
            )
            .allowed = Some(format!(
                "a whole number of at least {} (MaxInferenceUnits, at least min), or no max \
                 (no auto-scaling)",
                units.min.max(1)
            ));
        }
    }
}

/// The `running`/`prune` declarations of the checked promotions, as the desired state holds
/// them. Two destinations of one project declaring different `running` are refused.
pub fn resolve(
    docs: &Documents,
    accounts: &AccountTable<'_>,
    usable: &[(DocRef, &PromotionManifest)],
    findings: &mut Vec<super::findings::Finding>,
) -> Vec<Serving> {
    let mut out: Vec<Serving> = Vec::new();
    // The first `running` seen per project, with where it was declared.
    let mut first: BTreeMap<(String, String, String), (Running, String)> = BTreeMap::new();
    for &(at, promotion) in usable {
        let label = format!("promotions[{}]", promotion.name);
        let Some((_, source_account)) = accounts.get(&promotion.source.account) else {
            continue;
        };
        for (name, destination) in &promotion.destinations {
            if destination.running.is_none() && !destination.prune {
                continue;
            }
            let Some((_, account)) = accounts.get(&destination.account) else {
                continue;
            };
            let project = match crate::constraints::ProjectArn::parse(&destination.project) {
                Ok(arn) => (arn.project, Some(destination.project.clone())),
                Err(_) => (destination.project.clone(), None),
            };
            let path = FieldPath::root().key("destinations").key(name);
            let running = destination.running.as_ref().map(|r| Running {
                version_name: r.version_name.clone(),
                units: r
                    .inference_units
                    .map_or(InferenceUnits { min: 1, max: None }, |u| InferenceUnits {
                        min: u.min,
                        max: u.max,
                    }),
            });
            if let Some(running) = &running {
                let key = (
                    account.account_id.clone(),
                    promotion.region.clone(),
                    project.0.clone(),
                );
                let here = docs.describe_location(at, &path.key("running"));
                match first.get(&key) {
                    Some((seen, _)) if seen == running => {}
                    Some((seen, there)) => {
                        findings.push(
                            docs.finding(
                                Code::ConflictingRunning,
                                at,
                                &label,
                                &path.key("running"),
                                format!(
                                    "destination `{name}` runs `{}` with {} in project `{}` of \
                                     account `{}`, but {there} runs `{}` with {} there",
                                    running.version_name,
                                    running.units,
                                    project.0,
                                    destination.account,
                                    seen.version_name,
                                    seen.units
                                ),
                            )
                            .allowed(
                                "one `running` per destination project: declare it on one \
                                 destination, or the same version and units on each",
                            ),
                        );
                        continue;
                    }
                    None => {
                        first.insert(key, (running.clone(), here));
                    }
                }
            }
            let line = docs.files[at.file]
                .index
                .find(at.document, &path)
                .map(|p| p.0);
            out.push(Serving {
                promotion: promotion.name.clone(),
                destination: name.clone(),
                source_account: source_account.name.clone(),
                account: account.name.clone(),
                project: ProjectRef {
                    account_id: account.account_id.clone(),
                    region: promotion.region.clone(),
                    name: project.0,
                    arn: project.1,
                },
                running,
                prune: destination.prune,
                origin: Origin {
                    file: docs.files[at.file].display.clone(),
                    document: at.document,
                    line,
                },
            });
        }
    }
    out.sort_by(|a, b| {
        (
            &a.project.account_id,
            &a.project.region,
            &a.project.name,
            &a.promotion,
            &a.destination,
        )
            .cmp(&(
                &b.project.account_id,
                &b.project.region,
                &b.project.name,
                &b.promotion,
                &b.destination,
            ))
    });
    out
}
