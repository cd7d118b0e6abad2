//! Serving and prune: which versions of each destination project declaring `running` or
//! `prune` apply starts, stops or deletes, and which it keeps, with why and under which guards.
//!
//! Pure: it reads the desired state, the live state (every version of such projects, and the
//! ownership tags of those no placement declares) and the placements' plan entries (a running
//! version still to be copied is started after its copy). The rules:
//! - **Serving.** The declared version is started (after its copy) with its units; one running
//!   with other units is drift, restarted only with `--replace-running`.
//! - **Blue/green.** Other RUNNING or STARTING versions that reko-promote made (ownership tag)
//!   or a manifest names are stopped, guarded by the declared version being RUNNING first; when
//!   it cannot start, nothing is stopped. Versions it did not make are never touched.
//! - **Prune.** On a full run without `--no-prune`, versions reko-promote made that no manifest
//!   declares are deleted when at rest; a serving one only after this run's stop of it; busy ones
//!   are kept with their status.
//!
//! Carrying the steps out, and checking each guard again just before, is `apply::serving`'s job.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::desired::{DesiredState, InferenceUnits, PlacementKey, Running, Serving};
use crate::manifest::model::OWNERSHIP_TAG;
use crate::state::{LiveState, LiveVersion, ProjectKey, VersionStatus};

use super::document::{
    AccountRef, Action, Guard, NotRead, PlanEntry, ProjectServing, PruneMode, Reason, RunScope,
    RunningView, ServingAction, ServingReason, ServingStep, Side, VersionKey,
};

/// Who made a version, as its tags say.
enum Maker {
    /// reko-promote, for this promotion.
    Us(String),
    /// Someone else (no ownership tag).
    Other,
    Unreadable(crate::aws::AwsError),
}

fn maker(live: &LiveState, version: &LiveVersion) -> Maker {
    if let Some(error) = live.tag_errors.get(&version.arn) {
        return Maker::Unreadable(error.clone());
    }
    match live
        .version_tags
        .get(&version.arn)
        .and_then(|tags| tags.get(OWNERSHIP_TAG))
    {
        Some(promotion) => Maker::Us(promotion.clone()),
        None => Maker::Other,
    }
}

/// The units a version serves with, as AWS reports them.
fn live_units(v: &LiveVersion) -> Option<InferenceUnits> {
    v.min_inference_units.map(|min| InferenceUnits {
        min,
        max: Some(v.max_inference_units.unwrap_or(min)),
    })
}

/// Whether the declared running version will be RUNNING for the stops of this run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// RUNNING already, or started (or starting) by this run.
    Ready,
    /// It cannot be started as things stand.
    NotReady,
}

fn is_serving(status: &VersionStatus) -> bool {
    matches!(status, VersionStatus::Running | VersionStatus::Starting)
}

/// Whether a version in `status` may be deleted: not running, starting, stopping, being copied,
/// trained or deleted.
pub fn may_delete(status: &VersionStatus) -> bool {
    !is_busy(status)
}

/// Statuses a delete must never touch.
fn is_busy(status: &VersionStatus) -> bool {
    matches!(
        status,
        VersionStatus::Running
            | VersionStatus::Starting
            | VersionStatus::Stopping
            | VersionStatus::CopyingInProgress
            | VersionStatus::TrainingInProgress
            | VersionStatus::Deleting
    )
}

/// The serving part of the plan: one [`ProjectServing`] per destination project declaring
/// `running` or `prune`, in project order.
pub fn plan(
    desired: &DesiredState,
    live: &LiveState,
    entries: &[PlanEntry],
    scope: &RunScope,
) -> Vec<ProjectServing> {
    let mut by_project: BTreeMap<ProjectKey, Vec<&Serving>> = BTreeMap::new();
    for s in &desired.serving {
        by_project
            .entry(ProjectKey::of(&s.project))
            .or_default()
            .push(s);
    }
    let entries_by_key: BTreeMap<&PlacementKey, &PlanEntry> =
        entries.iter().map(|e| (&e.key, e)).collect();
    by_project
        .into_iter()
        .map(|(key, decls)| project(desired, live, &entries_by_key, scope, &key, &decls))
        .collect()
}

fn project(
    desired: &DesiredState,
    live: &LiveState,
    entries: &BTreeMap<&PlacementKey, &PlanEntry>,
    scope: &RunScope,
    key: &ProjectKey,
    decls: &[&Serving],
) -> ProjectServing {
    let first = decls[0];
    let declared_running = decls.iter().find_map(|d| {
        d.running.as_ref().map(|r| {
            (
                PlacementKey {
                    promotion: d.promotion.clone(),
                    destination: d.destination.clone(),
                    version_name: r.version_name.clone(),
                },
                r,
            )
        })
    });
    let prune = if !decls.iter().any(|d| d.prune) {
        PruneMode::Off
    } else if scope.partial || desired.partial {
        PruneMode::SkippedPartial
    } else if scope.no_prune {
        PruneMode::SkippedNoPrune
    } else {
        PruneMode::On
    };
    let mut out = ProjectServing {
        account: AccountRef {
            name: first.account.clone(),
            account_id: key.account_id.clone(),
        },
        region: key.region.clone(),
        project: key.name.clone(),
        project_arn: first.project.arn.clone(),
        running: declared_running.as_ref().map(|(_, r)| RunningView {
            version_name: r.version_name.clone(),
            units: r.units,
        }),
        prune,
        declared_at: decls
            .iter()
            .map(|d| match d.origin.line {
                Some(line) => format!("{}:{line}", d.origin.file),
                None => d.origin.file.clone(),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        unknown: None,
        steps: Vec::new(),
        fingerprint: String::new(),
    };
    if let Some(problem) = live.inaccessible.get(&first.account) {
        out.unknown = Some(Reason::AccountUnreadable {
            account: first.account.clone(),
            problem: Box::new(problem.clone()),
        });
    } else if let Some(error) = live.read_errors.get(key) {
        out.unknown = Some(Reason::ProjectUnreadable {
            side: Side::Destination,
            error: Box::new(error.clone()),
        });
    } else {
        match live.project(key) {
            None => {
                out.unknown = Some(Reason::NotRead {
                    what: NotRead::DestinationProject,
                })
            }
            Some(None) => out.unknown = Some(Reason::DestinationProjectMissing),
            Some(Some(project)) => out.project_arn = Some(project.arn.clone()),
        }
        if out.unknown.is_none() && !live.listed.contains(key) {
            out.unknown = Some(Reason::NotRead {
                what: NotRead::DestinationVersion,
            });
        }
    }
    let running_entry = declared_running
        .as_ref()
        .and_then(|(k, _)| entries.get(k).copied());
    out.fingerprint = fingerprint(live, key, running_entry);
    if out.unknown.is_some() {
        return out;
    }

    let versions: BTreeMap<&str, &LiveVersion> = live
        .versions
        .get(key)
        .into_iter()
        .flatten()
        .filter_map(|(name, v)| Some((name.as_str(), v.as_ref()?)))
        .collect();
    let declared: BTreeSet<&str> = desired
        .placements
        .iter()
        .filter(|p| ProjectKey::of(&p.destination_project) == *key)
        .map(|p| p.version_name.as_str())
        .collect();
    let version_key = |name: &str| VersionKey {
        account_id: key.account_id.clone(),
        region: key.region.clone(),
        project: key.name.clone(),
        version_name: name.to_string(),
    };
    let step = |name: &str, action, reason, guards, v: Option<&LiveVersion>| ServingStep {
        key: version_key(name),
        action,
        reason,
        guards,
        version_arn: v.map(|v| v.arn.clone()),
        status: v.map(|v| v.status.clone()),
        units: None,
    };

    // The declared running version.
    let mut readiness = Readiness::NotReady;
    if let Some((placement, running)) = declared_running {
        let (s, ready) = running_step(
            scope,
            placement,
            running,
            versions.get(running.version_name.as_str()).copied(),
            running_entry,
            &step,
        );
        readiness = ready;
        out.steps.push(s);
    }

    // Other versions that serve: stopped (blue/green) when ours, kept otherwise.
    let mut stopped: BTreeSet<&str> = BTreeSet::new();
    for (&name, &v) in &versions {
        if Some(name) == out.running.as_ref().map(|r| r.version_name.as_str())
            || !is_serving(&v.status)
        {
            continue;
        }
        let who = maker(live, v);
        let ours = declared.contains(name) || matches!(who, Maker::Us(_));
        let reason = match (&out.running, ours, who) {
            (_, false, Maker::Unreadable(error)) => ServingReason::OwnershipUnreadable {
                error: Box::new(error),
            },
            (_, false, _) => ServingReason::NotMade,
            (Some(r), true, _) if readiness == Readiness::Ready => {
                stopped.insert(name);
                out.steps.push(step(
                    name,
                    ServingAction::Stop,
                    ServingReason::Replaced {
                        by: r.version_name.clone(),
                    },
                    vec![
                        Guard::ReplacementRunning {
                            version_name: r.version_name.clone(),
                        },
                        Guard::Unchanged {
                            version_arn: v.arn.clone(),
                        },
                    ],
                    Some(v),
                ));
                continue;
            }
            (Some(r), true, _) => ServingReason::WaitingForReplacement {
                by: r.version_name.clone(),
            },
            // Declared by a manifest, no `running`: nothing says it should stop.
            (None, true, _) if declared.contains(name) => continue,
            (None, true, _) => ServingReason::StillServing,
        };
        // A kept serving version that prune would otherwise consider is listed once, here.
        out.steps
            .push(step(name, ServingAction::Keep, reason, Vec::new(), Some(v)));
    }

    // Prune: versions we made that no manifest declares.
    if prune != PruneMode::Off && prune != PruneMode::SkippedPartial {
        for (&name, &v) in &versions {
            if declared.contains(name) {
                continue;
            }
            let listed = out.steps.iter().any(|s| s.key.version_name == name);
            let promotion = match maker(live, v) {
                Maker::Us(promotion) => promotion,
                Maker::Other if !listed => {
                    out.steps.push(step(
                        name,
                        ServingAction::Keep,
                        ServingReason::NotMade,
                        Vec::new(),
                        Some(v),
                    ));
                    continue;
                }
                Maker::Unreadable(error) if !listed => {
                    out.steps.push(step(
                        name,
                        ServingAction::Keep,
                        ServingReason::OwnershipUnreadable {
                            error: Box::new(error),
                        },
                        Vec::new(),
                        Some(v),
                    ));
                    continue;
                }
                _ => continue,
            };
            let after_stop = stopped.contains(name);
            if !after_stop && listed {
                // Kept serving, said above.
                continue;
            }
            if !after_stop && is_busy(&v.status) {
                out.steps.push(step(
                    name,
                    ServingAction::Keep,
                    ServingReason::Busy {
                        status: v.status.clone(),
                    },
                    Vec::new(),
                    Some(v),
                ));
                continue;
            }
            if prune == PruneMode::SkippedNoPrune {
                out.steps.push(step(
                    name,
                    ServingAction::Keep,
                    ServingReason::PruneSkipped { promotion },
                    Vec::new(),
                    Some(v),
                ));
                continue;
            }
            let mut guards = Vec::new();
            if after_stop {
                guards.push(Guard::Stopped);
            }
            guards.push(Guard::Unchanged {
                version_arn: v.arn.clone(),
            });
            guards.push(Guard::Owned {
                promotion: promotion.clone(),
            });
            out.steps.push(step(
                name,
                ServingAction::Delete,
                ServingReason::Pruned { promotion },
                guards,
                Some(v),
            ));
        }
    }
    out.steps.sort_by_key(|s| {
        (
            match s.action {
                ServingAction::Restart | ServingAction::Start => 0,
                ServingAction::Stop => 1,
                ServingAction::Delete => 2,
                ServingAction::Keep => 3,
            },
            s.key.clone(),
        )
    });
    out
}

/// Builds a step of a version of the project being planned.
type StepOf<'a> = dyn Fn(&str, ServingAction, ServingReason, Vec<Guard>, Option<&LiveVersion>) -> ServingStep
    + 'a;

/// The step of the declared running version, and whether it will be RUNNING for this run's
/// stops.
fn running_step(
    scope: &RunScope,
    placement: PlacementKey,
    running: &Running,
    version: Option<&LiveVersion>,
    entry: Option<&PlanEntry>,
    step: &StepOf<'_>,
) -> (ServingStep, Readiness) {
    let name = running.version_name.as_str();
    let placement_action = entry.map(|e| e.action);
    let not_ready = |status: Option<VersionStatus>| {
        (
            step(
                name,
                ServingAction::Keep,
                ServingReason::NotReady {
                    status,
                    placement_action,
                },
                Vec::new(),
                version,
            ),
            Readiness::NotReady,
        )
    };
    let start = |reason, guards: Vec<Guard>| {
        let mut s = step(name, ServingAction::Start, reason, guards, version);
        s.units = Some(running.units);
        (s, Readiness::Ready)
    };
    let copying = matches!(placement_action, Some(Action::Copy | Action::InProgress));
    let Some(v) = version else {
        return if copying {
            start(
                ServingReason::StartAfterCopy {
                    placement: placement.clone(),
                },
                vec![Guard::CopyCompleted { placement }],
            )
        } else {
            not_ready(None)
        };
    };
    // The name holds another source's version, or cannot be read: never started.
    if matches!(
        placement_action,
        Some(Action::Conflict | Action::Unknown) | None
    ) {
        return not_ready(Some(v.status.clone()));
    }
    let unchanged = Guard::Unchanged {
        version_arn: v.arn.clone(),
    };
    match &v.status {
        VersionStatus::Running => {
            let actual = live_units(v);
            let (want_min, want_max) = running.units.effective();
            match actual {
                Some(a) if a.effective() != (want_min, want_max) => {
                    let reason = ServingReason::UnitsDiffer {
                        desired: running.units,
                        actual: a,
                    };
                    if scope.replace_running {
                        let mut s = step(
                            name,
                            ServingAction::Restart,
                            reason,
                            vec![unchanged],
                            Some(v),
                        );
                        s.units = Some(running.units);
                        (s, Readiness::Ready)
                    } else {
                        (
                            step(name, ServingAction::Keep, reason, Vec::new(), Some(v)),
                            Readiness::Ready,
                        )
                    }
                }
                _ => (
                    step(
                        name,
                        ServingAction::Keep,
                        ServingReason::Serving {
                            units: actual.unwrap_or(running.units),
                        },
                        Vec::new(),
                        Some(v),
                    ),
                    Readiness::Ready,
                ),
            }
        }
        VersionStatus::Starting => (
            step(
                name,
                ServingAction::Keep,
                ServingReason::Starting,
                Vec::new(),
                Some(v),
            ),
            Readiness::Ready,
        ),
        VersionStatus::CopyingInProgress if copying => start(
            ServingReason::StartAfterCopy {
                placement: placement.clone(),
            },
            vec![Guard::CopyCompleted { placement }, unchanged],
        ),
        VersionStatus::CopyingCompleted
        | VersionStatus::Stopped
        | VersionStatus::TrainingCompleted => start(
            ServingReason::NotRunning {
                status: v.status.clone(),
            },
            vec![unchanged],
        ),
        VersionStatus::Failed => start(
            ServingReason::StartFailedBefore {
                status_message: v.status_message.clone(),
            },
            vec![unchanged],
        ),
        VersionStatus::Stopping => (
            step(
                name,
                ServingAction::Keep,
                ServingReason::Stopping,
                Vec::new(),
                Some(v),
            ),
            Readiness::NotReady,
        ),
        other => not_ready(Some(other.clone())),
    }
}

/// What the steps of a project were planned on: every version's ARN, status and units, the
/// ownership tags read, and the running version's placement action.
fn fingerprint(live: &LiveState, key: &ProjectKey, running: Option<&PlanEntry>) -> String {
    let mut hasher = Sha256::new();
    let mut feed = |value: serde_json::Value| hasher.update(value.to_string().as_bytes());
    feed(serde_json::json!({
        "project": live.project(key),
        "readError": live.read_errors.get(key),
        "listed": live.listed.contains(key),
    }));
    for (name, version) in live.versions.get(key).into_iter().flatten() {
        let Some(v) = version else { continue };
        feed(serde_json::json!({
            "name": name,
            "arn": v.arn,
            "status": v.status,
            "units": [v.min_inference_units, v.max_inference_units],
            "owner": live.version_tags.get(&v.arn).and_then(|t| t.get(OWNERSHIP_TAG)),
            "tagError": live.tag_errors.contains_key(&v.arn),
        }));
    }
    feed(serde_json::json!({ "runningAction": running.map(|e| e.action) }));
    hex::encode(hasher.finalize())
}
