//! Sessions: how reko-promote acts in each declared account.
//!
//! An account with a `roleArn` is entered by STS AssumeRole (RoleSessionName naming the run,
//! ExternalId where declared); the credentials are cached for the run and renewed by assuming
//! the role again five minutes before they expire. An account without a role is served by the
//! ambient credentials, but only after GetCallerIdentity shows they belong to that very account.
//! Either way the identity is verified before any Rekognition call: the assumed-role ARN AWS
//! returns must be in the declared account (a mistyped role ARN or a trust that lands elsewhere
//! is refused), so a bad role fails once, clearly, naming the account, the role and AWS's reason.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_config::Region;
use aws_credential_types::provider::SharedCredentialsProvider;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::assume_role::assume_role;
use super::get_caller_identity::get_caller_identity;
use super::{AwsContext, AwsError, CallSite};
use crate::desired::Account;

/// A role's credentials, shared by every client of the session and renewed (AssumeRole again)
/// five minutes before they expire. (Each SDK client keeps its own identity cache partition, so
/// without this every client would assume the role again.)
struct SessionCredentials {
    ctx: AwsContext,
    sts: aws_sdk_sts::Client,
    account: Account,
    role: String,
    cached: tokio::sync::Mutex<aws_credential_types::Credentials>,
}

impl std::fmt::Debug for SessionCredentials {
    // Never the credentials themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredentials")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl SessionCredentials {
    async fn credentials(&self) -> aws_credential_types::provider::Result {
        let mut cached = self.cached.lock().await;
        let refresh_after = std::time::SystemTime::now() + std::time::Duration::from_secs(300);
        if cached.expiry().is_none_or(|expiry| expiry > refresh_after) {
            return Ok(cached.clone());
        }
        let fresh = assume_role(
            &self.ctx,
            &self.sts,
            CallSite::from(&self.account),
            &self.role,
            &self.ctx.run_id,
            self.account.external_id.as_deref(),
        )
        .await
        .map_err(aws_credential_types::provider::error::CredentialsError::provider_error)?;
        *cached = fresh.credentials.clone();
        Ok(fresh.credentials)
    }
}

impl aws_credential_types::provider::ProvideCredentials for SessionCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(self.credentials())
    }
}

/// Why an account cannot be acted in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SessionError {
    /// AssumeRole failed.
    #[error(
        "cannot assume role {role} for account {account} ({account_id}): {}{}{}",
        error.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
        error.message,
        error.request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default()
    )]
    #[serde(rename_all = "camelCase")]
    AssumeRole {
        account: String,
        account_id: String,
        role: String,
        error: Box<AwsError>,
    },
    /// AssumeRole answered with an identity in another account than the one declared.
    #[error(
        "role {role} of account {account} ({account_id}) lands in account {actual_account} \
         (AWS returned {assumed_role_arn}); reko-promote acts in no account it did not ask for: \
         check roleArn and the role's trust"
    )]
    #[serde(rename_all = "camelCase")]
    RoleInOtherAccount {
        account: String,
        account_id: String,
        role: String,
        assumed_role_arn: String,
        actual_account: String,
    },
    /// The ambient credentials belong to another account.
    #[error(
        "account {account} ({expected}) declares no role, so the ambient credentials must \
         belong to it, but they are {actual_arn} of account {actual}; set roleArn, or run with \
         credentials of account {expected}"
    )]
    #[serde(rename_all = "camelCase")]
    WrongAccount {
        account: String,
        expected: String,
        actual: String,
        actual_arn: String,
    },
    /// No ambient credentials could be used.
    #[error(
        "no usable ambient AWS credentials for account {account} ({account_id}): {}{}",
        error.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
        error.message
    )]
    #[serde(rename_all = "camelCase")]
    NoCredentials {
        account: String,
        account_id: String,
        error: Box<AwsError>,
    },
    /// No session was opened for the account in this run.
    #[error("no session was opened for account {account}")]
    #[serde(rename_all = "camelCase")]
    NotOpened { account: String },
}

/// A working session in one account: its credentials and its clients, one per region.
pub struct AccountSession {
    pub account: Account,
    /// The identity the session acts as (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    pub caller_arn: String,
    credentials: SharedCredentialsProvider,
    clients: Mutex<HashMap<String, aws_sdk_rekognition::Client>>,
    base: aws_config::SdkConfig,
}

impl AccountSession {
    /// The Rekognition client of this account in `region`.
    pub fn rekognition(&self, region: &str) -> aws_sdk_rekognition::Client {
        let mut clients = self.clients.lock().expect("clients lock");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let config = aws_sdk_rekognition::config::Builder::from(&self.base)
                    .retry_classifier(super::retry::QuotaErrorsAreFinal)
                    .credentials_provider(self.credentials.clone())
                    .region(Region::new(region.to_string()))
                    .build();
                aws_sdk_rekognition::Client::from_conf(config)
            })
            .clone()
    }
}

/// The sessions of a run, by account name: each working, or the reason it is not.
#[derive(Default)]
pub struct Sessions {
    pub by_account: BTreeMap<String, Result<Arc<AccountSession>, SessionError>>,
}

impl Sessions {
    /// Opens a session for each of `accounts`, concurrently. `fallback_region` serves STS when
    /// neither `--region` nor the environment names one.
    pub async fn open(ctx: &AwsContext, accounts: &[Account], fallback_region: &str) -> Self {
        Self::open_then(ctx, accounts, fallback_region, |_, _| async {})
            .await
            .0
    }

    /// Opens a session for each of `accounts` concurrently and, in each account's own chain,
    /// runs `then` as soon as its session is open (or failed): no account waits for another.
    pub async fn open_then<'a, T, Fut>(
        ctx: &AwsContext,
        accounts: &'a [Account],
        fallback_region: &str,
        then: impl Fn(&'a Account, Result<Arc<AccountSession>, SessionError>) -> Fut,
    ) -> (Self, Vec<T>)
    where
        Fut: Future<Output = T>,
    {
        let base = Self::base(ctx, fallback_region);
        // One STS client for the run: every AssumeRole and GetCallerIdentity is made with the
        // ambient credentials, so the accounts need no client (and its set-up) of their own.
        let sts = aws_sdk_sts::Client::new(&base);
        let chains = super::pace::join_paced(accounts.iter().map(|account| {
            let (base, sts, then) = (&base, &sts, &then);
            async move {
                let session = open(ctx, base, sts, account).await.map(Arc::new);
                let result = then(account, session.clone()).await;
                ((account.name.clone(), session), result)
            }
        }))
        .await;
        let (by_account, results) = chains.into_iter().unzip();
        (Sessions { by_account }, results)
    }

    /// The configuration sessions are built from: the run's, with `fallback_region` for STS when
    /// neither `--region` nor the environment names one.
    pub fn base(ctx: &AwsContext, fallback_region: &str) -> aws_config::SdkConfig {
        let base = ctx.base.clone();
        if base.region().is_some() {
            return base;
        }
        base.into_builder()
            .region(Region::new(fallback_region.to_string()))
            .build()
    }

    /// The working session of `account`, or why there is none.
    pub fn get(&self, account: &str) -> Result<&Arc<AccountSession>, SessionError> {
        match self.by_account.get(account) {
            Some(Ok(session)) => Ok(session),
            Some(Err(e)) => Err(e.clone()),
            None => Err(SessionError::NotOpened {
                account: account.to_string(),
            }),
        }
    }
}

async fn open(
    ctx: &AwsContext,
    base: &aws_config::SdkConfig,
    sts: &aws_sdk_sts::Client,
    account: &Account,
) -> Result<AccountSession, SessionError> {
    let role = match &account.plan_role_arn {
        Some(plan_role) if ctx.read_only => Some(plan_role),
        _ => account.role_arn.as_ref(),
    };
    let (credentials, caller_arn) = match role {
        Some(role) => assume(ctx, sts, account, role).await?,
        None => ambient(ctx, base, sts, account).await?,
    };
    tracing::info!(account = %account.name, caller = %caller_arn, "session open");
    Ok(AccountSession {
        account: account.clone(),
        caller_arn,
        credentials,
        clients: Mutex::new(HashMap::new()),
        base: base.clone(),
    })
}

/// Enters an account through its role, and checks that AWS's answer is in that account.
async fn assume(
    ctx: &AwsContext,
    sts: &aws_sdk_sts::Client,
    account: &Account,
    role: &str,
) -> Result<(SharedCredentialsProvider, String), SessionError> {
    let assumed = assume_role(
        ctx,
        sts,
        CallSite::from(account),
        role,
        &ctx.run_id,
        account.external_id.as_deref(),
    )
    .await
    .map_err(|error| SessionError::AssumeRole {
        account: account.name.clone(),
        account_id: account.account_id.clone(),
        role: role.to_string(),
        error: Box::new(error),
    })?;
    let actual_account = assumed_role_account(&assumed.assumed_role_arn);
    if actual_account.as_deref() != Some(account.account_id.as_str()) {
        return Err(SessionError::RoleInOtherAccount {
            account: account.name.clone(),
            account_id: account.account_id.clone(),
            role: role.to_string(),
            assumed_role_arn: assumed.assumed_role_arn.clone(),
            actual_account: actual_account.unwrap_or_else(|| "(unreadable)".into()),
        });
    }
    let provider = SessionCredentials {
        ctx: ctx.clone(),
        sts: sts.clone(),
        account: account.clone(),
        role: role.to_string(),
        cached: tokio::sync::Mutex::new(assumed.credentials),
    };
    Ok((
        SharedCredentialsProvider::new(provider),
        assumed.assumed_role_arn,
    ))
}

/// The account of an assumed-role ARN (`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
pub fn assumed_role_account(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        ["arn", _, "sts", "", account, resource]
            if resource.starts_with("assumed-role/")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(account.to_string())
        }
        _ => None,
    }
}

/// Uses the ambient credentials for an account without a role, after GetCallerIdentity shows
/// they belong to it: never act in the wrong account.
async fn ambient(
    ctx: &AwsContext,
    base: &aws_config::SdkConfig,
    sts: &aws_sdk_sts::Client,
    account: &Account,
) -> Result<(SharedCredentialsProvider, String), SessionError> {
    let no_credentials = |error: AwsError| SessionError::NoCredentials {
        account: account.name.clone(),
        account_id: account.account_id.clone(),
        error: Box::new(error),
    };
    let credentials = base.credentials_provider().ok_or_else(|| {
        no_credentials(AwsError {
            operation: super::Operation::GetCallerIdentity,
            account: account.name.clone(),
            account_id: account.account_id.clone(),
            arn: None,
            code: None,
            message: "no credentials provider is configured".into(),
            request_id: None,
            kind: super::ErrorKind::NotSent,
        })
    })?;
    let identity = get_caller_identity(ctx, sts, CallSite::from(account))
        .await
        .map_err(no_credentials)?;
    if identity.account_id != account.account_id {
        return Err(SessionError::WrongAccount {
            account: account.name.clone(),
            expected: account.account_id.clone(),
            actual: identity.account_id,
            actual_arn: identity.arn,
        });
    }
    Ok((credentials, identity.arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_of_an_assumed_role_arn() {
        assert_eq!(
            assumed_role_account("arn:aws:sts::333333333333:assumed-role/reko-promote/run-1"),
            Some("333333333333".into())
        );
        for bad in [
            "arn:aws:iam::333333333333:role/reko-promote",
            "arn:aws:sts::33333:assumed-role/r/s",
            "nonsense",
        ] {
            assert_eq!(assumed_role_account(bad), None, "{bad}");
        }
    }
}
