//! The promotion lifecycle in the plan: which placements are **held** (issue 15).
//!
//! A placement that would otherwise be copied is held, with a typed reason, when its source
//! version fails one of its quality gates (an F1 score below the minimum, none at all, a
//! required tag missing or different), or when the destination it comes `after` does not hold
//! the same version from the same source yet, or has held it for less than `soak` (the reason
//! says when it becomes eligible). Chains have any depth: a placement whose predecessor is itself
//! held says so. Pure: "now" is an input, the live state was read before; only entries whose
//! action is `copy` (or blocked only by a missing policy) can be held, since a version already
//! there, or being copied, is past holding.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::desired::{DesiredState, Placement, PlacementKey};
use crate::state::{LiveState, ProjectKey, Timestamp};

use super::document::{Action, ChainEdge, PlanEntry, Reason};

/// Holds the entries whose placements' gates or chains say so. `entries` are found by key.
pub fn hold(desired: &DesiredState, live: &LiveState, now: Timestamp, entries: &mut [PlanEntry]) {
    let placements: BTreeMap<PlacementKey, &Placement> = desired
        .placements
        .iter()
        .filter(|p| !p.lifecycle.is_empty())
        .map(|p| (p.key(), p))
        .collect();
    if placements.is_empty() {
        return;
    }
    let index: BTreeMap<PlacementKey, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.clone(), i))
        .collect();
    let mut done: BTreeSet<PlacementKey> = BTreeSet::new();
    for key in placements.keys() {
        settle(key, &placements, &index, live, now, entries, &mut done);
    }
}

/// Decides `key` after its predecessor (so a chain is settled from its start).
fn settle(
    key: &PlacementKey,
    placements: &BTreeMap<PlacementKey, &Placement>,
    index: &BTreeMap<PlacementKey, usize>,
    live: &LiveState,
    now: Timestamp,
    entries: &mut [PlanEntry],
    done: &mut BTreeSet<PlacementKey>,
) {
    // Inserted before recursing: a cycle (refused by validation) cannot recurse for ever.
    if !done.insert(key.clone()) {
        return;
    }
    let (Some(p), Some(&i)) = (placements.get(key), index.get(key)) else {
        return;
    };
    if let Some(after) = &p.lifecycle.after {
        settle(&after.key, placements, index, live, now, entries, done);
    }
    if !holdable(&entries[i]) {
        return;
    }
    let predecessor_held = p
        .lifecycle
        .after
        .as_ref()
        .and_then(|a| index.get(&a.key))
        .is_some_and(|&j| entries[j].action == Action::Held);
    if let Some(reason) = held_reason(p, live, now, predecessor_held) {
        let entry = &mut entries[i];
        entry.action = reason.action();
        entry.reason = reason;
        // A held placement grants nothing and needs no statement yet.
        entry.missing_policy_statement = None;
    }
}

/// Whether an entry is still to be copied (or only a missing policy stands in its way).
fn holdable(entry: &PlanEntry) -> bool {
    entry.action == Action::Copy || entry.reason == Reason::PolicyMissing
}

/// Why `p` is held, if it is: gates first (they hold every destination of a version), then the
/// chain.
pub fn held_reason(
    p: &Placement,
    live: &LiveState,
    now: Timestamp,
    predecessor_held: bool,
) -> Option<Reason> {
    let source_key = ProjectKey::of(&p.source_project);
    let source = live.version(&source_key, &p.source_version).flatten()?;
    let gates = &p.lifecycle.gates;
    if let Some(min) = gates.min_f1_score {
        match source.f1_score {
            None => return Some(Reason::GateNoF1Score { min_f1_score: min }),
            // Compared as AWS's f32: 0.9 in the manifest is exactly the 0.9 AWS would report.
            Some(f1) if f1 < min.0 => {
                return Some(Reason::GateF1Below {
                    f1_score: crate::desired::Score(f1),
                    min_f1_score: min,
                });
            }
            Some(_) => {}
        }
    }
    if !gates.require_tags.is_empty() {
        if let Some(error) = live.tag_errors.get(&source.arn) {
            return Some(Reason::GateTagsUnreadable {
                error: Box::new(error.clone()),
            });
        }
        let empty = BTreeMap::new();
        let tags = live.version_tags.get(&source.arn).unwrap_or(&empty);
        for (key, required) in &gates.require_tags {
            match tags.get(key) {
                None => {
                    return Some(Reason::GateTagMissing {
                        key: key.clone(),
                        required: required.clone(),
                    });
                }
                Some(actual) if actual != required => {
                    return Some(Reason::GateTagDifferent {
                        key: key.clone(),
                        required: required.clone(),
                        actual: actual.clone(),
                    });
                }
                Some(_) => {}
            }
        }
    }
    let after = p.lifecycle.after.as_ref()?;
    let there = live
        .version(&ProjectKey::of(&after.project), &after.key.version_name)
        .flatten()
        .filter(|v| {
            v.source_project_version_arn.as_deref() == Some(source.arn.as_str())
                && v.status.is_copyable_source()
        });
    let Some(there) = there else {
        return Some(if predecessor_held {
            Reason::AfterHeld {
                after: after.key.clone(),
            }
        } else {
            Reason::WaitingFor {
                after: after.key.clone(),
            }
        });
    };
    let soak_seconds = after.soak_seconds?;
    let Some(copied_at) = there.creation_timestamp else {
        // Without AWS's CreationTimestamp the soak cannot be measured: keep waiting.
        return Some(Reason::WaitingFor {
            after: after.key.clone(),
        });
    };
    let eligible_at = copied_at.plus(Duration::from_secs(soak_seconds));
    (now < eligible_at).then(|| Reason::Soaking {
        after: after.key.clone(),
        soak_seconds,
        copied_at,
        eligible_at,
    })
}

/// The `after` edges of the placements planned, one per (promotion, destination).
pub fn chain_edges(desired: &DesiredState) -> Vec<ChainEdge> {
    let edges: BTreeSet<ChainEdge> = desired
        .placements
        .iter()
        .filter_map(|p| {
            let after = p.lifecycle.after.as_ref()?;
            Some(ChainEdge {
                promotion: p.promotion.clone(),
                destination: p.destination.clone(),
                after: after.key.destination.clone(),
                soak_seconds: after.soak_seconds,
            })
        })
        .collect();
    edges.into_iter().collect()
}
