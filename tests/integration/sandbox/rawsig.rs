//! A SigV4 signer written out by hand, for requests no SDK would sign: a chosen `SignedHeaders`
//! list (leaving out `host` or `x-amz-date`, repeating names, listing absent headers), a
//! credential scope with another service or date, over HTTP/1.1 or HTTP/2. The signature is
//! correct for exactly what it lists, so the sandbox's answer shows which rule it applied. Also an
//! HTTP/2 (prior knowledge, h2c) client, as the SDK never speaks HTTP/2 to a plain endpoint.

use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use reko_promote::sandbox::SandboxHandle;
use sha2::{Digest, Sha256};

use super::helpers::RawResponse;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The parts of a signature that a test chooses.
#[derive(Clone, Copy)]
pub struct Signing<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, sent as `x-amz-date`.
    pub amz_date: &'a str,
    /// The credential scope's date (normally the first 8 characters of `amz_date`).
    pub scope_date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// Names for `SignedHeaders`, as written (case and repeats kept).
    pub signed: &'a [&'a str],
}

/// The `Authorization` value for `POST /` with `headers` (what is sent, host included) and
/// `body`, signing exactly `signing.signed` (lowercased, each once, sorted, as SigV4 does; a
/// listed header that is not sent is signed with an empty value).
pub fn authorization(signing: &Signing<'_>, headers: &[(String, String)], body: &[u8]) -> String {
    let mut names: Vec<String> = signing
        .signed
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let signed_headers = names.join(";");
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        signing.scope_date, signing.region, signing.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        signing.amz_date,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut k = hmac(
        format!("AWS4{}", signing.secret).as_bytes(),
        signing.scope_date,
    );
    for part in [signing.region, signing.service, "aws4_request"] {
        k = hmac(&k, part);
    }
    let signature = hex::encode(hmac(&k, &string_to_sign));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        signing.key,
        signing.signed.join(";")
    )
}

/// Now as an `x-amz-date` value.
pub fn amz_now() -> String {
    reko_promote::sandbox::sigv4::fmt_amz_date(std::time::SystemTime::now())
}

/// Sends `POST path` over HTTP/2 with prior knowledge (no `Host` header: the authority travels as
/// `:authority`), with `headers` (any `host` among them is left out) and `body`.
pub async fn http2_post(
    sb: &SandboxHandle,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let stream = tokio::net::TcpStream::connect(sb.addr())
        .await
        .expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("HTTP/2 handshake (the sandbox speaks h2c)");
    tokio::spawn(connection);
    let mut request = hyper::Request::post(format!("{}{path}", sb.endpoint()));
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    let response = sender.send_request(request).await.expect("HTTP/2 answer");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}
