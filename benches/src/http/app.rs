//! The application every HTTP contender serves: one axum `Router` with the
//! same handler, and the fixed mix of requests sent to it in process
//! (`tower::ServiceExt::oneshot`, no sockets), response bodies read to the
//! end as a server would.
//!
//! The handler's helper functions are not instrumented in any contender:
//! the section measures the HTTP layer alone.

use std::hint::black_box;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt as _;

use crate::exec::block_on;

/// The route of the handler, as axum's `MatchedPath` and every layer's
/// route label spell it.
pub const ROUTE: &str = "/rooms/{id}";

/// The path a matched request asks for.
const FOUND: &str = "/rooms/7";

/// A path no route matches: axum's fallback answers `404`.
const MISSING: &str = "/lobby/7";

/// One request in this many is [`MISSING`]; the others are [`FOUND`].
pub const MISSING_EVERY: u64 = 10;

/// The body `GET /rooms/7` answers.
pub const FOUND_BODY: &str = "room 7: 3 players";

/// A room as the store keeps it.
struct Room {
    id: u32,
    players: u32,
}

/// Looks a room up (a small computation the optimiser cannot skip).
fn find_room(id: u32) -> Room {
    let id = black_box(id);
    Room {
        id,
        players: id % 4,
    }
}

/// The response text for a room.
fn describe(room: &Room) -> String {
    format!("room {}: {} players", room.id, room.players)
}

/// `GET /rooms/{id}`.
async fn show_room(Path(id): Path<u32>) -> String {
    describe(&find_room(id))
}

/// The Router without any layer: the bare baseline, and what each
/// contender puts its layer on.
pub fn router() -> Router {
    Router::new().route(ROUTE, get(show_room))
}

/// The path of request number `i` of the mix.
fn path(i: u64) -> &'static str {
    if i % MISSING_EVERY == MISSING_EVERY - 1 {
        MISSING
    } else {
        FOUND
    }
}

/// How many of requests `0..n` of the mix answer `200` and `404`.
pub fn expected(n: u64) -> (u64, u64) {
    let missing = n / MISSING_EVERY;
    (n - missing, missing)
}

/// Serves request number `i` of the mix and reads its body to the end;
/// returns the status code plus the body length.
pub fn serve(router: &Router, i: u64) -> u64 {
    let request = Request::get(path(i))
        .body(Body::empty())
        .expect("a valid request");
    block_on(async {
        let response = router.clone().oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("an in-memory body");
        u64::from(status) + body.len() as u64
    })
}

/// Requests [`check_answers`] sends: `200`s, then `404`s.
pub const CHECKED: (u64, u64) = (1, 1);

/// Checks that `router` answers the mix as the bare one does: `200` with
/// the room for [`FOUND`], `404` for [`MISSING`]: [`CHECKED`] requests.
pub fn check_answers(router: &Router) {
    for (i, status, body) in [
        (0, StatusCode::OK, FOUND_BODY),
        (MISSING_EVERY - 1, StatusCode::NOT_FOUND, ""),
    ] {
        let request = Request::get(path(i))
            .body(Body::empty())
            .expect("a valid request");
        let (got_status, got_body) = block_on(async {
            let response = router.clone().oneshot(request).await.expect("infallible");
            let got_status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("an in-memory body");
            (got_status, bytes)
        });
        assert_eq!(got_status, status, "GET {}", path(i));
        assert_eq!(got_body, body.as_bytes(), "GET {}", path(i));
    }
}
