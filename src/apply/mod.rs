//! Apply: carry out a plan, exactly as shown, safely under interruption and concurrency.
//!
//! Apply works from the plan document alone (fresh, or saved and checked by `stale`): every
//! entry is acted on by its key, its typed reason and the data it carries; nothing is paired by
//! position and nothing decides on text. Placements the plan shows unknown, blocked or in
//! conflict get no write of any kind: the policies written are the plan's grants, which only
//! placements that can be carried out contribute to.
//!
//! The order is fixed: (1) placements the plan does not copy are reported as they are
//! (unchanged, blocked, conflict, unknown: never touched); (2) the managed project policies the
//! plan shows are written in the source accounts (`policies`); (3) every cross-account copy's
//! source policies are read once more and evaluated, so a copy the policies no longer allow is
//! reported blocked without a CopyProjectVersion call; (4) copies start in the destination
//! accounts, at most `max_in_flight` in flight (unbounded by default), a name already taken by the same copy being joined
//! rather than copied twice (`copy`); (5) copies, those the plan found in progress included, are
//! waited for by batched polling (`wait`) unless `--no-wait`; (6) in destination projects
//! declaring `running` or `prune`, the declared version is started after its copy, the versions
//! it replaces are stopped once it is RUNNING, and prune deletes follow (`serving`). One failure does not stop the
//! others unless `fail_fast`; an interruption stops new copies and reports those in flight.
//!
//! Computing the plan is `pipeline`'s and `plan`'s job, checking a saved one `stale`'s; showing
//! progress is `progress`'s and the final document `report`'s. The CLI (`cli::apply`) wires
//! flags, confirmation, signals and exit codes.

pub mod copy;
pub mod policies;
pub mod progress;
pub mod report;
pub mod serving;
pub mod stale;
pub mod wait;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

use crate::aws::list_project_policies::list_project_policies;
use crate::aws::{AwsContext, CallSite, Sessions};
use crate::desired::PlacementKey;
use crate::plan::{Action, PlanDocument, PlanEntry};
use crate::state::LivePolicy;

pub use progress::{CopyRef, Event, Progress};
pub use report::{
    ApplyReport, Outcome, PlacementReport, ReportReason, ServingOutcome, ServingReport,
    ServingReportReason, SourcePolicyError, StartedBy, StopCause,
};

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

/// Applies `plan` with `sessions` (opened for the accounts the plan involves).
pub async fn apply(
    ctx: &AwsContext,
    sessions: &Sessions,
    plan: &PlanDocument,
    options: &ApplyOptions,
    progress: &Progress,
    interrupt: Interrupt,
) -> ApplyReport {
    let started_at = report::now_rfc3339();
    let clock = Instant::now();
    let deadline = options.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut outcomes: BTreeMap<PlacementKey, PlacementReport> = BTreeMap::new();

    // (1) What the plan does not act on.
    let mut untouched = 0;
    for entry in &plan.entries {
        let outcome = match entry.action {
            Action::Copy | Action::InProgress => continue,
            Action::Unchanged => Outcome::AlreadyThere,
            Action::Blocked => Outcome::Blocked,
            Action::Conflict => Outcome::Conflict,
            Action::Unknown => Outcome::Unknown,
            // Never copied: the plan holds it (gate, `after` or soak).
            Action::Held => Outcome::Held,
        };
        let report = PlacementReport::new(
            entry,
            outcome,
            ReportReason::Planned {
                reason: Box::new(entry.reason.clone()),
            },
        );
        if outcome != Outcome::AlreadyThere {
            progress.event(&Event::NotCopied(report.clone()));
        } else {
            untouched += 1;
        }
        outcomes.insert(entry.key.clone(), report);
    }
    progress.skip(untouched);

    // (2) Managed policies, unless interrupted already.
    let phase = if *interrupt.borrow() {
        policies::PolicyPhase::default()
    } else {
        policies::write_managed(ctx, sessions, plan, progress).await
    };

    // (3) The policies of every source project a cross-account copy comes from, read now.
    let copies = || {
        plan.entries
            .iter()
            .filter(|e| e.action == Action::Copy && e.cross_account)
    };
    let source_projects: BTreeMap<&str, &PlanEntry> = copies()
        .filter_map(|e| Some((e.source.project_arn.as_deref()?, e)))
        .collect();
    let source_policies: BTreeMap<String, Result<Vec<LivePolicy>, SourcePolicyError>> =
        futures::future::join_all(source_projects.into_iter().map(|(arn, entry)| async move {
            let result = match sessions.get(&entry.source.account.name) {
                Ok(session) => list_project_policies(
                    ctx,
                    &session.rekognition(&entry.region),
                    CallSite::from(&session.account),
                    arn,
                )
                .await
                .map(|found| found.iter().map(LivePolicy::from_sdk).collect())
                .map_err(SourcePolicyError::Aws),
                Err(error) => Err(SourcePolicyError::Session(error)),
            };
            (arn.to_string(), result)
        }))
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
    let run = &run;
    let results = crate::aws::pace::join_paced(
        plan.entries
            .iter()
            .filter(|e| matches!(e.action, Action::Copy | Action::InProgress))
            .map(|entry| async move { run.placement(entry).await }),
    )
    .await;
    for result in results {
        outcomes.insert(result.key.clone(), result);
    }
    drop(poller);

    // (6) Serving: starts after their copies, blue/green stops, prune deletes.
    let serving = serving::ServingRun {
        ctx,
        sessions,
        progress,
        interrupt: &interrupt,
        deadline,
        backoff: options.backoff,
        placements: &outcomes,
    }
    .run(&plan.serving)
    .await;

    let interrupted = *interrupt.borrow();
    let in_progress = outcomes
        .values()
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
    // In the plan's order.
    let placements = plan
        .entries
        .iter()
        .filter_map(|e| outcomes.remove(&e.key))
        .collect();
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
        placements,
        policies: phase.reports,
        serving,
        calls: ctx.limits.counts(),
    };
    report.tally();
    report
}

/// What the copy tasks of one run share.
struct Run<'a> {
    ctx: &'a AwsContext,
    sessions: &'a Sessions,
    options: &'a ApplyOptions,
    progress: &'a Progress,
    interrupt: &'a Interrupt,
    deadline: Option<tokio::time::Instant>,
    poller: &'a Arc<wait::Poller>,
    in_flight: &'a Semaphore,
    stop_new: &'a AtomicBool,
    failed_policies: &'a BTreeMap<String, policies::PolicyError>,
    source_policies: &'a BTreeMap<String, Result<Vec<LivePolicy>, SourcePolicyError>>,
}

impl Run<'_> {
    async fn until_stopped<T>(&self, future: impl Future<Output = T>) -> Result<T, StopCause> {
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
            _ = interrupted => Err(StopCause::Interrupted),
            _ = deadline => Err(StopCause::Timeout),
        }
    }

    fn stopping(&self) -> Option<StopCause> {
        if *self.interrupt.borrow() {
            Some(StopCause::Interrupted)
        } else if self.stop_new.load(Ordering::SeqCst) {
            Some(StopCause::FailFast)
        } else {
            interrupted_or_past(self.interrupt, self.deadline)
        }
    }

    fn fail(&self, entry: &PlanEntry, outcome: Outcome, why: ReportReason) -> PlacementReport {
        if outcome == Outcome::Failed && self.options.fail_fast {
            self.stop_new.store(true, Ordering::SeqCst);
        }
        let report = PlacementReport::new(entry, outcome, why);
        self.progress.event(&match outcome {
            Outcome::Failed => Event::CopyFailed(report.clone()),
            _ => Event::NotCopied(report.clone()),
        });
        report
    }

    /// The last checks before a copy: the managed policy it depends on was written, and the
    /// source project's policies, read again, still allow it.
    fn copy_allowed(
        &self,
        entry: &PlanEntry,
        role: Option<String>,
    ) -> Result<(), Box<PlacementReport>> {
        if let Some(project_arn) = &entry.source.project_arn
            && let Some(error) = self.failed_policies.get(project_arn)
            && entry.manage_policy
        {
            return Err(Box::new(self.fail(
                entry,
                Outcome::Failed,
                ReportReason::ManagedPolicyFailed {
                    error: Box::new(error.clone()),
                },
            )));
        }
        if !entry.cross_account {
            return Ok(());
        }
        let arn = entry.source.project_arn.as_deref().unwrap_or_default();
        match self.source_policies.get(arn) {
            Some(Ok(policies)) => copy::check_policy(entry, role, policies)
                .map_err(|why| Box::new(self.fail(entry, Outcome::Blocked, *why))),
            Some(Err(error)) => Err(Box::new(self.fail(
                entry,
                Outcome::Failed,
                ReportReason::PoliciesUnreadable {
                    error: Box::new(error.clone()),
                },
            ))),
            None => Err(Box::new(self.fail(
                entry,
                Outcome::Failed,
                ReportReason::Incomplete {
                    missing: report::Missing::SourceProjectArn,
                },
            ))),
        }
    }

    /// One placement the plan copies or waits for, from start to end.
    async fn placement(&self, entry: &PlanEntry) -> PlacementReport {
        let placement = CopyRef::of(entry);
        let session = match self.sessions.get(&entry.target.account.name) {
            Ok(session) => session.clone(),
            Err(error) => {
                return self.fail(
                    entry,
                    Outcome::Unknown,
                    ReportReason::NoSession {
                        error: Box::new(error),
                    },
                );
            }
        };
        let Some(dest_project_arn) = entry.target.project_arn.clone() else {
            return self.fail(
                entry,
                Outcome::Unknown,
                ReportReason::Incomplete {
                    missing: report::Missing::DestinationProjectArn,
                },
            );
        };
        // A place among the copies in flight (waits for copies the plan found in progress do
        // not take one: they are in flight already).
        let _permit = if entry.action == Action::Copy {
            match self.until_stopped(self.in_flight.acquire()).await {
                Ok(permit) => Some(permit.expect("the semaphore is never closed")),
                Err(cause) => {
                    let cause = self.stopping().unwrap_or(cause);
                    return self.fail(entry, Outcome::Skipped, ReportReason::NotStarted { cause });
                }
            }
        } else {
            None
        };

        let mut result = PlacementReport::new(entry, Outcome::InProgress, ReportReason::NotWaited);
        let started_by = if entry.action == Action::Copy {
            if let Some(cause) = self.stopping() {
                return self.fail(entry, Outcome::Skipped, ReportReason::NotStarted { cause });
            }
            if let Err(report) = self.copy_allowed(entry, session.account.role_arn.clone()) {
                return *report;
            }
            let started_by = match copy::start(self.ctx, &session, entry).await {
                Ok(copy::Started::Started { version_arn }) => {
                    self.progress.event(&Event::CopyStarted(placement.clone()));
                    result.version_arn = Some(version_arn);
                    result.status = Some(crate::state::VersionStatus::CopyingInProgress);
                    StartedBy::ThisRun
                }
                Ok(copy::Started::Joined {
                    version_arn,
                    status,
                }) => {
                    self.progress.event(&Event::CopyJoined(placement.clone()));
                    result.version_arn = Some(version_arn);
                    result.status = Some(status);
                    StartedBy::Another
                }
                Err(copy::NotStarted::Conflict(why)) => {
                    return self.fail(entry, Outcome::Conflict, why);
                }
                Err(copy::NotStarted::Failed(why)) => {
                    return self.fail(entry, Outcome::Failed, why);
                }
            };
            if !self.options.wait {
                result.reason = ReportReason::Started { started_by };
                result.outcome = match started_by {
                    StartedBy::ThisRun => Outcome::Started,
                    _ => Outcome::InProgress,
                };
                return result;
            }
            started_by
        } else {
            if !self.options.wait {
                return result;
            }
            self.progress.event(&Event::Waiting(placement.clone()));
            StartedBy::Earlier
        };

        // Wait for the copy to end.
        let receiver = self.poller.watch(
            &session.rekognition(&entry.region),
            &session.account,
            &dest_project_arn,
            &entry.target.version_name,
        );
        match self.until_stopped(receiver).await {
            Ok(Ok(wait::Final::Completed(version))) => {
                self.progress.event(&Event::CopyCompleted(placement));
                result.outcome = Outcome::Copied;
                result.reason = ReportReason::Copied { started_by };
                result.version_arn = Some(version.arn);
                result.status = Some(version.status);
                result.status_message = version.status_message;
                result
            }
            Ok(Ok(wait::Final::Failed(version))) => {
                let mut failed = PlacementReport::new(
                    entry,
                    Outcome::Failed,
                    ReportReason::CopyFailed {
                        status_message: version.status_message.clone(),
                    },
                );
                failed.version_arn = Some(version.arn);
                failed.status = Some(version.status);
                failed.status_message = version.status_message;
                if self.options.fail_fast {
                    self.stop_new.store(true, Ordering::SeqCst);
                }
                self.progress.event(&Event::CopyFailed(failed.clone()));
                failed
            }
            Ok(Ok(wait::Final::Gone)) => self.fail(entry, Outcome::Failed, ReportReason::Gone),
            Ok(Ok(wait::Final::Unreadable(error))) => self.fail(
                entry,
                Outcome::Unknown,
                ReportReason::StatusUnreadable {
                    error: Box::new(error),
                },
            ),
            // The poller stopped (it only does when apply drops it): report what is known.
            Ok(Err(_)) => result,
            Err(cause) => {
                result.outcome = Outcome::InProgress;
                result.reason = ReportReason::StillCopying { cause };
                result
            }
        }
    }
}

/// Why a run must stop now, if it must: an interrupt (SIGINT/SIGTERM), else a deadline passed.
/// Shared by the copy steps and the serving steps, which add causes of their own.
pub(crate) fn interrupted_or_past(
    interrupt: &Interrupt,
    deadline: Option<tokio::time::Instant>,
) -> Option<StopCause> {
    if *interrupt.borrow() {
        Some(StopCause::Interrupted)
    } else if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        Some(StopCause::Timeout)
    } else {
        None
    }
}
