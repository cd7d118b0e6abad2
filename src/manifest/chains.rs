//! Promotion lifecycle in the manifests: quality `gates` (promotion and version level) and
//! promotion chains (`after` and `soak` on destinations).
//!
//! `check` validates one promotion's gates and chain (F1 scores within 0..1, required tags,
//! `after` naming a declared destination, no cycle, every version sent to a destination also
//! sent to the one it comes after, `soak` a bounded duration that needs `after`), reporting
//! findings with file and line like every other check. `attach` then gives each resolved
//! placement its lifecycle: the gates resolved field by field (version entry over promotion) and
//! the predecessor placement it waits for. Deciding whether a placement is held is the plan's job
//! (`plan::gates`), against live state.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::desired::{After, DesiredState, Gates, PlacementKey, ProjectRef, Score};

use super::findings::Code;
use super::load::DocRef;
use super::model::{GatesSpec, PromotionManifest, VersionEntry};
use super::serving::version_name_of;
use super::validate::{AccountTable, Checker};
use super::yaml::FieldPath;

/// The longest `soak` accepted: a year (a longer one is surely a typo).
pub const MAX_SOAK: Duration = Duration::from_secs(365 * 24 * 3600);

/// What `soak` accepts, for findings.
pub const SOAK_ALLOWED: &str =
    "a duration such as `24h`, `30m` or `2d 12h` (units s, m, h, d, w), at most 365d";

/// Why a `soak` value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SoakError {
    #[error("is negative")]
    Negative,
    #[error("is longer than a year")]
    TooLong,
    #[error("is not a duration")]
    Malformed,
}

/// A `soak` value as a duration (`24h`, `30m`, `2d 12h`): humantime's syntax, at most
/// [`MAX_SOAK`]. Negative or malformed values are refused.
pub fn parse_soak(value: &str) -> Result<Duration, SoakError> {
    let trimmed = value.trim();
    if trimmed.starts_with('-') {
        return Err(SoakError::Negative);
    }
    match humantime::parse_duration(trimmed) {
        Ok(d) if d > MAX_SOAK => Err(SoakError::TooLong),
        Ok(d) => Ok(d),
        Err(_) => Err(SoakError::Malformed),
    }
}

/// Checks the gates and chain of one promotion; findings go to `c`.
pub fn check(c: &mut Checker<'_>, at: DocRef, label: &str, promotion: &PromotionManifest) {
    let root = FieldPath::root();
    if let Some(gates) = &promotion.gates {
        check_gates(c, at, label, &root.key("gates"), gates);
    }
    for (i, entry) in promotion.versions.iter().enumerate() {
        if let Some(gates) = &entry.gates {
            check_gates(
                c,
                at,
                label,
                &root.key("versions").index(i).key("gates"),
                gates,
            );
        }
    }

    let dest_path = root.key("destinations");
    let declared: Vec<&str> = promotion.destinations.keys().map(String::as_str).collect();
    let mut edges: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, destination) in &promotion.destinations {
        let path = dest_path.key(name);
        if let Some(soak) = &destination.soak {
            if let Err(why) = parse_soak(soak) {
                c.error(
                    Code::InvalidValue,
                    at,
                    label,
                    &path.key("soak"),
                    format!("soak `{soak}` of destination `{name}` {why}"),
                )
                .allowed = Some(SOAK_ALLOWED.into());
            } else if destination.after.is_none() {
                c.error(
                    Code::InvalidValue,
                    at,
                    label,
                    &path.key("soak"),
                    format!("destination `{name}` has a soak but no `after`"),
                )
                .allowed = Some(
                    "`soak` with `after: DESTINATION`: how long the copy there must have \
                     existed first"
                        .into(),
                );
            }
        }
        let Some(after) = &destination.after else {
            continue;
        };
        if promotion.destinations.contains_key(after) {
            edges.insert(name, after);
            continue;
        }
        let others: Vec<&str> = declared.iter().copied().filter(|d| d != name).collect();
        c.undeclared_destination(
            at,
            label,
            &path.key("after"),
            after,
            &others,
            format!(
                "destination `{name}` comes after `{after}`, which is not declared in this \
                 promotion"
            ),
        )
        .allowed = Some(format!(
            "another destination of this promotion: {}",
            others.join(", ")
        ));
    }

    // Each destination has at most one `after`: following the edges from any destination either
    // ends or loops. Each loop is reported once, at its first member by name.
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for &start in edges.keys() {
        let mut walk = vec![start];
        let mut next = edges.get(start).copied();
        while let Some(n) = next {
            if let Some(pos) = walk.iter().position(|w| *w == n) {
                let cycle = &walk[pos..];
                let first = *cycle.iter().min().expect("a cycle has members");
                if reported.insert(first) {
                    let from = cycle.iter().position(|w| *w == first).expect("member");
                    let mut names: Vec<&str> = cycle[from..]
                        .iter()
                        .chain(&cycle[..from])
                        .copied()
                        .collect();
                    names.push(first);
                    c.error(
                        Code::AfterCycle,
                        at,
                        label,
                        &dest_path.key(first).key("after"),
                        format!(
                            "destinations wait for each other in a cycle: {}",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(" after ")
                        ),
                    )
                    .allowed = Some(
                        "a chain that starts somewhere: at least one destination of the cycle \
                         without `after`"
                            .into(),
                    );
                }
                break;
            }
            walk.push(n);
            next = edges.get(n).copied();
        }
    }

    // A version sent to a destination must also be sent to the one that destination comes after,
    // or it would wait for ever.
    for (i, entry) in promotion.versions.iter().enumerate() {
        let Some(to) = &entry.to else { continue };
        let sent: BTreeSet<&str> = to.iter().map(String::as_str).collect();
        for (j, target) in to.iter().enumerate() {
            let Some(&after) = edges.get(target.as_str()) else {
                continue;
            };
            if sent.contains(after) {
                continue;
            }
            c.error(
                Code::AfterNotSent,
                at,
                label,
                &root.key("versions").index(i).key("to").index(j),
                format!(
                    "version `{}` goes to `{target}`, which comes after `{after}`, but it is not \
                     sent to `{after}`: it would wait for ever",
                    entry.version
                ),
            )
            .allowed = Some(format!(
                "add `{after}` to this version's `to`, or leave `to` out"
            ));
        }
    }
}

fn check_gates(c: &mut Checker<'_>, at: DocRef, label: &str, path: &FieldPath, gates: &GatesSpec) {
    if let Some(min) = gates.min_f1_score
        && !(0.0..=1.0).contains(&min)
    {
        c.error(
            Code::InvalidValue,
            at,
            label,
            &path.key("minF1Score"),
            format!("minF1Score {min} is not an F1 score"),
        )
        .allowed = Some("a number from 0 to 1, such as 0.9".into());
    }
    if let Some(tags) = &gates.require_tags {
        c.tags(at, label, &path.key("requireTags"), tags);
    }
}

/// The version entry's gates over the promotion's, field by field.
fn resolve_gates(promotion: Option<&GatesSpec>, entry: Option<&GatesSpec>) -> Gates {
    let mut gates = Gates::default();
    for level in [promotion, entry].into_iter().flatten() {
        if let Some(min) = level.min_f1_score {
            gates.min_f1_score = Some(Score(min as f32));
        }
        if let Some(tags) = &level.require_tags {
            gates.require_tags.extend(tags.clone());
        }
    }
    gates
}

/// Gives every placement of `desired` its lifecycle, from the checked promotions.
pub fn attach(
    accounts: &AccountTable<'_>,
    usable: &[(DocRef, &PromotionManifest)],
    desired: &mut DesiredState,
) {
    // Each promotion's version entries by the version name they give (the first entry of a
    // name, as a search of the list would find), built once rather than searched per placement.
    let promotions: BTreeMap<&str, (&PromotionManifest, BTreeMap<String, &VersionEntry>)> = usable
        .iter()
        .map(|(_, p)| {
            let mut entries = BTreeMap::new();
            for e in &p.versions {
                entries
                    .entry(version_name_of(&e.version, e.version_name.as_deref()))
                    .or_insert(e);
            }
            (p.name.as_str(), (*p, entries))
        })
        .collect();
    for placement in &mut desired.placements {
        let Some((promotion, entries)) = promotions.get(placement.promotion.as_str()) else {
            continue;
        };
        let entry = entries.get(&placement.version_name).copied();
        placement.lifecycle.gates = resolve_gates(
            promotion.gates.as_ref(),
            entry.and_then(|e| e.gates.as_ref()),
        );
        let Some(destination) = promotion.destinations.get(&placement.destination) else {
            continue;
        };
        let Some(after) = &destination.after else {
            continue;
        };
        let Some(before) = promotion.destinations.get(after) else {
            continue;
        };
        let Some((_, account)) = accounts.get(&before.account) else {
            continue;
        };
        let project = match crate::constraints::ProjectArn::parse(&before.project) {
            Ok(arn) => (arn.project, Some(before.project.clone())),
            Err(_) => (before.project.clone(), None),
        };
        placement.lifecycle.after = Some(After {
            key: PlacementKey {
                promotion: placement.promotion.clone(),
                destination: after.clone(),
                version_name: placement.version_name.clone(),
            },
            account: account.name.clone(),
            project: ProjectRef {
                account_id: account.account_id.clone(),
                region: placement.region.clone(),
                name: project.0,
                arn: project.1,
            },
            soak_seconds: destination
                .soak
                .as_deref()
                .and_then(|s| parse_soak(s).ok())
                .map(|d| d.as_secs()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soak_durations() {
        assert_eq!(parse_soak("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_soak("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_soak("2d 12h"), Ok(Duration::from_secs(216_000)));
        assert_eq!(parse_soak("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_soak("-24h"), Err(SoakError::Negative));
        assert_eq!(parse_soak("400d"), Err(SoakError::TooLong));
        assert_eq!(parse_soak("soon"), Err(SoakError::Malformed));
        assert_eq!(parse_soak("24"), Err(SoakError::Malformed));
    }
}
