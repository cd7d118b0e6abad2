//! The admin endpoint under `/_sandbox/`: plain JSON over HTTP, not SigV4-signed and not counted
//! as API calls. For tests, demos and people poking at a running sandbox:
//!
//! - `GET /_sandbox/health` → `{"ok": true}`
//! - `GET /_sandbox/state` → the whole state (due status changes applied)
//! - `POST /_sandbox/reset` → back to the seed (sessions and call counters cleared)
//! - `GET /_sandbox/faults`, `PUT /_sandbox/faults` → the fault settings (`Faults` as JSON)
//! - `GET /_sandbox/calls` → `[{"account", "operation", "count", "lost"}]` (`lost`: answers
//!   lost by the `lost_response` faults, included in `count`); `DELETE` clears them
//! - `POST /_sandbox/expire-sessions` → every AssumeRole session expires now
//! - `GET /_sandbox/clock` → `{"now_ms", "offset_ms"}`; `POST {"advance_ms": N}` moves it forward
//! - `GET /_sandbox/history` → every status change of every project version since the start or
//!   the last reset, `[{"arn", "status", "atMs", "seq"}]` ordered by (`atMs`, `seq`): creation
//!   by copy or training, each transition at its due time (however late it was observed),
//!   `DELETING` for a deletion. `seq` is a global insertion counter; `atMs` the sandbox clock.
//!
//! It hands out every secret, so it answers only what a local tool sends: a request from this
//! machine (even when `--allow-remote` lets the API listen wider) whose Host (or
//! HTTP/2 `:authority`) is a loopback name (a DNS-rebinding page has its own domain there), and a
//! write (anything but GET/HEAD) only with a JSON content type and no foreign `Origin` (which a
//! browser page cannot send cross-origin without a preflight this endpoint never grants).
//! Anything else gets 403.
//!
//! The API protocols are in `rekognition/` and `sts.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::error::SandboxError;
use super::faults::Faults;
use super::state::{StatusChange, now_millis};
use super::{Connection, Shared, new_request_id, with_request_id};

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/health",
            get(|| async { reply(StatusCode::OK, json!({"ok": true})) }),
        )
        .route("/state", get(state))
        .route("/reset", post(reset_route))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/calls", get(calls).delete(clear_calls))
        .route("/expire-sessions", post(expire_route))
        .route("/clock", get(get_clock).post(advance_clock_route))
        .route("/history", get(history_route))
        .layer(axum::middleware::from_fn(local_only))
}

/// Whether `authority` (`host[:port]`) names this machine: `127.0.0.1`, `localhost` or `[::1]`.
pub fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((host, port))
                if port.is_empty() || port.strip_prefix(':').is_some_and(is_port) =>
            {
                host
            }
            _ => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) if is_port(port) => host,
            Some(_) => return false,
            None => authority,
        },
    };
    matches!(
        host.to_ascii_lowercase().as_str(),
        "127.0.0.1" | "localhost" | "::1"
    )
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u16>().is_ok()
}

/// Why an admin request is refused, if it is.
fn refusal(
    peer: Option<SocketAddr>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<String> {
    if let Some(peer) = peer.filter(|p| !p.ip().is_loopback()) {
        return Some(format!(
            "the admin endpoint answers only this machine; this request came from {peer}"
        ));
    }
    let authority = match headers.get(http::header::HOST) {
        Some(v) => v.to_str().ok(),
        None => uri.authority().map(|a| a.as_str()),
    };
    if !authority.is_some_and(is_loopback_authority) {
        return Some(format!(
            "the admin endpoint answers only requests addressed to 127.0.0.1, localhost or [::1]; this one was addressed to {}",
            authority.unwrap_or("(no host)")
        ));
    }
    if let Some(origin) = headers.get(http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let local = origin.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https") && is_loopback_authority(rest)
        });
        if !local {
            return Some(format!(
                "the admin endpoint refuses requests from pages of other origins ({origin})"
            ));
        }
    }
    if method != Method::GET && method != Method::HEAD {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Some(format!(
                "admin writes need Content-Type: application/json (got {})",
                if content_type.is_empty() {
                    "none"
                } else {
                    content_type
                }
            ));
        }
    }
    None
}

/// Refuses requests that did not come from a local tool (see the module documentation).
async fn local_only(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<Connection>>()
        .map(|c| c.0.peer());
    match refusal(peer, request.method(), request.uri(), request.headers()) {
        Some(why) => reply(StatusCode::FORBIDDEN, json!({"error": why})),
        None => next.run(request).await,
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    with_request_id((status, Json(body)).into_response(), &new_request_id())
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    let mut world = shared.world().clone();
    world.settle_all(shared.now_millis());
    reply(
        StatusCode::OK,
        serde_json::to_value(&world).unwrap_or_default(),
    )
}

/// Back to the seed; shared by the route and `SandboxHandle::reset`.
pub(crate) fn reset(shared: &Shared) -> Result<(), SandboxError> {
    let fresh = shared.seed.to_world()?;
    let mut world = shared.world();
    *world = fresh;
    shared.persist(&world);
    drop(world);
    shared.clear_counts();
    Ok(())
}

async fn reset_route(State(shared): State<Arc<Shared>>) -> Response {
    match reset(&shared) {
        Ok(()) => reply(StatusCode::OK, json!({"reset": true})),
        Err(e) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": e.to_string()}),
        ),
    }
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    reply(
        StatusCode::OK,
        serde_json::to_value(shared.faults.get()).unwrap_or_default(),
    )
}

async fn put_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return reply(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    };
    match shared.faults.set(faults) {
        Ok(()) => reply(
            StatusCode::OK,
            serde_json::to_value(shared.faults.get()).unwrap_or_default(),
        ),
        Err(e) => reply(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    }
}

/// The status history with every due change applied; shared by the route and
/// `SandboxHandle::history`.
pub(crate) fn history(shared: &Shared) -> Vec<StatusChange> {
    let mut world = shared.world();
    world.settle_all(shared.now_millis());
    world.history.ordered()
}

async fn history_route(State(shared): State<Arc<Shared>>) -> Response {
    reply(
        StatusCode::OK,
        serde_json::to_value(history(&shared)).unwrap_or_default(),
    )
}

async fn calls(State(shared): State<Arc<Shared>>) -> Response {
    let counts = shared.call_counts();
    let lost = shared.lost_counts();
    let list: Vec<_> = counts
        .into_iter()
        .map(|(key, count)| {
            let lost = lost.get(&key).copied().unwrap_or(0);
            let (account, operation) = key;
            json!({"account": account, "operation": operation, "count": count, "lost": lost})
        })
        .collect();
    reply(StatusCode::OK, json!(list))
}

async fn clear_calls(State(shared): State<Arc<Shared>>) -> Response {
    shared.clear_counts();
    reply(StatusCode::OK, json!({"cleared": true}))
}

/// `GET /_sandbox/clock`: the Rekognition clock and its offset from the wall clock.
async fn get_clock(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.now_millis();
    reply(
        StatusCode::OK,
        json!({"now_ms": now, "offset_ms": now.saturating_sub(now_millis())}),
    )
}

/// `POST /_sandbox/clock {"advance_ms": N}`: moves the Rekognition clock forward (never back).
async fn advance_clock_route(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_ms: u64,
    }
    match serde_json::from_slice::<Advance>(&body) {
        Ok(advance) => {
            let offset = shared.advance_clock(advance.advance_ms);
            reply(
                StatusCode::OK,
                json!({"now_ms": shared.now_millis(), "offset_ms": offset}),
            )
        }
        Err(e) => reply(
            StatusCode::BAD_REQUEST,
            json!({"error": format!("expected {{\"advance_ms\": N}} (a non-negative integer): {e}")}),
        ),
    }
}

pub(crate) fn expire_sessions(shared: &Shared) {
    let now = now_millis();
    let mut world = shared.world();
    for s in world.sessions.values_mut() {
        s.expiration_millis = s.expiration_millis.min(now);
    }
    shared.persist(&world);
}

async fn expire_route(State(shared): State<Arc<Shared>>) -> Response {
    expire_sessions(&shared);
    reply(StatusCode::OK, json!({"expired": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities() {
        for yes in [
            "127.0.0.1",
            "127.0.0.1:4566",
            "localhost",
            "LOCALHOST:80",
            "[::1]",
            "[::1]:4566",
        ] {
            assert!(is_loopback_authority(yes), "{yes}");
        }
        for no in [
            "",
            "evil.example",
            "evil.example:4566",
            "127.0.0.1.evil.example",
            "localhost.evil.example:4566",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "[::1]x",
            "[::2]:1",
            "0.0.0.0:4566",
            "10.0.0.1",
        ] {
            assert!(!is_loopback_authority(no), "{no}");
        }
    }
}
