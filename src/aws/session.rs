//! Sessions: how reko-promote acts in each declared account.
//!
//! An account with a `roleArn` is entered by STS AssumeRole (RoleSessionName naming the run,
//! ExternalId where declared); aws-config's provider caches the credentials for the run and
//! refreshes them before they expire. An account without a role is served by the ambient
//! credentials, but only after GetCallerIdentity shows they belong to that very account: never act
//! in the wrong account. Either way the session is proven before any Rekognition call (the
//! role's credentials are fetched; the ambient identity is checked), so a bad role fails once,
//! clearly, naming the account, the role and AWS's reason.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_config::Region;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::error::display::DisplayErrorContext;

use super::AwsContext;
use super::get_caller_identity::get_caller_identity;
use crate::desired::Account;

/// Credentials resolved once per account and shared by every client of the session, refreshed
/// five minutes before they expire. (Each SDK client keeps its own identity cache partition, so
/// without this every client would assume the role again.)
#[derive(Debug)]
struct SessionCredentials {
    inner: AssumeRoleProvider,
    cached: tokio::sync::Mutex<Option<aws_credential_types::Credentials>>,
}

impl SessionCredentials {
    fn new(inner: AssumeRoleProvider) -> Self {
        SessionCredentials {
            inner,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    async fn credentials(&self) -> aws_credential_types::provider::Result {
        use aws_credential_types::provider::ProvideCredentials;
        let mut cached = self.cached.lock().await;
        let refresh_after = std::time::SystemTime::now() + std::time::Duration::from_secs(300);
        if let Some(credentials) = cached.as_ref()
            && credentials
                .expiry()
                .is_none_or(|expiry| expiry > refresh_after)
        {
            return Ok(credentials.clone());
        }
        let fresh = self.inner.provide_credentials().await?;
        *cached = Some(fresh.clone());
        Ok(fresh)
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
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    #[error("cannot assume role {role} for account `{account}`: {reason}")]
    AssumeRole {
        account: String,
        role: String,
        reason: String,
    },
    #[error(
        "account `{account}` declares no role, so the ambient credentials must belong to it \
         ({expected}), but they are {actual_arn} of account {actual}; set roleArn, or run with \
         credentials of account {expected}"
    )]
    WrongAccount {
        account: String,
        expected: String,
        actual: String,
        actual_arn: String,
    },
    #[error("no ambient AWS credentials for account `{account}`: {reason}")]
    NoCredentials { account: String, reason: String },
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
pub struct Sessions {
    pub by_account: BTreeMap<String, Result<Arc<AccountSession>, SessionError>>,
}

impl Sessions {
    /// Opens a session for each of `accounts`, concurrently. `fallback_region` serves STS when
    /// neither `--region` nor the environment names one.
    pub async fn open(ctx: &AwsContext, accounts: &[Account], fallback_region: &str) -> Self {
        let base = Self::base(ctx, fallback_region);
        let opened = futures::future::join_all(accounts.iter().map(|account| {
            let base = &base;
            async move {
                (
                    account.name.clone(),
                    Self::open_one(ctx, base, account).await,
                )
            }
        }))
        .await;
        Sessions {
            by_account: opened.into_iter().collect(),
        }
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

    /// Opens the session of one account (callers that pipeline work per account use this).
    pub async fn open_one(
        ctx: &AwsContext,
        base: &aws_config::SdkConfig,
        account: &Account,
    ) -> Result<Arc<AccountSession>, SessionError> {
        open(ctx, base, account).await.map(Arc::new)
    }

    /// The working session of `account`, or why there is none.
    pub fn get(&self, account: &str) -> Result<&Arc<AccountSession>, String> {
        match self.by_account.get(account) {
            Some(Ok(session)) => Ok(session),
            Some(Err(e)) => Err(e.to_string()),
            None => Err(format!("account `{account}` has no session")),
        }
    }
}

async fn open(
    ctx: &AwsContext,
    base: &aws_config::SdkConfig,
    account: &Account,
) -> Result<AccountSession, SessionError> {
    let role = match &account.plan_role_arn {
        Some(plan_role) if ctx.read_only => Some(plan_role),
        _ => account.role_arn.as_ref(),
    };
    let (credentials, caller_arn) = match role {
        Some(role) => assume(ctx, base, account, role).await?,
        None => ambient(ctx, base, account).await?,
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

/// Enters an account through its role. A successful AssumeRole proves the account (the
/// validator checked that the role belongs to it), so no GetCallerIdentity is spent on it.
async fn assume(
    ctx: &AwsContext,
    base: &aws_config::SdkConfig,
    account: &Account,
    role: &str,
) -> Result<(SharedCredentialsProvider, String), SessionError> {
    let mut builder = AssumeRoleProvider::builder(role.to_string())
        .session_name(ctx.run_id.clone())
        .configure(base);
    if let Some(external_id) = &account.external_id {
        builder = builder.external_id(external_id.clone());
    }
    let provider = SessionCredentials::new(builder.build().await);
    {
        let _slot = ctx.limits.acquire(&account.account_id, "AssumeRole").await;
        provider
            .credentials()
            .await
            .map_err(|e| SessionError::AssumeRole {
                account: account.name.clone(),
                role: role.to_string(),
                reason: super::redact(&DisplayErrorContext(&e).to_string()),
            })?;
    }
    let caller = match crate::constraints::RoleArn::parse(role) {
        Ok(arn) => format!(
            "arn:{}:sts::{}:assumed-role/{}/{}",
            arn.partition, arn.account_id, arn.name, ctx.run_id
        ),
        Err(_) => role.to_string(),
    };
    Ok((SharedCredentialsProvider::new(provider), caller))
}

/// Uses the ambient credentials for an account without a role, after GetCallerIdentity shows
/// they belong to it: never act in the wrong account.
async fn ambient(
    ctx: &AwsContext,
    base: &aws_config::SdkConfig,
    account: &Account,
) -> Result<(SharedCredentialsProvider, String), SessionError> {
    let credentials = base
        .credentials_provider()
        .ok_or_else(|| SessionError::NoCredentials {
            account: account.name.clone(),
            reason: "no credentials provider is configured".into(),
        })?;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(base)
            .credentials_provider(credentials.clone())
            .build(),
    );
    let identity = get_caller_identity(ctx, &sts, &account.account_id)
        .await
        .map_err(|e| SessionError::NoCredentials {
            account: account.name.clone(),
            reason: e.message,
        })?;
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
