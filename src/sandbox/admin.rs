//! The admin endpoint under `/_sandbox/`: plain JSON over HTTP, not SigV4-signed and not counted
//! as API calls. For tests, demos and people poking at a running sandbox:
//!
//! - `GET /_sandbox/health` → `{"ok": true}`
//! - `GET /_sandbox/state` → the whole state (due status changes applied)
//! - `POST /_sandbox/reset` → back to the seed (sessions and call counters cleared)
//! - `GET /_sandbox/faults`, `PUT /_sandbox/faults` → the fault settings (`Faults` as JSON)
//! - `GET /_sandbox/calls` → `[{"account", "operation", "count"}]`; `DELETE` clears them
//! - `POST /_sandbox/expire-sessions` → every AssumeRole session expires now
//!
//! The API protocols are in `rekognition/` and `sts.rs`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::error::SandboxError;
use super::faults::Faults;
use super::state::now_millis;
use super::{Shared, new_request_id, with_request_id};

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
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    with_request_id((status, Json(body)).into_response(), &new_request_id())
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    let mut world = shared.world().clone();
    world.settle_all(now_millis());
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
    shared
        .counters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
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

async fn calls(State(shared): State<Arc<Shared>>) -> Response {
    let counts = shared.call_counts();
    let list: Vec<_> = counts
        .into_iter()
        .map(|((account, operation), count)| json!({"account": account, "operation": operation, "count": count}))
        .collect();
    reply(StatusCode::OK, json!(list))
}

async fn clear_calls(State(shared): State<Arc<Shared>>) -> Response {
    shared
        .counters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    reply(StatusCode::OK, json!({"cleared": true}))
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
