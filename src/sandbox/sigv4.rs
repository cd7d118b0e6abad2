//! SigV4 verification of incoming requests.
//!
//! The Authorization header is parsed here; the expected signature is computed by `aws-sigv4` (the
//! same signer the SDK uses) from the request as received: method, path and query, exactly the
//! headers the client listed in `SignedHeaders` (which must include `host` and `x-amz-date`, the
//! host being the `Host` header or HTTP/2's `:authority`), and the SHA-256 of the body. The
//! credential scope's service and date must match the request. The two signatures are compared in
//! constant time. Finding the secret for an access key (long-term or session) is
//! done by the caller (`mod.rs`) against the world, since that needs the state lock and this does
//! not.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::error::AuthError;

/// How far a request's X-Amz-Date may be from now, as AWS allows.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone)]
pub struct AuthHeader {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses the Authorization header; `Err(Missing)` when there is none.
pub fn parse_authorization(headers: &HeaderMap) -> Result<AuthHeader, AuthError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err(AuthError::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Incomplete("Authorization header is not ASCII".into()))?;
    let Some(rest) = value.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(AuthError::Missing);
    };
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| {
        AuthError::Incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={value}"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(AuthError::Incomplete(format!(
            "Credential should be scoped to a valid region, service and date. Credential={credential}"
        )));
    }
    Ok(AuthHeader {
        access_key_id: scope[0].to_string(),
        date: scope[1].to_string(),
        region: scope[2].to_string(),
        service: scope[3].to_string(),
        signed_headers: signed.split(';').map(|s| s.to_ascii_lowercase()).collect(),
        signature: signature.to_string(),
    })
}

/// The secret (and session token) that signed a request.
pub struct SigningSecret {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, format).ok()?.assume_utc();
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_timestamp()).ok()?))
}

/// `t` in the `X-Amz-Date` form, `YYYYMMDDTHHMMSSZ`.
pub fn fmt_amz_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A request as received, for signature checking.
pub struct ReceivedRequest<'a> {
    pub method: &'a str,
    pub uri: &'a http::Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl ReceivedRequest<'_> {
    /// The authority the client addressed: the `Host` header (HTTP/1.1) or, when there is none,
    /// the request target's authority (HTTP/2 `:authority`, which hyper puts in the URI).
    pub fn authority(&self) -> Option<&str> {
        match self.headers.get(http::header::HOST) {
            Some(v) => v.to_str().ok(),
            None => self.uri.authority().map(|a| a.as_str()),
        }
    }
}

/// Checks the signature of a request to `service` whose signer's secret is known. Never panics,
/// whatever the headers: every malformed part is an [`AuthError`].
pub fn verify(
    auth: &AuthHeader,
    secret: &SigningSecret,
    service: &str,
    request: &ReceivedRequest<'_>,
    now: SystemTime,
) -> Result<(), AuthError> {
    if auth.service != service {
        return Err(AuthError::BadSignature(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    // Both are needed for the signature to bind the request to this endpoint and to a moment; AWS
    // refuses a signature that leaves either out before looking at it.
    let signs = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    if !signs("host") {
        return Err(AuthError::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let amz_date = request
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AuthError::Incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            )
        })?;
    if !signs("x-amz-date") {
        return Err(AuthError::Incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let when = parse_amz_date(amz_date)
        .ok_or_else(|| AuthError::BadSignature(format!("Invalid X-Amz-Date: {amz_date}")))?;
    // Compared whole: an empty or partial scope date is not a prefix match.
    let day = amz_date.get(..8).unwrap_or(amz_date);
    if auth.date != day {
        return Err(AuthError::BadSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{amz_date}'.",
            auth.date,
        )));
    }
    let skew = now
        .duration_since(when)
        .or_else(|e| Ok::<_, ()>(e.duration()))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        let (a, b) = if when < now {
            ("earlier", now - MAX_SKEW)
        } else {
            ("later", now + MAX_SKEW)
        };
        return Err(AuthError::BadSignature(format!(
            "Signature expired: {amz_date} is now {a} than {} ({} {} 15 min.)",
            fmt_amz_date(b),
            fmt_amz_date(now),
            if when < now { "-" } else { "+" }
        )));
    }
    let authority = request.authority().ok_or_else(mismatch)?;

    // Exactly the headers the client signed, in the form they arrived (each name once); `host` is
    // the authority the request was sent to, whichever HTTP version carried it, so the signer never
    // has to guess it. x-amz-date and x-amz-security-token are (re)inserted by the signer from the
    // params below.
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(auth.signed_headers.len());
    for (i, name) in auth.signed_headers.iter().enumerate() {
        if auth.signed_headers[..i].contains(name) {
            continue;
        }
        if name == "host" {
            pairs.push(("host", authority));
            continue;
        }
        for value in request.headers.get_all(name.as_str()) {
            pairs.push((name, value.to_str().map_err(|_| mismatch())?));
        }
    }
    let path_and_query = request
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let payload_hash = hex::encode(Sha256::digest(request.body));
    let signable = SignableRequest::new(
        request.method,
        path_and_query,
        pairs.into_iter(),
        SignableBody::Precomputed(payload_hash),
    )
    .map_err(|_| mismatch())?;
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let identity = Credentials::new(
        &secret.access_key_id,
        &secret.secret_access_key,
        secret.session_token.clone(),
        None,
        "sandbox",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&auth.region)
        .name(&auth.service)
        .time(when)
        .settings(settings)
        .build()
        .map_err(|_| mismatch())?
        .into();
    let output = sign(signable, &params).map_err(|_| mismatch())?;
    if constant_time_eq(output.signature().as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

fn mismatch() -> AuthError {
    AuthError::BadSignature(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            .into(),
    )
}

/// Compares without an early exit, so timing does not reveal how much of a signature matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_authorization_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-1/rekognition/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc"
                .parse()
                .unwrap(),
        );
        let a = parse_authorization(&h).unwrap();
        assert_eq!(a.access_key_id, "AKIDEXAMPLE");
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.service, "rekognition");
        assert_eq!(a.signed_headers, ["content-type", "host", "x-amz-date"]);
        assert_eq!(
            parse_amz_date("20261123T020714Z")
                .map(fmt_amz_date)
                .as_deref(),
            Some("20261123T020714Z")
        );
        assert!(matches!(
            parse_authorization(&HeaderMap::new()),
            Err(AuthError::Missing)
        ));
    }
}
