//! Which failed Rekognition calls the SDK must not retry, beyond its own rules.
//!
//! The SDK's standard classifier counts `LimitExceededException` as throttling and retries it
//! with backoff. For the calls reko-promote makes it is a quota (five project policies per
//! project, concurrent copies per account): a retry cannot succeed, only spend the attempts and
//! the time. [`QuotaErrorsAreFinal`] forbids retrying it; the session module registers it on
//! every Rekognition client. What a failure means for the run is the caller's business.

use aws_sdk_rekognition::error::ProvideErrorMetadata;
use aws_sdk_rekognition::operation::{
    copy_project_version::CopyProjectVersionError,
    describe_project_versions::DescribeProjectVersionsError,
    describe_projects::DescribeProjectsError, list_project_policies::ListProjectPoliciesError,
    put_project_policy::PutProjectPolicyError,
};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

/// Error codes that state a quota, not a rate: never retried.
pub const QUOTA_ERROR_CODES: &[&str] = &["LimitExceededException"];

/// A retry classifier that forbids retrying [`QUOTA_ERROR_CODES`], whatever the SDK's own
/// classifiers say (it runs after them and has the last word).
#[derive(Debug, Clone, Copy, Default)]
pub struct QuotaErrorsAreFinal;

/// The AWS error code of a failed Rekognition call, for the operations reko-promote makes.
fn error_code(ctx: &InterceptorContext) -> Option<&str> {
    let error = ctx.output_or_error()?.err()?.as_operation_error()?;
    None.or_else(|| error.downcast_ref::<PutProjectPolicyError>()?.code())
        .or_else(|| error.downcast_ref::<CopyProjectVersionError>()?.code())
        .or_else(|| error.downcast_ref::<DescribeProjectsError>()?.code())
        .or_else(|| error.downcast_ref::<DescribeProjectVersionsError>()?.code())
        .or_else(|| error.downcast_ref::<ListProjectPoliciesError>()?.code())
}

impl ClassifyRetry for QuotaErrorsAreFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match error_code(ctx) {
            Some(code) if QUOTA_ERROR_CODES.contains(&code) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "reko-promote: quota errors are final"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
