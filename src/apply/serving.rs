//! Carrying out the serving part of a plan: per destination project, starts (after their
//! copies), restarts, blue/green stops and prune deletes, each guard checked again on state read
//! just before the call.
//!
//! The order inside a project is fixed: (1) the declared running version is started (or
//! restarted) and waited for until RUNNING, a FAILED start reported with AWS's StatusMessage;
//! (2) only when it is RUNNING are the versions it replaces stopped (so a project that served
//! never serves nothing); (3) deletes, each after its version's stop is STOPPED, only when the
//! version is still the one planned (same ARN), at rest, and still tagged as made by
//! reko-promote. A guard that does not hold skips the step (reported, nothing called). Projects
//! run concurrently. What to do was decided by `plan::serving`; this module only acts.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::delete_project_version::delete_project_version;
use crate::aws::describe_project_versions::{Versions, describe_project_versions};
use crate::aws::list_tags_for_resource::list_tags_for_resource;
use crate::aws::start_project_version::start_project_version;
use crate::aws::stop_project_version::stop_project_version;
use crate::aws::{AccountSession, AwsContext, AwsError, CallSite};
use crate::desired::PlacementKey;
use crate::manifest::model::OWNERSHIP_TAG;
use crate::plan::{Guard, ProjectServing, ServingAction, ServingStep};
use crate::state::{LiveVersion, VersionStatus};

use super::report::{
    Outcome, PlacementReport, ServingOutcome, ServingReport, ServingReportReason, StopCause,
};
use super::{Event, Interrupt, Progress, wait::Backoff};

/// What the serving steps of one run share.
pub struct ServingRun<'a> {
    pub ctx: &'a AwsContext,
    pub sessions: &'a crate::aws::Sessions,
    pub progress: &'a Progress,
    pub interrupt: &'a Interrupt,
    pub deadline: Option<tokio::time::Instant>,
    pub backoff: Backoff,
    /// What became of each placement this run copied or waited for.
    pub placements: &'a BTreeMap<PlacementKey, PlacementReport>,
}

/// Why waiting for a status ended without it.
enum WaitEnd {
    Gone,
    Unreadable(AwsError),
    Stopped(StopCause),
}

impl ServingRun<'_> {
    fn stop_cause(&self) -> Option<StopCause> {
        super::interrupted_or_past(self.interrupt, self.deadline)
    }

    fn report(&self, report: ServingReport) -> ServingReport {
        if report.outcome != ServingOutcome::Kept {
            self.progress.event(&Event::Serving(report.clone()));
        }
        report
    }

    /// Every project's steps, projects concurrently.
    pub async fn run(&self, projects: &[ProjectServing]) -> Vec<ServingReport> {
        futures::future::join_all(projects.iter().map(|p| self.project(p)))
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn project(&self, project: &ProjectServing) -> Vec<ServingReport> {
        let mut reports: Vec<ServingReport> = project
            .steps
            .iter()
            .filter(|s| s.action == ServingAction::Keep)
            .map(|s| {
                ServingReport::new(
                    s,
                    ServingOutcome::Kept,
                    ServingReportReason::Planned {
                        reason: Box::new(s.reason.clone()),
                    },
                )
            })
            .collect();
        let acting: Vec<&ServingStep> = project
            .steps
            .iter()
            .filter(|s| s.action != ServingAction::Keep)
            .collect();
        if acting.is_empty() {
            return reports;
        }
        let fail_all = |reason: ServingReportReason| -> Vec<ServingReport> {
            acting
                .iter()
                .map(|s| {
                    self.report(ServingReport::new(
                        s,
                        ServingOutcome::Failed,
                        reason.clone(),
                    ))
                })
                .collect()
        };
        let session = match self.sessions.get(&project.account.name) {
            Ok(session) => session.clone(),
            Err(error) => {
                reports.extend(fail_all(ServingReportReason::NoSession {
                    error: Box::new(error),
                }));
                return reports;
            }
        };
        let Some(project_arn) = project.project_arn.as_deref() else {
            reports.extend(fail_all(ServingReportReason::NoProjectArn));
            return reports;
        };
        let at = Project {
            run: self,
            session: &session,
            project_arn,
            region: &project.region,
        };

        // (1) The declared running version.
        let mut running_ok = false;
        let mut pending = false;
        if let Some(running) = &project.running {
            let step = acting
                .iter()
                .find(|s| matches!(s.action, ServingAction::Start | ServingAction::Restart));
            running_ok = match step {
                Some(step) => {
                    let report = at.start(step).await;
                    let ok = matches!(
                        report.outcome,
                        ServingOutcome::Started | ServingOutcome::Restarted
                    );
                    pending = report.outcome == ServingOutcome::Pending;
                    reports.push(self.report(report));
                    ok
                }
                // Kept (RUNNING, or STARTING): the stops wait for it to be RUNNING.
                None => matches!(
                    at.wait_for(&running.version_name, |s| *s != VersionStatus::Starting)
                        .await,
                    Ok(v) if v.status == VersionStatus::Running
                ),
            };
        }

        // A step whose guard cannot hold this run: pending behind a copy still going on, else
        // skipped.
        let not_done = |step: &ServingStep, guard: Guard| {
            ServingReport::new(
                step,
                if pending {
                    ServingOutcome::Pending
                } else {
                    ServingOutcome::Skipped
                },
                ServingReportReason::GuardNotMet {
                    guard,
                    status: None,
                },
            )
        };

        // (2) Blue/green stops, only once the replacement is RUNNING.
        let mut stopped: BTreeMap<&str, bool> = BTreeMap::new();
        for step in acting.iter().filter(|s| s.action == ServingAction::Stop) {
            let report = if running_ok {
                at.stop(step).await
            } else {
                let guard = step
                    .guards
                    .iter()
                    .find(|g| matches!(g, Guard::ReplacementRunning { .. }))
                    .cloned()
                    .unwrap_or(Guard::Stopped);
                not_done(step, guard)
            };
            stopped.insert(
                &step.key.version_name,
                report.outcome == ServingOutcome::Stopped,
            );
            reports.push(self.report(report));
        }

        // (3) Prune.
        for step in acting.iter().filter(|s| s.action == ServingAction::Delete) {
            let report = if step.guards.contains(&Guard::Stopped)
                && !stopped
                    .get(step.key.version_name.as_str())
                    .copied()
                    .unwrap_or(false)
            {
                not_done(step, Guard::Stopped)
            } else {
                at.delete(step).await
            };
            reports.push(self.report(report));
        }
        reports
    }
}

/// One destination project being acted on.
struct Project<'a> {
    run: &'a ServingRun<'a>,
    session: &'a AccountSession,
    project_arn: &'a str,
    region: &'a str,
}

impl Project<'_> {
    fn site(&self) -> CallSite<'_> {
        CallSite::from(&self.session.account)
    }

    fn client(&self) -> aws_sdk_rekognition::Client {
        self.session.rekognition(self.region)
    }

    /// The version `name` as it is now (`None`: absent).
    async fn read(&self, name: &str) -> Result<Option<LiveVersion>, AwsError> {
        let names = [name.to_string()];
        let found = describe_project_versions(
            self.run.ctx,
            &self.client(),
            self.site(),
            self.project_arn,
            Versions::Named(&names),
        )
        .await?;
        Ok(found.get(name).and_then(LiveVersion::from_description))
    }

    /// Polls version `name` (backoff as copies are waited for) until `done` holds of its status.
    async fn wait_for(
        &self,
        name: &str,
        done: impl Fn(&VersionStatus) -> bool,
    ) -> Result<LiveVersion, WaitEnd> {
        let mut delay = self.run.backoff.initial;
        let mut failures = 0;
        loop {
            if let Some(cause) = self.run.stop_cause() {
                return Err(WaitEnd::Stopped(cause));
            }
            match self.read(name).await {
                Ok(Some(v)) if done(&v.status) => return Ok(v),
                Ok(Some(_)) => failures = 0,
                Ok(None) => return Err(WaitEnd::Gone),
                Err(e) => {
                    failures += 1;
                    if failures >= super::wait::MAX_READ_FAILURES {
                        return Err(WaitEnd::Unreadable(e));
                    }
                }
            }
            let sleep = tokio::time::sleep(delay);
            match self.run.deadline {
                Some(deadline) => {
                    tokio::select! {
                        _ = sleep => {}
                        _ = tokio::time::sleep_until(deadline) => {}
                    }
                }
                None => sleep.await,
            }
            delay = delay
                .mul_f64(1.5)
                .min(self.run.backoff.max.max(Duration::from_millis(1)));
        }
    }

    fn ended(step: &ServingStep, end: WaitEnd) -> ServingReport {
        let (outcome, reason) = match end {
            WaitEnd::Gone => (ServingOutcome::Failed, ServingReportReason::Gone),
            WaitEnd::Unreadable(error) => (
                ServingOutcome::Failed,
                ServingReportReason::StatusUnreadable {
                    error: Box::new(error),
                },
            ),
            WaitEnd::Stopped(cause) => (
                ServingOutcome::Skipped,
                ServingReportReason::NotFinished { cause },
            ),
        };
        ServingReport::new(step, outcome, reason)
    }

    fn call_failed(step: &ServingStep, error: AwsError) -> ServingReport {
        ServingReport::new(
            step,
            ServingOutcome::Failed,
            ServingReportReason::CallFailed {
                error: Box::new(error),
            },
        )
    }

    fn guard_not_met(step: &ServingStep, guard: &Guard, v: Option<&LiveVersion>) -> ServingReport {
        let report = ServingReport::new(
            step,
            ServingOutcome::Skipped,
            ServingReportReason::GuardNotMet {
                guard: guard.clone(),
                status: v.map(|v| v.status.clone()),
            },
        );
        match v {
            Some(v) => report.read_as(v),
            None => report,
        }
    }

    /// Reads the version and checks the step's `Unchanged` guard and `allowed` statuses.
    async fn current(
        &self,
        step: &ServingStep,
        allowed: impl Fn(&VersionStatus) -> bool,
    ) -> Result<LiveVersion, ServingReport> {
        if let Some(cause) = self.run.stop_cause() {
            return Err(ServingReport::new(
                step,
                ServingOutcome::Skipped,
                ServingReportReason::NotFinished { cause },
            ));
        }
        let v = match self.read(&step.key.version_name).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                return Err(ServingReport::new(
                    step,
                    ServingOutcome::Failed,
                    ServingReportReason::Gone,
                ));
            }
            Err(error) => return Err(Self::call_failed(step, error)),
        };
        for guard in &step.guards {
            if let Guard::Unchanged { version_arn } = guard
                && (*version_arn != v.arn || !allowed(&v.status))
            {
                return Err(Self::guard_not_met(step, guard, Some(&v)));
            }
        }
        if !allowed(&v.status) {
            let guard = Guard::Unchanged {
                version_arn: v.arn.clone(),
            };
            return Err(Self::guard_not_met(step, &guard, Some(&v)));
        }
        Ok(v)
    }

    /// Starts (or restarts) the declared running version and waits until RUNNING or FAILED.
    async fn start(&self, step: &ServingStep) -> ServingReport {
        for guard in &step.guards {
            if let Guard::CopyCompleted { placement } = guard {
                let copied =
                    self.run.placements.get(placement).is_some_and(|p| {
                        matches!(p.outcome, Outcome::Copied | Outcome::AlreadyThere)
                    });
                if !copied {
                    let copy = self.run.placements.get(placement);
                    let status = copy.and_then(|p| p.status.clone());
                    // A copy still going on (not waited for) leaves the start for the next run.
                    let still_copying = copy.is_some_and(|p| {
                        matches!(p.outcome, Outcome::Started | Outcome::InProgress)
                    });
                    return ServingReport::new(
                        step,
                        if still_copying {
                            ServingOutcome::Pending
                        } else {
                            ServingOutcome::Skipped
                        },
                        ServingReportReason::GuardNotMet {
                            guard: guard.clone(),
                            status,
                        },
                    );
                }
            }
        }
        let Some(units) = step.units else {
            return ServingReport::new(step, ServingOutcome::Failed, ServingReportReason::Gone);
        };
        let restart = step.action == ServingAction::Restart;
        let startable = |s: &VersionStatus| {
            matches!(
                s,
                VersionStatus::CopyingCompleted
                    | VersionStatus::Stopped
                    | VersionStatus::TrainingCompleted
                    | VersionStatus::Failed
            )
        };
        let v = if restart {
            match self.current(step, |s| *s == VersionStatus::Running).await {
                Ok(v) => v,
                Err(report) => return report,
            }
        } else {
            // A copy completed this run is the version planned, under a new ARN.
            let copied = step
                .guards
                .iter()
                .any(|g| matches!(g, Guard::CopyCompleted { .. }));
            if copied {
                match self.read(&step.key.version_name).await {
                    Ok(Some(v)) if startable(&v.status) => v,
                    Ok(v) => {
                        return Self::guard_not_met(
                            step,
                            step.guards.first().expect("a copy guard"),
                            v.as_ref(),
                        );
                    }
                    Err(error) => return Self::call_failed(step, error),
                }
            } else {
                match self.current(step, startable).await {
                    Ok(v) => v,
                    Err(report) => return report,
                }
            }
        };
        let (client, site) = (self.client(), self.site());
        if restart {
            if let Err(error) = stop_project_version(self.run.ctx, &client, site, &v.arn).await {
                return Self::call_failed(step, error);
            }
            if let Err(end) = self
                .wait_for(&step.key.version_name, |s| {
                    !matches!(s, VersionStatus::Running | VersionStatus::Stopping)
                })
                .await
            {
                return Self::ended(step, end);
            }
        }
        if let Err(error) = start_project_version(self.run.ctx, &client, site, &v.arn, units).await
        {
            return Self::call_failed(step, error);
        }
        match self
            .wait_for(&step.key.version_name, |s| *s != VersionStatus::Starting)
            .await
        {
            Ok(now) => {
                let report = if now.status == VersionStatus::Running {
                    ServingReport::new(
                        step,
                        if restart {
                            ServingOutcome::Restarted
                        } else {
                            ServingOutcome::Started
                        },
                        ServingReportReason::Done,
                    )
                } else {
                    ServingReport::new(
                        step,
                        ServingOutcome::Failed,
                        ServingReportReason::StartFailed {
                            status_message: now.status_message.clone(),
                        },
                    )
                };
                report.read_as(&now)
            }
            Err(end) => Self::ended(step, end),
        }
    }

    /// Stops a version the declared running one replaces (it is RUNNING by now).
    async fn stop(&self, step: &ServingStep) -> ServingReport {
        let v = match self
            .current(step, |s| {
                matches!(s, VersionStatus::Running | VersionStatus::Starting)
            })
            .await
        {
            Ok(v) => v,
            Err(report) => return report,
        };
        match stop_project_version(self.run.ctx, &self.client(), self.site(), &v.arn).await {
            Ok(_) => {
                let mut report =
                    ServingReport::new(step, ServingOutcome::Stopped, ServingReportReason::Done);
                report.version_arn = Some(v.arn);
                report.status = Some(VersionStatus::Stopping);
                report
            }
            Err(error) => Self::call_failed(step, error),
        }
    }

    /// Deletes a version prune found: once STOPPED when this run stopped it, only if still the
    /// version planned, at rest, and tagged as made by reko-promote.
    async fn delete(&self, step: &ServingStep) -> ServingReport {
        if step.guards.contains(&Guard::Stopped)
            && let Err(end) = self
                .wait_for(&step.key.version_name, |s| {
                    !matches!(s, VersionStatus::Running | VersionStatus::Stopping)
                })
                .await
        {
            return Self::ended(step, end);
        }
        let at_rest = |s: &VersionStatus| crate::plan::serving::may_delete(s);
        let v = match self.current(step, at_rest).await {
            Ok(v) => v,
            Err(report) => return report,
        };
        let (client, site) = (self.client(), self.site());
        for guard in &step.guards {
            if let Guard::Owned { promotion } = guard {
                match list_tags_for_resource(self.run.ctx, &client, site, &v.arn).await {
                    Ok(tags) if tags.get(OWNERSHIP_TAG) == Some(promotion) => {}
                    Ok(_) => return Self::guard_not_met(step, guard, Some(&v)),
                    Err(error) => return Self::call_failed(step, error),
                }
            }
        }
        match delete_project_version(self.run.ctx, &client, site, &v.arn).await {
            Ok(_) => {
                let mut report =
                    ServingReport::new(step, ServingOutcome::Deleted, ServingReportReason::Done);
                report.version_arn = Some(v.arn);
                report.status = Some(VersionStatus::Deleting);
                report
            }
            Err(error) => Self::call_failed(step, error),
        }
    }
}
