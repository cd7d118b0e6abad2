//! Apply: carry out a plan, exactly as shown, safely under interruption and concurrency.
//!
//! The order is fixed: (1) placements the plan does not copy are reported as they are
//! (unchanged, blocked, conflict, unknown: never touched); (2) the managed project policies the
//! plan shows are written in the source accounts (`policies`); (3) every cross-account copy's
//! source policies are read once more and evaluated, so a copy the policies no longer allow is
//! reported blocked without a CopyProjectVersion call; (4) copies start in the destination
//! accounts, at most `max_in_flight` in flight (unbounded by default), a name already taken by the same copy being joined
//! rather than copied twice (`copy`); (5) copies, those the plan found in progress included, are
//! waited for by batched polling (`wait`) unless `--no-wait`. One failure does not stop the
//! others unless `fail_fast`; an interruption stops new copies and reports those in flight.
//!
//! Computing the plan is `pipeline`'s and `plan`'s job, checking a saved one `stale`'s; showing
//! progress is `progress`'s and the final document `report`'s. The CLI (`cli::apply`) wires
//! flags, confirmation, signals and exit codes.

pub mod copy;
pub mod policies;
pub mod progress;
pub mod report;
pub mod stale;
pub mod wait;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

use crate::aws::list_project_policies::list_project_policies;
use crate::aws::{AwsContext, Sessions};
use crate::desired::DesiredState;
use crate::plan::{Action, PlanDocument, PlanEntry};
use crate::state::LivePolicy;

pub use progress::{Event, Progress};
pub use report::{ApplyReport, Outcome, PlacementReport};

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Copies in flight (started and not yet finished) at most; `None`: no bound. Copies run
    /// server-side, so waiting for them costs only batched polls; the API calls themselves are
    /// bounded separately (`--parallelism`, the run's limits).
    pub max_in_flight: Option<usize>,
    /// Wait for copies to finish (`--wait`, the default) or only start them (`--no-wait`).
    pub wait: bool,
    /// Stop waiting after this long (the copies go on in AWS).
    pub timeout: Option<Duration>,
    /// Start no new copy after the first failure.
    pub fail_fast: bool,
    /// Polling backoff while waiting.
    pub backoff: wait::Backoff,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            max_in_flight: None,
            wait: true,
            timeout: None,
            fail_fast: false,
            backoff: wait::Backoff::default(),
        }
    }
}

/// An interruption signal: becomes `true` on SIGINT/SIGTERM (the CLI sets it).
pub type Interrupt = watch::Receiver<bool>;

/// A receiver that is never interrupted (tests, library use): its sender is gone, which
/// [`apply`] takes as "no interruption will come".
pub fn never_interrupted() -> Interrupt {
    watch::channel(false).1
}

/// Applies `plan`, computed from `desired` (its entries in the same order as the placements)
/// with `sessions`.
pub async fn apply(
    ctx: &AwsContext,
    sessions: &Sessions,
    desired: &DesiredState,
    plan: &PlanDocument,
    options: &ApplyOptions,
    progress: &Progress,
    interrupt: Interrupt,
) -> ApplyReport {
    assert_eq!(
        desired.placements.len(),
        plan.entries.len(),
        "the plan was computed from these placements"
    );
    let started_at = report::now_rfc3339();
    let clock = Instant::now();
    let deadline = options.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut outcomes: Vec<Option<PlacementReport>> = vec![None; plan.entries.len()];

    // (1) What the plan does not act on.
    let mut untouched = 0;
    for (i, entry) in plan.entries.iter().enumerate() {
        let outcome = match entry.action {
            Action::Copy | Action::InProgress => continue,
            Action::Unchanged => Outcome::AlreadyThere,
            Action::Blocked => Outcome::Blocked,
            Action::Conflict => Outcome::Conflict,
            Action::Unknown => Outcome::Unknown,
        };
        if outcome != Outcome::AlreadyThere {
            progress.event(&Event::NotCopied {
                placement: report::placement_key(entry),
                why: entry.reason.clone(),
            });
        } else {
            untouched += 1;
        }
        outcomes[i] = Some(PlacementReport::new(entry, outcome, entry.reason.clone()));
    }
    progress.skip(untouched);

    // (2) Managed policies, unless interrupted already.
    let phase = if *interrupt.borrow() {
        policies::PolicyPhase::default()
    } else {
        policies::write_managed(ctx, sessions, desired, plan, progress).await
    };

    // (3) The policies of every source project a cross-account copy comes from, read now.
    let copies: Vec<usize> = (0..plan.entries.len())
        .filter(|&i| plan.entries[i].action == Action::Copy)
        .collect();
    let source_projects: BTreeMap<String, (String, String, String)> = copies
        .iter()
        .filter(|&&i| plan.entries[i].cross_account)
        .filter_map(|&i| {
            let p = &desired.placements[i];
            let arn = plan.entries[i].source.project_arn.clone()?;
            Some((
                arn,
                (
                    p.source_account.clone(),
                    p.source_project.account_id.clone(),
                    p.region.clone(),
                ),
            ))
        })
        .collect();
    let source_policies: BTreeMap<String, Result<Vec<LivePolicy>, String>> =
        futures::future::join_all(source_projects.iter().map(
            |(arn, (account, account_id, region))| async move {
                let result = match sessions.get(account) {
                    Ok(session) => {
                        list_project_policies(ctx, &session.rekognition(region), account_id, arn)
                            .await
                            .map_err(|e| e.to_string())
                    }
                    Err(reason) => Err(reason),
                };
                (arn.clone(), result)
            },
        ))
        .await
        .into_iter()
        .collect();

    // (4) + (5) Copies and waits.
    let poller = wait::Poller::new(ctx.clone(), options.backoff);
    let in_flight = Semaphore::new(
        options
            .max_in_flight
            .map_or(Semaphore::MAX_PERMITS, |n| n.max(1)),
    );
    let stop_new = AtomicBool::new(false);
    let run = Run {
        ctx,
        sessions,
        desired,
        options,
        progress,
        interrupt: &interrupt,
        deadline,
        poller: &poller,
        in_flight: &in_flight,
        stop_new: &stop_new,
        failed_policies: &phase.failed,
        source_policies: &source_policies,
    };
    let work: Vec<usize> = (0..plan.entries.len())
        .filter(|&i| matches!(plan.entries[i].action, Action::Copy | Action::InProgress))
        .collect();
    let run = &run;
    let results = futures::future::join_all(
        work.iter()
            .map(|&i| async move { (i, run.placement(i, &plan.entries[i]).await) }),
    )
    .await;
    for (i, result) in results {
        outcomes[i] = Some(result);
    }
    drop(poller);

    let interrupted = *interrupt.borrow();
    let in_progress = outcomes
        .iter()
        .flatten()
        .filter(|o| o.outcome == Outcome::InProgress)
        .count();
    if interrupted {
        progress.event(&Event::Interrupted {
            in_flight: in_progress,
        });
    }
    progress.finish();
    let timed_out = !interrupted
        && options.wait
        && deadline.is_some_and(|d| tokio::time::Instant::now() >= d)
        && in_progress > 0;
    let mut report = ApplyReport {
        format_version: ApplyReport::FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        finished_at: report::now_rfc3339(),
        elapsed_seconds: clock.elapsed().as_secs_f64(),
        manifests_digest: plan.manifests_digest.clone(),
        interrupted,
        timed_out,
        summary: Default::default(),
        placements: outcomes.into_iter().flatten().collect(),
        policies: phase.reports,
        calls: ctx.limits.counts(),
    };
    report.tally();
    report
}

/// What the copy tasks of one run share.
struct Run<'a> {
    ctx: &'a AwsContext,
    sessions: &'a Sessions,
    desired: &'a DesiredState,
    options: &'a ApplyOptions,
    progress: &'a Progress,
    interrupt: &'a Interrupt,
    deadline: Option<tokio::time::Instant>,
    poller: &'a Arc<wait::Poller>,
    in_flight: &'a Semaphore,
    stop_new: &'a AtomicBool,
    failed_policies: &'a BTreeMap<String, policies::PolicyError>,
    source_policies: &'a BTreeMap<String, Result<Vec<LivePolicy>, String>>,
}

/// Why a task stopped waiting before its copy ended.
enum Stopped {
    Interrupted,
    TimedOut,
}

impl Run<'_> {
    async fn until_stopped<T>(&self, future: impl Future<Output = T>) -> Result<T, Stopped> {
        let mut interrupt = self.interrupt.clone();
        let deadline = async {
            match self.deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let interrupted = async {
            // A dropped sender means no interruption can come any more: wait forever.
            if interrupt.wait_for(|v| *v).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            value = future => Ok(value),
            _ = interrupted => Err(Stopped::Interrupted),
            _ = deadline => Err(Stopped::TimedOut),
        }
    }

    fn stopping(&self) -> Option<&'static str> {
        if *self.interrupt.borrow() {
            Some("not started: apply was interrupted")
        } else if self.stop_new.load(Ordering::SeqCst) {
            Some("not started: --fail-fast after an earlier failure")
        } else if self
            .deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
        {
            Some("not started: --timeout ran out")
        } else {
            None
        }
    }

    fn fail(&self, entry: &PlanEntry, outcome: Outcome, why: String) -> PlacementReport {
        if outcome == Outcome::Failed && self.options.fail_fast {
            self.stop_new.store(true, Ordering::SeqCst);
        }
        let placement = report::placement_key(entry);
        self.progress.event(&match outcome {
            Outcome::Failed => Event::CopyFailed {
                placement,
                message: why.clone(),
            },
            _ => Event::NotCopied {
                placement,
                why: why.clone(),
            },
        });
        PlacementReport::new(entry, outcome, why)
    }

    /// One placement the plan copies or waits for, from start to end.
    async fn placement(&self, index: usize, entry: &PlanEntry) -> PlacementReport {
        let p = &self.desired.placements[index];
        let placement = report::placement_key(entry);
        let session = match self.sessions.get(&p.destination_account) {
            Ok(session) => session.clone(),
            Err(reason) => return self.fail(entry, Outcome::Unknown, reason),
        };
        let Some(dest_project_arn) = entry.target.project_arn.clone() else {
            return self.fail(entry, Outcome::Unknown, "no destination project ARN".into());
        };
        // A place among the copies in flight (waits for copies the plan found in progress do
        // not take one: they are in flight already).
        let _permit = if entry.action == Action::Copy {
            match self.until_stopped(self.in_flight.acquire()).await {
                Ok(permit) => Some(permit.expect("the semaphore is never closed")),
                Err(_) => {
                    let why = self.stopping().unwrap_or("not started").to_string();
                    return self.fail(entry, Outcome::Skipped, why);
                }
            }
        } else {
            None
        };

        let mut result = PlacementReport::new(entry, Outcome::InProgress, "");
        if entry.action == Action::Copy {
            if let Some(why) = self.stopping() {
                return self.fail(entry, Outcome::Skipped, why.into());
            }
            if let Some(project_arn) = &entry.source.project_arn
                && let Some(error) = self.failed_policies.get(project_arn)
                && p.manage_policy
            {
                return self.fail(
                    entry,
                    Outcome::Failed,
                    format!("the managed policy could not be written: {error}"),
                );
            }
            if entry.cross_account {
                let arn = entry.source.project_arn.clone().unwrap_or_default();
                match self.source_policies.get(&arn) {
                    Some(Ok(policies)) => {
                        let role = self
                            .desired
                            .account(&p.destination_account)
                            .and_then(|a| a.role_arn.clone());
                        if let Err(e) = copy::check_policy(entry, role, policies) {
                            return self.fail(entry, Outcome::Blocked, e.to_string());
                        }
                    }
                    Some(Err(reason)) => {
                        return self.fail(
                            entry,
                            Outcome::Failed,
                            format!("cannot read the source project's policies again: {reason}"),
                        );
                    }
                    None => {
                        return self.fail(
                            entry,
                            Outcome::Failed,
                            "the source project's policies were not read".into(),
                        );
                    }
                }
            }
            match copy::start(self.ctx, &session, entry).await {
                Ok(copy::Started::Started { version_arn }) => {
                    self.progress.event(&Event::CopyStarted {
                        placement: placement.clone(),
                    });
                    result.version_arn = Some(version_arn);
                    result.status = Some("COPYING_IN_PROGRESS".into());
                    result.reason = "copy started".into();
                    if !self.options.wait {
                        result.outcome = Outcome::Started;
                        result.reason = "copy started; not waited for (--no-wait)".into();
                        return result;
                    }
                }
                Ok(copy::Started::Joined {
                    version_arn,
                    status,
                }) => {
                    self.progress.event(&Event::CopyJoined {
                        placement: placement.clone(),
                    });
                    result.version_arn = Some(version_arn);
                    result.status = Some(status);
                    result.reason =
                        "the same copy was already started (another run, or a retried call)".into();
                    if !self.options.wait {
                        result.outcome = Outcome::InProgress;
                        return result;
                    }
                }
                Err(e @ copy::CopyError::Conflict { .. }) => {
                    return self.fail(entry, Outcome::Conflict, e.to_string());
                }
                Err(e) => return self.fail(entry, Outcome::Failed, e.to_string()),
            }
        } else {
            result.reason = entry.reason.clone();
            if !self.options.wait {
                return result;
            }
            self.progress.event(&Event::Waiting {
                placement: placement.clone(),
            });
        }

        // Wait for the copy to end.
        let receiver = self.poller.watch(
            &session.rekognition(&entry.region),
            &session.account.account_id,
            &dest_project_arn,
            &entry.target.version_name,
        );
        match self.until_stopped(receiver).await {
            Ok(Ok(wait::Final::Completed(version))) => {
                self.progress.event(&Event::CopyCompleted { placement });
                result.outcome = Outcome::Copied;
                result.reason = match entry.action {
                    Action::InProgress => "the copy found in progress completed",
                    _ if result.reason.starts_with("the same copy") => {
                        "copied (started by another run or a retried call)"
                    }
                    _ => "copy completed (COPYING_COMPLETED)",
                }
                .to_string();
                result.version_arn = Some(version.arn);
                result.status = Some(version.status);
                result.status_message = version.status_message;
                result
            }
            Ok(Ok(wait::Final::Failed(version))) => {
                let message = version
                    .status_message
                    .clone()
                    .unwrap_or_else(|| "no StatusMessage".into());
                let mut failed =
                    self.fail(entry, Outcome::Failed, format!("COPYING_FAILED: {message}"));
                failed.version_arn = Some(version.arn);
                failed.status = Some(version.status);
                failed.status_message = version.status_message;
                failed
            }
            Ok(Ok(wait::Final::Gone)) => self.fail(
                entry,
                Outcome::Failed,
                "the version disappeared while being copied (deleted?)".into(),
            ),
            Ok(Ok(wait::Final::Unreadable(reason))) => self.fail(
                entry,
                Outcome::Unknown,
                format!("the copy's status could not be read: {reason}"),
            ),
            Ok(Err(_)) => self.fail(entry, Outcome::Unknown, "polling stopped".into()),
            Err(stopped) => {
                result.outcome = Outcome::InProgress;
                result.reason = match stopped {
                    Stopped::Interrupted => {
                        "still copying when apply was interrupted; it continues in AWS and the \
                         next apply waits for it"
                    }
                    Stopped::TimedOut => {
                        "still copying when --timeout ran out; it continues in AWS and the next \
                         apply waits for it"
                    }
                }
                .into();
                result
            }
        }
    }
}
