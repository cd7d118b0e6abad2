//! Saved-plan checks for `apply --plan FILE`: the file must be a plan document of a known
//! `formatVersion`, and a plan computed again now (same manifests, same selection, live state
//! read again) must match it: the same manifests digest, the same fingerprint of every
//! destination project, the same action for every placement. Otherwise the plan is stale and
//! apply refuses before any write.
//!
//! Reading the live state again is `pipeline::plan_live`'s job; this module only compares.

use std::path::Path;

use crate::plan::PlanDocument;

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
        "the saved plan is stale: the live state changed since it was computed in {}; plan again",
        projects.join(", ")
    )]
    LiveState { projects: Vec<String> },
    #[error(
        "the saved plan is stale: what apply would do changed for {}; plan again",
        placements.join(", ")
    )]
    Actions { placements: Vec<String> },
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

/// Compares a saved plan with one computed now.
pub fn check(saved: &PlanDocument, fresh: &PlanDocument) -> Result<(), StaleError> {
    if saved.manifests_digest != fresh.manifests_digest {
        return Err(StaleError::Manifests {
            planned: saved.manifests_digest.clone(),
            current: fresh.manifests_digest.clone(),
        });
    }
    if saved.fingerprints != fresh.fingerprints {
        let mut projects: Vec<String> = fresh
            .fingerprints
            .iter()
            .filter(|f| !saved.fingerprints.contains(f))
            .map(|f| {
                format!(
                    "project {} of account {} ({})",
                    f.project, f.account_id, f.region
                )
            })
            .collect();
        if projects.is_empty() {
            projects.push("the set of projects".into());
        }
        return Err(StaleError::LiveState { projects });
    }
    let changed: Vec<String> = saved
        .entries
        .iter()
        .zip(&fresh.entries)
        .filter(|(s, f)| s.action != f.action)
        .map(|(s, f)| {
            format!(
                "{} ({} then, {} now)",
                super::report::placement_key(s),
                s.action.label(),
                f.action.label()
            )
        })
        .collect();
    if !changed.is_empty() || saved.entries.len() != fresh.entries.len() {
        return Err(StaleError::Actions {
            placements: changed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Fingerprint;

    fn plan() -> PlanDocument {
        let mut plan = crate::plan::compute(&Default::default(), &Default::default());
        plan.fingerprints.push(Fingerprint {
            account_id: "222222222222".into(),
            region: "eu-west-1".into(),
            project: "p".into(),
            digest: "aa".into(),
        });
        plan
    }

    #[test]
    fn identical_plans_pass_and_any_difference_is_named() {
        assert!(check(&plan(), &plan()).is_ok());
        let mut moved = plan();
        moved.fingerprints[0].digest = "bb".into();
        let error = check(&plan(), &moved).unwrap_err().to_string();
        assert!(
            error.contains("live state changed")
                && error.contains("project p of account 222222222222"),
            "{error}"
        );
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
        std::fs::write(&path, r#"{"formatVersion": 2, "whatever": true}"#).unwrap();
        let error = read_plan(&path).unwrap_err();
        assert!(matches!(error, StaleError::UnknownFormat { .. }), "{error}");
        std::fs::write(&path, serde_json::to_string(&plan()).unwrap()).unwrap();
        assert_eq!(read_plan(&path).unwrap(), plan());
    }
}
