//! Saved-plan checks for `apply --plan FILE`: the file must be a plan document of a known
//! `formatVersion`, and a plan computed again now (same manifests, same selection, live state
//! read again) must match it placement by placement, found by key: the same manifests digest,
//! the same placements, the same fingerprint (source project and version ARN and status,
//! destination, source policy revisions) and action for each, and the same grants and policy
//! documents, and the same serving steps (starts, stops, deletes) on the same per-project
//! fingerprints, with the same `--no-prune`/`--replace-running`. Otherwise the plan is stale and apply refuses before any write, naming what moved.
//!
//! Reading the live state again is `pipeline::plan_live`'s job; this module only compares.

use std::collections::BTreeSet;
use std::path::Path;

use crate::desired::PlacementKey;
use crate::plan::{Action, PlanDocument, PlanEntry};
use crate::state::VersionStatus;

/// What moved for one placement between the saved plan and now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// The source version ARN differs (deleted and trained again under the same name?).
    SourceVersion {
        then: Option<String>,
        now: Option<String>,
    },
    SourceStatus {
        then: Option<VersionStatus>,
        now: Option<VersionStatus>,
    },
    SourceProject {
        then: Option<String>,
        now: Option<String>,
    },
    /// The destination version differs (created, copied, deleted meanwhile).
    Destination {
        then: Option<(String, VersionStatus)>,
        now: Option<(String, VersionStatus)>,
    },
    /// The action differs.
    Action { then: Action, now: Action },
    /// Something else the placement depends on (the destination version, the source policies,
    /// an account's readability).
    LiveState,
}

impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        let status = |v: &Option<VersionStatus>| {
            v.as_ref()
                .map_or_else(|| "(none)".to_string(), ToString::to_string)
        };
        match self {
            Moved::SourceVersion { then, now } => {
                write!(f, "source version {} then, {} now", shown(then), shown(now))
            }
            Moved::SourceStatus { then, now } => write!(
                f,
                "source version status {} then, {} now",
                status(then),
                status(now)
            ),
            Moved::SourceProject { then, now } => {
                write!(f, "source project {} then, {} now", shown(then), shown(now))
            }
            Moved::Destination { then, now } => {
                let version = |v: &Option<(String, VersionStatus)>| {
                    v.as_ref()
                        .map_or_else(|| "absent".to_string(), |(arn, s)| format!("{arn} ({s})"))
                };
                write!(
                    f,
                    "destination version {} then, {} now",
                    version(then),
                    version(now)
                )
            }
            Moved::Action { then, now } => {
                write!(f, "action {} then, {} now", then.label(), now.label())
            }
            Moved::LiveState => f.write_str("the source project's policies or an account's access"),
        }
    }
}

/// Why a saved plan cannot be applied.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StaleError {
    #[error("cannot read the saved plan {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error(
        "the saved plan {path} has formatVersion {found}; this reko-promote ({}) reads \
         formatVersion {supported} only; plan again with this version",
        env!("CARGO_PKG_VERSION")
    )]
    UnknownFormat {
        path: String,
        found: String,
        supported: u32,
    },
    #[error(
        "the saved plan is stale: the manifests changed since it was computed (digest {planned} \
         then, {current} now; check the paths and --target/--exclude match the plan's); plan \
         again"
    )]
    Manifests { planned: String, current: String },
    #[error(
        "the saved plan is stale: the placements changed ({}); plan again",
        describe_keys(added, removed)
    )]
    Placements {
        added: Vec<PlacementKey>,
        removed: Vec<PlacementKey>,
    },
    #[error(
        "the saved plan is stale: the live state changed since it was computed for {}; plan again",
        moved.iter().map(|(key, what)| format!(
            "{key} ({})",
            what.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        )).collect::<Vec<_>>().join(", ")
    )]
    LiveState {
        moved: Vec<(PlacementKey, Vec<Moved>)>,
    },
    #[error(
        "the saved plan is stale: the project policies to write changed for {}; plan again",
        projects.join(", ")
    )]
    Policies { projects: Vec<String> },
    #[error(
        "the saved plan is stale: the versions serving or to prune changed in {} (status, units, \
         ownership, or a version added or removed); plan again",
        projects.join(", ")
    )]
    Serving { projects: Vec<String> },
}

fn describe_keys(added: &[PlacementKey], removed: &[PlacementKey]) -> String {
    let list = |keys: &[PlacementKey]| {
        keys.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (added.is_empty(), removed.is_empty()) {
        (false, false) => format!("new: {}; gone: {}", list(added), list(removed)),
        (false, true) => format!("new: {}", list(added)),
        _ => format!("gone: {}", list(removed)),
    }
}

/// Reads a saved plan, refusing unknown format versions before anything else is looked at.
pub fn read_plan(path: &Path) -> Result<PlanDocument, StaleError> {
    let unreadable = |reason: String| StaleError::Unreadable {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    let version = value.get("formatVersion");
    if version.and_then(serde_json::Value::as_u64) != Some(u64::from(PlanDocument::FORMAT_VERSION))
    {
        return Err(StaleError::UnknownFormat {
            path: path.display().to_string(),
            found: version.map_or_else(|| "(none)".into(), ToString::to_string),
            supported: PlanDocument::FORMAT_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| unreadable(format!("not a plan document: {e}")))
}

/// What moved for one placement, entry by entry.
fn moved(saved: &PlanEntry, fresh: &PlanEntry, fingerprint_changed: bool) -> Vec<Moved> {
    let mut moved = Vec::new();
    if saved.source.project_arn != fresh.source.project_arn {
        moved.push(Moved::SourceProject {
            then: saved.source.project_arn.clone(),
            now: fresh.source.project_arn.clone(),
        });
    }
    if saved.source.version_arn != fresh.source.version_arn {
        moved.push(Moved::SourceVersion {
            then: saved.source.version_arn.clone(),
            now: fresh.source.version_arn.clone(),
        });
    }
    if saved.source.version_status != fresh.source.version_status {
        moved.push(Moved::SourceStatus {
            then: saved.source.version_status.clone(),
            now: fresh.source.version_status.clone(),
        });
    }
    let destination = |e: &PlanEntry| e.live.as_ref().map(|l| (l.arn.clone(), l.status.clone()));
    if destination(saved) != destination(fresh) {
        moved.push(Moved::Destination {
            then: destination(saved),
            now: destination(fresh),
        });
    }
    if saved.action != fresh.action {
        moved.push(Moved::Action {
            then: saved.action,
            now: fresh.action,
        });
    }
    if moved.is_empty() && (fingerprint_changed || saved != fresh) {
        moved.push(Moved::LiveState);
    }
    moved
}

/// Compares a saved plan with one computed now, placement by placement (by key).
pub fn check(saved: &PlanDocument, fresh: &PlanDocument) -> Result<(), StaleError> {
    if saved.manifests_digest != fresh.manifests_digest {
        return Err(StaleError::Manifests {
            planned: saved.manifests_digest.clone(),
            current: fresh.manifests_digest.clone(),
        });
    }
    let (saved_entries, fresh_entries) = (saved.by_key(), fresh.by_key());
    let saved_keys: BTreeSet<&PlacementKey> = saved_entries.keys().copied().collect();
    let fresh_keys: BTreeSet<&PlacementKey> = fresh_entries.keys().copied().collect();
    if saved_keys != fresh_keys {
        return Err(StaleError::Placements {
            added: fresh_keys
                .difference(&saved_keys)
                .map(|k| (*k).clone())
                .collect(),
            removed: saved_keys
                .difference(&fresh_keys)
                .map(|k| (*k).clone())
                .collect(),
        });
    }
    let digests = |plan: &PlanDocument| -> std::collections::BTreeMap<PlacementKey, String> {
        plan.fingerprints
            .iter()
            .map(|f| (f.key.clone(), f.digest.clone()))
            .collect()
    };
    let (saved_digests, fresh_digests) = (digests(saved), digests(fresh));
    let moved: Vec<(PlacementKey, Vec<Moved>)> = saved_entries
        .iter()
        .filter_map(|(key, saved_entry)| {
            let fresh_entry = fresh_entries[key];
            let changed = saved_digests.get(*key) != fresh_digests.get(*key);
            let what = moved(saved_entry, fresh_entry, changed);
            (!what.is_empty()).then(|| ((*key).clone(), what))
        })
        .collect();
    if !moved.is_empty() {
        return Err(StaleError::LiveState { moved });
    }
    if saved.grants != fresh.grants {
        let projects: BTreeSet<String> = saved
            .grants
            .iter()
            .filter(|g| !fresh.grants.contains(g))
            .chain(fresh.grants.iter().filter(|g| !saved.grants.contains(g)))
            .map(|g| g.project_arn.clone())
            .collect();
        return Err(StaleError::Policies {
            projects: projects.into_iter().collect(),
        });
    }
    // Starts, stops and deletes are a contract too: the same steps, on the same live state
    // (each project's fingerprint), or nothing.
    if saved.serving != fresh.serving {
        let name = |p: &crate::plan::ProjectServing| {
            format!("{}/{} ({})", p.account.name, p.project, p.region)
        };
        let projects: BTreeSet<String> = saved
            .serving
            .iter()
            .filter(|p| !fresh.serving.contains(p))
            .chain(fresh.serving.iter().filter(|p| !saved.serving.contains(p)))
            .map(name)
            .collect();
        return Err(StaleError::Serving {
            projects: projects.into_iter().collect(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Fingerprint, RunScope};

    fn plan() -> PlanDocument {
        let mut plan =
            crate::plan::compute(&Default::default(), &Default::default(), &RunScope::full());
        plan.fingerprints.push(Fingerprint {
            key: PlacementKey {
                promotion: "p".into(),
                destination: "d".into(),
                version_name: "v".into(),
            },
            digest: "aa".into(),
        });
        plan
    }

    #[test]
    fn identical_plans_pass_and_a_manifest_change_is_named() {
        assert!(check(&plan(), &plan()).is_ok());
        let mut edited = plan();
        edited.manifests_digest = "other".into();
        assert!(matches!(
            check(&plan(), &edited),
            Err(StaleError::Manifests { .. })
        ));
    }

    #[test]
    fn unknown_format_versions_are_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, r#"{"formatVersion": 1, "whatever": true}"#).unwrap();
        let error = read_plan(&path).unwrap_err();
        assert!(matches!(error, StaleError::UnknownFormat { .. }), "{error}");
        std::fs::write(&path, serde_json::to_string(&plan()).unwrap()).unwrap();
        assert_eq!(read_plan(&path).unwrap(), plan());
    }
}
