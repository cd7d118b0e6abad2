//! Waiting for copies: one poller per destination project, batching the versions being waited
//! for into DescribeProjectVersions calls of at most 10 names (`describe_project_versions`
//! chunks them), with backoff between rounds, until each reaches COPYING_COMPLETED or
//! COPYING_FAILED.
//!
//! Copies register as they start ([`Poller::watch`]) and each gets its final state through a
//! oneshot channel; a caller that stops waiting (timeout, Ctrl-C) just drops its receiver. What
//! to do with the result (report, events, exit code) is left to `apply`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::aws::describe_project_versions::{Versions, describe_project_versions};
use crate::aws::{AwsContext, AwsError, CallSite};
use crate::desired::Account;
use crate::state::{LiveVersion, VersionStatus};

/// How a watched copy ended.
#[derive(Debug, Clone)]
pub enum Final {
    Completed(LiveVersion),
    Failed(LiveVersion),
    /// The version disappeared (deleted while copying).
    Gone,
    /// Its status could not be read, [`MAX_READ_FAILURES`] rounds in a row (the copy itself may
    /// well go on).
    Unreadable(AwsError),
}

/// Consecutive failed polling rounds (each already retried by the SDK) before the copies of a
/// project are given up on as unreadable, rather than waited for forever.
pub const MAX_READ_FAILURES: u32 = 10;

/// Backoff between polling rounds of one project.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(15),
        }
    }
}

type Registration = (String, oneshot::Sender<Final>);

/// Polls destination projects for the copies registered with it.
pub struct Poller {
    ctx: AwsContext,
    backoff: Backoff,
    groups: Mutex<HashMap<String, mpsc::UnboundedSender<Registration>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Poller {
    pub fn new(ctx: AwsContext, backoff: Backoff) -> Arc<Self> {
        Arc::new(Poller {
            ctx,
            backoff,
            groups: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Waits for version `name` of `project_arn` (in `account`, read through `client`).
    pub fn watch(
        &self,
        client: &aws_sdk_rekognition::Client,
        account: &Account,
        project_arn: &str,
        name: &str,
    ) -> oneshot::Receiver<Final> {
        let (tx, rx) = oneshot::channel();
        let mut groups = self.groups.lock().expect("groups lock");
        let sender = groups.entry(project_arn.to_string()).or_insert_with(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let task = tokio::spawn(poll_project(
                self.ctx.clone(),
                client.clone(),
                account.clone(),
                project_arn.to_string(),
                receiver,
                self.backoff,
            ));
            self.tasks.lock().expect("tasks lock").push(task);
            sender
        });
        let _ = sender.send((name.to_string(), tx));
        rx
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        for task in self.tasks.lock().expect("tasks lock").drain(..) {
            task.abort();
        }
    }
}

async fn poll_project(
    ctx: AwsContext,
    client: aws_sdk_rekognition::Client,
    account: Account,
    project_arn: String,
    mut registrations: mpsc::UnboundedReceiver<Registration>,
    backoff: Backoff,
) {
    let mut pending: HashMap<String, Vec<oneshot::Sender<Final>>> = HashMap::new();
    let mut delay = backoff.initial;
    let mut failures = 0;
    loop {
        // Take every registration that arrived; with nothing to watch, sleep until one does.
        while let Ok((name, tx)) = registrations.try_recv() {
            pending.entry(name).or_default().push(tx);
            delay = backoff.initial;
        }
        pending.retain(|_, waiters| waiters.iter().any(|w| !w.is_closed()));
        if pending.is_empty() {
            match registrations.recv().await {
                Some((name, tx)) => {
                    pending.entry(name).or_default().push(tx);
                    delay = backoff.initial;
                }
                None => return,
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay.mul_f64(1.5)).min(backoff.max);
        // Copies registered during the sleep join this round's batch.
        while let Ok((name, tx)) = registrations.try_recv() {
            pending.entry(name).or_default().push(tx);
        }
        let mut names: Vec<String> = pending.keys().cloned().collect();
        names.sort();
        let site = CallSite::from(&account);
        match describe_project_versions(&ctx, &client, site, &project_arn, Versions::Named(&names))
            .await
        {
            Ok(found) => {
                let found = LiveVersion::all_from(found);
                failures = 0;
                for name in names {
                    let outcome = match found.get(&name) {
                        None => Some(Final::Gone),
                        Some(v) if v.status == VersionStatus::CopyingFailed => {
                            Some(Final::Failed(v.clone()))
                        }
                        // Completed, or already started/stopped by someone since: the copy is done.
                        Some(v) if v.status.is_copyable_source() => {
                            Some(Final::Completed(v.clone()))
                        }
                        Some(_) => None,
                    };
                    if let Some(outcome) = outcome
                        && let Some(waiters) = pending.remove(&name)
                    {
                        for waiter in waiters {
                            let _ = waiter.send(outcome.clone());
                        }
                    }
                }
            }
            // Throttling and transient errors were already retried by the SDK; keep polling
            // (with the growing delay) rather than give up on copies that are running fine.
            Err(e) => {
                tracing::warn!("polling {project_arn}: {e}");
                failures += 1;
                if failures >= MAX_READ_FAILURES {
                    for (_, waiters) in pending.drain() {
                        for waiter in waiters {
                            let _ = waiter.send(Final::Unreadable(e.clone()));
                        }
                    }
                    failures = 0;
                }
            }
        }
    }
}
