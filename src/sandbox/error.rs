//! Error types that cross the sandbox's modules: [`ApiError`] (an AWS error the client sees, before
//! it is written as JSON or XML), [`AuthError`] (why SigV4 verification failed, rendered per
//! protocol) and [`SandboxError`] (why the sandbox could not start).
//!
//! Writing errors on the wire is left to `rekognition::respond_error` and `sts::error_response`.

use http::StatusCode;

/// An AWS error as the protocol handlers return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// A client error (HTTP 400), as Rekognition answers all of its modelled errors.
    pub fn client(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::client("InvalidParameterException", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::client("ResourceNotFoundException", message)
    }

    pub fn in_use(message: impl Into<String>) -> Self {
        Self::client("ResourceInUseException", message)
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::client("AccessDeniedException", message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::client("ValidationException", message)
    }

    pub fn is_server_error(&self) -> bool {
        self.status.is_server_error()
    }
}

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No Authorization header (or one that is not SigV4).
    #[error("Missing Authentication Token")]
    Missing,
    /// The Authorization header is not well formed.
    #[error("{0}")]
    Incomplete(String),
    /// No such access key, or a session token that does not belong to it.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    /// The session's credentials have expired.
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    /// Signature mismatch, bad scope, or a request time too far from now.
    #[error("{0}")]
    BadSignature(String),
}

impl AuthError {
    /// The awsJson (Rekognition) form.
    pub fn to_json_error(&self) -> ApiError {
        let code = match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::Incomplete(_) => "IncompleteSignatureException",
            Self::UnknownKey => "UnrecognizedClientException",
            Self::ExpiredToken => "ExpiredTokenException",
            Self::BadSignature(_) => "InvalidSignatureException",
        };
        ApiError::client(code, self.to_string())
    }

    /// The awsQuery (STS) form.
    pub fn to_query_error(&self) -> ApiError {
        let (status, code) = match self {
            Self::Missing => (StatusCode::FORBIDDEN, "MissingAuthenticationToken"),
            Self::Incomplete(_) => (StatusCode::BAD_REQUEST, "IncompleteSignature"),
            Self::UnknownKey => (StatusCode::FORBIDDEN, "InvalidClientTokenId"),
            Self::ExpiredToken => (StatusCode::BAD_REQUEST, "ExpiredToken"),
            Self::BadSignature(_) => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
        };
        let message = match self {
            Self::Missing => "Request is missing Authentication Token".to_string(),
            other => other.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on {addr}: it is not a loopback address, and anyone who reaches the sandbox can use its printed keys; pass --allow-remote to listen there anyway"
    )]
    RemoteListen { addr: std::net::SocketAddr },
    #[error(transparent)]
    Seed(#[from] super::seed::SeedError),
    #[error(transparent)]
    State(#[from] super::state::PersistError),
    #[error("faults: {0}")]
    Faults(#[from] super::faults::FaultsError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
