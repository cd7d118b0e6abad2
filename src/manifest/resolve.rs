//! Resolution: valid promotions → placements, with settings merged by precedence, then the checks
//! that only the whole set of placements can answer (collisions between promotions).
//!
//! Precedence, lowest first: the destination account's `defaults`, the promotion's `defaults`,
//! the destination, the version entry. Scalars (`outputConfig.s3Bucket`,
//! `outputConfig.s3KeyPrefix`, `kmsKeyId`) override one by one; `tags` merge, a later level's
//! value winning for the same key. The result is the sorted `DesiredState` later stages read.
//! Every promotion with `managePolicy: true` from one source project must give it one
//! `policyScope` (its managed policies are packed together).

use std::collections::{BTreeMap, HashMap};

use crate::constraints::{self, ProjectArn, ProjectVersionArn};
use crate::desired::{
    Account, DesiredState, Origin, OutputConfig, Placement, PolicyScope, ProjectRef,
};

use super::findings::{Code, Finding, Severity};
use super::load::{DocRef, Documents};
use super::model::{CopySettings, PromotionManifest};
use super::validate::AccountTable;
use super::yaml::FieldPath;

/// Settings levels merged in precedence order.
fn merge(levels: &[Option<&CopySettings>]) -> CopySettings {
    let mut merged = CopySettings::default();
    for level in levels.iter().flatten() {
        if let Some(output) = &level.output_config {
            let into = merged.output_config.get_or_insert_with(Default::default);
            if output.s3_bucket.is_some() {
                into.s3_bucket.clone_from(&output.s3_bucket);
            }
            if output.s3_key_prefix.is_some() {
                into.s3_key_prefix.clone_from(&output.s3_key_prefix);
            }
        }
        if level.kms_key_id.is_some() {
            merged.kms_key_id.clone_from(&level.kms_key_id);
        }
        if let Some(tags) = &level.tags {
            merged
                .tags
                .get_or_insert_with(BTreeMap::new)
                .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    merged
}

/// A placement with where its version entry stands, for later findings.
struct Located {
    placement: Placement,
    at: DocRef,
    label: String,
    path: FieldPath,
}

/// Turns the checked promotions into placements (reporting per-placement problems).
fn placements_of(
    docs: &Documents,
    at: DocRef,
    promotion: &PromotionManifest,
    accounts: &AccountTable<'_>,
    out: &mut Vec<Located>,
    findings: &mut Vec<Finding>,
) {
    let label = format!("promotions[{}]", promotion.name);
    let region = &promotion.region;
    let source_account = accounts[&promotion.source.account].1;
    let (source_project, source_project_arn) = project_name(&promotion.source.project);
    for (i, entry) in promotion.versions.iter().enumerate() {
        let path = FieldPath::root().key("versions").index(i);
        let (source_version, source_version_arn) = match ProjectVersionArn::parse(&entry.version) {
            Ok(arn) => (arn.version.clone(), Some(entry.version.clone())),
            Err(_) => (entry.version.clone(), None),
        };
        let version_name = entry
            .version_name
            .clone()
            .unwrap_or_else(|| source_version.clone());
        let targets: Vec<&String> = match &entry.to {
            Some(to) => to.iter().collect(),
            None => promotion.destinations.keys().collect(),
        };
        for target in targets {
            let destination = &promotion.destinations[target];
            let dest_account = accounts[&destination.account].1;
            let dest_settings = destination.settings();
            let entry_settings = entry.settings();
            let merged = merge(&[
                dest_account.defaults.as_ref(),
                promotion.defaults.as_ref(),
                Some(&dest_settings),
                Some(&entry_settings),
            ]);
            let Some(bucket) = merged
                .output_config
                .as_ref()
                .and_then(|o| o.s3_bucket.clone())
            else {
                findings.push(
                    docs.finding(
                        Code::MissingOutputConfig,
                        at,
                        &label,
                        &path,
                        format!(
                            "the copy of `{source_version}` to destination `{target}` has no \
                             output bucket: CopyProjectVersion requires OutputConfig"
                        ),
                    )
                    .allowed(format!(
                        "outputConfig.s3Bucket on account `{}`'s defaults, the promotion's \
                         defaults, destination `{target}`, or this version entry",
                        dest_account.name
                    )),
                );
                continue;
            };
            let tags = merged.tags.unwrap_or_default();
            // Apply adds reko-promote's ownership tag to every copy: one of the 200.
            if tags.len() + 1 > constraints::MAX_TAGS {
                findings.push(
                    docs.finding(
                        Code::TooManyTags,
                        at,
                        &label,
                        &path,
                        format!(
                            "the copy to destination `{target}` would carry {} tags once merged \
                             (reko-promote's ownership tag included)",
                            tags.len() + 1
                        ),
                    )
                    .allowed(format!(
                        "at most {} tags per version, reko-promote's ownership tag `{}` included",
                        constraints::MAX_TAGS,
                        super::model::OWNERSHIP_TAG
                    )),
                );
                continue;
            }
            if let Some(kms) = &merged.kms_key_id
                && let Some((key_region, _)) = constraints::kms_arn_region_account(kms)
                && &key_region != region
            {
                findings.push(
                    docs.finding(
                        Code::CrossRegion,
                        at,
                        &label,
                        &path,
                        format!(
                            "the copy to destination `{target}` would use KMS key {kms} (in \
                             {key_region}, from account `{}`'s defaults) in {region}",
                            dest_account.name
                        ),
                    )
                    .allowed(format!("a KMS key in {region} (KMS keys are regional)")),
                );
                continue;
            }
            let (dest_project, dest_project_arn) = project_name(&destination.project);
            let line = docs.files[at.file]
                .index
                .find(at.document, &path)
                .map(|p| p.0);
            out.push(Located {
                placement: Placement {
                    promotion: promotion.name.clone(),
                    destination: target.clone(),
                    region: region.clone(),
                    source_account: source_account.name.clone(),
                    source_project: ProjectRef {
                        account_id: source_account.account_id.clone(),
                        region: region.clone(),
                        name: source_project.clone(),
                        arn: source_project_arn.clone(),
                    },
                    source_version: source_version.clone(),
                    source_version_arn: source_version_arn.clone(),
                    manage_policy: promotion.source.manage_policy,
                    policy_scope: scope_of(promotion),
                    destination_account: dest_account.name.clone(),
                    destination_project: ProjectRef {
                        account_id: dest_account.account_id.clone(),
                        region: region.clone(),
                        name: dest_project,
                        arn: dest_project_arn,
                    },
                    version_name: version_name.clone(),
                    output_config: OutputConfig {
                        s3_bucket: bucket,
                        s3_key_prefix: merged.output_config.and_then(|o| o.s3_key_prefix),
                    },
                    kms_key_id: merged.kms_key_id,
                    tags,
                    origin: Origin {
                        file: docs.files[at.file].display.clone(),
                        document: at.document,
                        line,
                    },
                    lifecycle: Default::default(),
                },
                at,
                label: label.clone(),
                path: path.clone(),
            });
        }
    }
}

/// (name, ARN if one was written) of a project given by name or ARN.
fn project_name(value: &str) -> (String, Option<String>) {
    match ProjectArn::parse(value) {
        Ok(arn) => (arn.project, Some(value.to_string())),
        Err(_) => (value.to_string(), None),
    }
}

/// The policy scope of a checked promotion (`validate` refused unknown names).
fn scope_of(promotion: &PromotionManifest) -> PolicyScope {
    promotion
        .source
        .policy_scope
        .as_deref()
        .and_then(PolicyScope::from_manifest_name)
        .unwrap_or_default()
}

/// The managed policies of one source project are packed together, so every promotion that
/// manages them must give one scope: a promotion widening them would widen every other
/// promotion's grants too. Reports each promotion that disagrees with the first one seen.
fn check_policy_scopes(
    docs: &Documents,
    accounts: &AccountTable<'_>,
    usable: &[(DocRef, &PromotionManifest)],
    findings: &mut Vec<Finding>,
) {
    let path_of = |promotion: &PromotionManifest| {
        let source = FieldPath::root().key("source");
        if promotion.source.policy_scope.is_some() {
            source.key("policyScope")
        } else {
            source
        }
    };
    let mut first_by_source: BTreeMap<(String, String, String), (DocRef, &PromotionManifest)> =
        BTreeMap::new();
    for &(at, promotion) in usable {
        if !promotion.source.manage_policy {
            continue;
        }
        let source = (
            accounts[&promotion.source.account].1.account_id.clone(),
            promotion.region.clone(),
            project_name(&promotion.source.project).0,
        );
        let Some(&(first_at, first)) = first_by_source.get(&source) else {
            first_by_source.insert(source, (at, promotion));
            continue;
        };
        let (scope, first_scope) = (scope_of(promotion), scope_of(first));
        if scope == first_scope {
            continue;
        }
        findings.push(
            docs.finding(
                Code::ConflictingPolicyScope,
                at,
                &format!("promotions[{}]", promotion.name),
                &path_of(promotion),
                format!(
                    "promotion `{}` manages the policies of source project `{}` of account `{}` \
                     with policyScope `{}`{}, but promotion `{}` ({}) manages them with \
                     policyScope `{}`",
                    promotion.name,
                    source.2,
                    promotion.source.account,
                    scope.manifest_name(),
                    if promotion.source.policy_scope.is_none() {
                        " (the default)"
                    } else {
                        ""
                    },
                    first.name,
                    docs.describe_location(first_at, &path_of(first)),
                    first_scope.manifest_name()
                ),
            )
            .allowed(
                "one policyScope on every promotion with `managePolicy: true` from one source \
                 project (its policies are packed together)",
            ),
        );
    }
}

/// Placement indexes by key, hashed with foldhash (the keys are the manifests' own names).
type FastMap<K> = HashMap<K, usize, foldhash::fast::RandomState>;

/// Builds the desired state from the checked documents; `usable` says which promotions passed
/// their own checks. Cross-placement problems are reported as findings.
pub fn resolve(
    docs: &Documents,
    accounts: &AccountTable<'_>,
    usable: &[(DocRef, &PromotionManifest)],
    findings: &mut Vec<Finding>,
) -> DesiredState {
    check_policy_scopes(docs, accounts, usable, findings);
    // Sized once: a placement is a large value, and a growing vector of 10,000 of them copied
    // and page-faulted its way through every doubling.
    let declared: usize = usable
        .iter()
        .map(|(_, p)| {
            p.versions
                .iter()
                .map(|e| e.to.as_ref().map_or(p.destinations.len(), Vec::len))
                .sum::<usize>()
        })
        .sum();
    let mut located = Vec::with_capacity(declared);
    for (at, promotion) in usable {
        placements_of(docs, *at, promotion, accounts, &mut located, findings);
    }

    // One placement per destination version: different sources under one name collide; the same
    // source twice must agree on every setting.
    // Keys borrow from `located` (no clones), hashed with foldhash rather than SipHash: this loop
    // runs once per placement, 10,000 and more, and hashing was most of its cost.
    let mut by_destination: FastMap<(&str, &str, &str, &str)> =
        HashMap::with_capacity_and_hasher(located.len(), Default::default());
    let mut by_source_and_project: FastMap<(&str, &str, &str, &str, &str, &str)> =
        HashMap::with_capacity_and_hasher(located.len(), Default::default());
    let mut keep = vec![true; located.len()];
    for i in 0..located.len() {
        let p = &located[i].placement;
        let dest_key = (
            p.destination_project.account_id.as_str(),
            p.region.as_str(),
            p.destination_project.name.as_str(),
            p.version_name.as_str(),
        );
        let source_key = (
            p.source_project.account_id.as_str(),
            p.region.as_str(),
            p.source_project.name.as_str(),
            p.source_version.as_str(),
            p.destination_project.account_id.as_str(),
            p.destination_project.name.as_str(),
        );
        if p.source_project.account_id == p.destination_project.account_id
            && p.source_project.name == p.destination_project.name
            && p.source_version == p.version_name
        {
            findings.push(collision_finding(
                docs,
                &located[i],
                Code::VersionNameCollision,
                format!(
                    "destination `{}` is the source project itself: version `{}` would be \
                     copied onto itself",
                    p.destination, p.version_name
                ),
                "a different destination project, or a different `versionName`".into(),
            ));
            keep[i] = false;
            continue;
        }
        if let Some(&j) = by_destination.get(&dest_key) {
            let first = &located[j].placement;
            let same_source = first.source_project.account_id == p.source_project.account_id
                && first.source_project.name == p.source_project.name
                && first.source_version == p.source_version;
            keep[i] = false;
            if !same_source {
                findings.push(collision_finding(
                    docs,
                    &located[i],
                    Code::VersionNameCollision,
                    format!(
                        "version name `{}` in project `{}` of account `{}` is already the \
                         destination of `{}/{}` (promotion `{}`, {}); `{}/{}` cannot land under \
                         the same name",
                        p.version_name,
                        p.destination_project.name,
                        p.destination_account,
                        first.source_project.name,
                        first.source_version,
                        first.promotion,
                        origin_text(first),
                        p.source_project.name,
                        p.source_version
                    ),
                    "a distinct `versionName` for each source version in one destination project"
                        .into(),
                ));
            } else if !same_settings(first, p) {
                findings.push(collision_finding(
                    docs,
                    &located[i],
                    Code::ConflictingPlacement,
                    format!(
                        "version `{}` is promoted twice to project `{}` of account `{}` with \
                         different settings (also by promotion `{}`, {})",
                        p.source_version,
                        p.destination_project.name,
                        p.destination_account,
                        first.promotion,
                        origin_text(first)
                    ),
                    "one declaration per destination, or identical output config, KMS key and \
                     tags"
                        .into(),
                ));
            } else {
                let mut finding = collision_finding(
                    docs,
                    &located[i],
                    Code::DuplicateVersion,
                    format!(
                        "version `{}` is promoted to project `{}` of account `{}` twice, \
                         identically (also by promotion `{}`, {}); it is copied once",
                        p.source_version,
                        p.destination_project.name,
                        p.destination_account,
                        first.promotion,
                        origin_text(first)
                    ),
                    "one declaration per destination".into(),
                );
                finding.severity = Severity::Warning;
                findings.push(finding);
            }
            continue;
        }
        if let Some(&j) = by_source_and_project.get(&source_key) {
            let first = &located[j].placement;
            findings.push(collision_finding(
                docs,
                &located[i],
                Code::ConflictingPlacement,
                format!(
                    "version `{}` would be copied twice into project `{}` of account `{}`, as \
                     `{}` and as `{}` (promotion `{}`, {})",
                    p.source_version,
                    p.destination_project.name,
                    p.destination_account,
                    first.version_name,
                    p.version_name,
                    first.promotion,
                    origin_text(first)
                ),
                "one version name per source version and destination project".into(),
            ));
            keep[i] = false;
            continue;
        }
        by_destination.insert(dest_key, i);
        by_source_and_project.insert(source_key, i);
    }

    // Collected in place (no second buffer); then each kept placement is moved once, in order.
    let slots: Vec<Option<Placement>> = located
        .into_iter()
        .enumerate()
        .map(|(i, l)| keep[i].then_some(l.placement))
        .collect();
    let placements = in_key_order(slots);

    let mut accounts: Vec<Account> = accounts
        .values()
        .map(|(_, a)| Account {
            name: a.name.clone(),
            account_id: a.account_id.clone(),
            role_arn: a.role_arn.clone(),
            plan_role_arn: a.plan_role_arn.clone(),
            external_id: a.external_id.clone(),
        })
        .collect();
    accounts.sort();
    DesiredState {
        accounts,
        placements,
        serving: Vec::new(),
        partial: false,
    }
}

fn same_settings(a: &Placement, b: &Placement) -> bool {
    a.output_config == b.output_config && a.kms_key_id == b.kms_key_id && a.tags == b.tags
}

fn origin_text(p: &Placement) -> String {
    match p.origin.line {
        Some(line) => format!("{}:{line}", p.origin.file),
        None => p.origin.file.clone(),
    }
}

fn collision_finding(
    docs: &Documents,
    l: &Located,
    code: Code,
    message: String,
    allowed: String,
) -> Finding {
    docs.finding(code, l.at, &l.label, &l.path, message)
        .allowed(allowed)
}

/// The placements of `slots` in [`Placement::sort_key`] order (stable). A placement is a large
/// value: sorting their indices and then moving each placement once costs a fraction of moving
/// them around in the sort itself.
fn in_key_order(mut slots: Vec<Option<Placement>>) -> Vec<Placement> {
    let mut order: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_some()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| slots[i].as_ref().map(Placement::sort_key);
        key(a).cmp(&key(b))
    });
    let mut placements = Vec::with_capacity(order.len());
    placements.extend(order.into_iter().filter_map(|index| slots[index].take()));
    placements
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::OutputConfigSpec;

    fn level(
        bucket: Option<&str>,
        prefix: Option<&str>,
        kms: Option<&str>,
        tags: &[(&str, &str)],
    ) -> CopySettings {
        CopySettings {
            output_config: (bucket.is_some() || prefix.is_some()).then(|| OutputConfigSpec {
                s3_bucket: bucket.map(str::to_string),
                s3_key_prefix: prefix.map(str::to_string),
            }),
            kms_key_id: kms.map(str::to_string),
            tags: (!tags.is_empty()).then(|| {
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
        }
    }

    #[test]
    fn scalars_override_by_field_and_tags_merge() {
        let account = level(
            Some("acct-bucket"),
            Some("acct/"),
            Some("alias/acct"),
            &[("env", "prod"), ("team", "ml")],
        );
        let promotion = level(None, Some("promo/"), None, &[("team", "vision")]);
        let destination = level(None, None, Some("alias/dest"), &[("tier", "gold")]);
        let version = level(Some("version-bucket"), None, None, &[("env", "prod-eu")]);
        let merged = merge(&[
            Some(&account),
            Some(&promotion),
            Some(&destination),
            Some(&version),
        ]);
        let output = merged.output_config.unwrap();
        assert_eq!(output.s3_bucket.as_deref(), Some("version-bucket"));
        assert_eq!(output.s3_key_prefix.as_deref(), Some("promo/"));
        assert_eq!(merged.kms_key_id.as_deref(), Some("alias/dest"));
        let tags: Vec<(&str, &str)> = merged
            .tags
            .as_ref()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            tags,
            [("env", "prod-eu"), ("team", "vision"), ("tier", "gold")]
        );
    }
}
