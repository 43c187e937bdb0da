//! The demo's HTTP API, on axum: each route calls the traced services, and
//! `trace_runtime::http::TraceLayer` makes every request the root of its own
//! call tree, named by its route (`GET /rooms/{name}`), never by the path a
//! client sent, and counts it in `http_requests_total` and
//! `http_request_duration_seconds`. A 5xx answer marks the tree's root `err`.
//!
//! | route | body | answers | calls |
//! |---|---|---|---|
//! | `GET /rooms` | | 200 | `GameService::list_rooms` |
//! | `POST /rooms` | `{"name": "lobby", "capacity": 4}` | 201, 400, 409, 415, 422, 500 | `GameService::create_room`, `AuditLog::record` (spawned) |
//! | `GET /rooms/{name}` | | 200, 404 | `GameService::get_room` and `AuditLog::history`, side by side |
//! | `DELETE /rooms/{name}` | | 204, 404, 500 | `GameService::close_room`, `AuditLog::record` (spawned) |
//! | `POST /rooms/{name}/players` | `{"player": "ann"}` | 200, 404, 409, 500 | `GameService::join_room`, `AuditLog::record` (spawned) |
//! | `DELETE /rooms/{name}/players/{player}` | | 200, 404, 500 | `GameService::leave_room`, `AuditLog::record` (spawned) |
//!
//! Malformed JSON is a 400, a body of the wrong shape a 422 (axum's `Json`
//! extractor says so); a storage failure is a 500. `GET /metrics` serves the
//! exporter's text from this router too, outside the layer (neither traced
//! nor counted), besides the exporter's own port, and so does `GET /traces`
//! the slowest and failed recent requests.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trace_runtime::exporter::Exporter;
use trace_runtime::http::{metrics_route, pages_router, TraceLayer};

use crate::game::{AuditLog, GameError, GameService, Room};

/// Largest request body accepted.
const MAX_BODY: usize = 4 * 1024;

/// The services every handler uses.
pub struct App {
    pub game: GameService,
    pub audit: AuditLog,
}

/// The rooms API, traced, `/metrics` and the trace page.
pub fn router(app: Arc<App>, exporter: Exporter) -> Router {
    let pages = exporter.recent_trees().cloned().map(pages_router);
    let router = Router::new()
        .route("/rooms", get(list).post(create))
        .route("/rooms/{name}", get(find).delete(close))
        .route("/rooms/{name}/players", post(join))
        .route("/rooms/{name}/players/{player}", delete(leave))
        .fallback(help)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
        // After the routes it wraps: one call tree per request.
        .layer(TraceLayer::new())
        .route("/metrics", metrics_route(exporter));
    match pages {
        Some(pages) => router.merge(pages),
        None => router,
    }
}

/// `POST /rooms`.
#[derive(Deserialize)]
struct NewRoom {
    name: String,
    #[serde(default = "default_capacity")]
    capacity: u32,
}

fn default_capacity() -> u32 {
    4
}

/// `POST /rooms/{name}/players`.
#[derive(Deserialize)]
struct NewPlayer {
    player: String,
}

/// `GET /rooms/{name}`: the room and what happened to it lately.
#[derive(Serialize)]
struct RoomDetail {
    #[serde(flatten)]
    room: Room,
    history: Vec<String>,
}

async fn list(State(app): State<Arc<App>>) -> Json<Vec<Room>> {
    Json(app.game.list_rooms().await)
}

async fn create(
    State(app): State<Arc<App>>,
    Json(new): Json<NewRoom>,
) -> Result<(StatusCode, Json<Room>), GameError> {
    let created = app.game.create_room(&new.name, new.capacity).await;
    audit(&app, &new.name, format!("created: {}", outcome(&created))).await;
    created.map(|room| (StatusCode::CREATED, Json(room)))
}

async fn find(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Json<RoomDetail>, GameError> {
    // Two calls side by side in one task: both are children of this request.
    let (room, history) = tokio::join!(app.game.get_room(&name), app.audit.history(&name));
    Ok(Json(RoomDetail {
        room: room?,
        history,
    }))
}

async fn close(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<StatusCode, GameError> {
    let closed = app.game.close_room(&name).await;
    audit(&app, &name, format!("closed: {}", outcome(&closed))).await;
    closed.map(|_| StatusCode::NO_CONTENT)
}

async fn join(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Json(new): Json<NewPlayer>,
) -> Result<Json<Room>, GameError> {
    let joined = app.game.join_room(&name, &new.player).await;
    audit(
        &app,
        &name,
        format!("{} joined: {}", new.player, outcome(&joined)),
    )
    .await;
    joined.map(Json)
}

async fn leave(
    State(app): State<Arc<App>>,
    Path((name, player)): Path<(String, String)>,
) -> Result<Json<Room>, GameError> {
    let left = app.game.leave_room(&name, &player).await;
    audit(&app, &name, format!("{player} left: {}", outcome(&left))).await;
    left.map(Json)
}

async fn help() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "try GET /rooms, POST /rooms, GET or DELETE /rooms/{name}, \
         POST /rooms/{name}/players, DELETE /rooms/{name}/players/{player}\n",
    )
}

/// Writes an audit event from a task of its own, which another worker
/// thread may run: `trace_runtime::context::spawn` keeps its calls in this
/// request's tree. The response waits for the write.
async fn audit(app: &Arc<App>, room: &str, event: String) {
    let app = Arc::clone(app);
    let room = room.to_owned();
    let written = trace_runtime::context::spawn(async move { app.audit.record(room, event).await });
    // Err only if the write panicked; the request answers all the same.
    let _ = written.await;
}

fn outcome(result: &Result<Room, GameError>) -> String {
    match result {
        Ok(room) => format!("ok ({}/{} seats taken)", room.players.len(), room.capacity),
        Err(err) => err.to_string(),
    }
}

/// `{"error": "..."}` with the status that fits.
impl IntoResponse for GameError {
    fn into_response(self) -> Response {
        let status = match &self {
            GameError::InvalidName(_) | GameError::InvalidCapacity(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            GameError::NotFound(_) | GameError::NotInRoom(_) => StatusCode::NOT_FOUND,
            GameError::NameTaken(_) | GameError::Full(_) | GameError::AlreadyJoined(_) => {
                StatusCode::CONFLICT
            }
            GameError::TooManyRooms => StatusCode::SERVICE_UNAVAILABLE,
            GameError::StorageUnavailable => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}
