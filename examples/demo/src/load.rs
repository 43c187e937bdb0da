//! The demo's built-in load generator: real HTTP requests (hyper's pooled
//! client) to the demo's own listener at a steady rate, tallied by status.
//!
//! It keeps a picture of the rooms (refreshed from every `GET /rooms`) and
//! sends what players would: rooms are created while there are few and
//! closed while there are many, players join rooms with free seats and
//! leave again, so the service settles around a dozen rooms half full and
//! its error rate stays the same hour after hour. Some requests fail on
//! purpose, at fixed odds: lookups of rooms that never existed (404),
//! duplicate names and players joining twice (409), invalid names and sizes
//! (422), malformed JSON (400); the service's flaky storage adds 500s.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::dice::Dice;

const NAMES: &[&str] = &["lobby", "arena", "dungeon", "castle", "tavern", "harbour"];
/// Rooms the generator steers towards.
const TARGET_ROOMS: usize = 12;
/// Requests in flight at most; a tick beyond it is skipped.
const MAX_IN_FLIGHT: usize = 64;
/// A request that takes longer counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pooled connections idle longer are closed (below the service's read
/// timeout, so the service never closes one the pool is about to reuse).
const POOL_IDLE: Duration = Duration::from_secs(20);

/// Responses received, by status (0: the request itself failed), and ticks
/// skipped because too many requests were in flight.
#[derive(Default)]
pub struct Tally {
    statuses: Mutex<BTreeMap<u16, u64>>,
    skipped: Mutex<u64>,
}

impl Tally {
    fn add(&self, status: u16) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
    }

    /// `142 requests: 200 ×80, 201 ×30, 409 ×12, …`.
    pub fn summary(&self) -> String {
        let counts = self.statuses.lock().unwrap();
        let total: u64 = counts.values().sum();
        let mut out = format!("{total} requests:");
        for (i, (status, n)) in counts.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            let status = if *status == 0 {
                "failed".to_owned()
            } else {
                status.to_string()
            };
            let _ = write!(out, "{sep}{status} ×{n}");
        }
        let skipped = *self.skipped.lock().unwrap();
        if skipped > 0 {
            let _ = write!(out, " ({skipped} skipped: too many in flight)");
        }
        out
    }
}

/// The running generator.
pub struct LoadGenerator {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    tally: Arc<Tally>,
}

impl LoadGenerator {
    /// Starts sending `rate` requests per second to `addr`.
    pub fn start(addr: SocketAddr, rate: f64) -> LoadGenerator {
        let tally = Arc::new(Tally::default());
        let (stop, stopped) = oneshot::channel();
        let target = Target {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(POOL_IDLE)
                .pool_timer(TokioTimer::new())
                .build_http(),
            base: format!("http://{addr}"),
            rooms: Arc::new(Mutex::new(Picture::default())),
            tally: Arc::clone(&tally),
        };
        let task = tokio::spawn(run(target, rate, stopped));
        LoadGenerator { stop, task, tally }
    }

    /// Stops sending, waits for the requests in flight, returns the tally.
    pub async fn stop(self) -> Arc<Tally> {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.tally
    }
}

async fn run(target: Target, rate: f64, mut stopped: oneshot::Receiver<()>) {
    let dice = Dice::new();
    let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_micros(10));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut in_flight = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue,
            _ = tick.tick() => {}
        }
        if in_flight.len() >= MAX_IN_FLIGHT {
            *target.tally.skipped.lock().unwrap() += 1;
            continue;
        }
        let call = target.rooms.lock().unwrap().pick(&dice);
        let target = target.clone();
        in_flight.spawn(async move { target.send(call).await });
    }
    // Requests in flight end within their timeout.
    while in_flight.join_next().await.is_some() {}
}

/// Where requests go, and what they report to.
#[derive(Clone)]
struct Target {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    rooms: Arc<Mutex<Picture>>,
    tally: Arc<Tally>,
}

impl Target {
    async fn send(&self, call: Call) {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(&call)).await {
            Ok(Ok((status, body))) => {
                self.tally.add(status.as_u16());
                self.rooms.lock().unwrap().learn(&call, status, &body);
            }
            Ok(Err(_)) | Err(_) => self.tally.add(0),
        }
    }

    async fn exchange(&self, call: &Call) -> Result<(StatusCode, Bytes), Box<dyn Error>> {
        let (method, path, body) = call.request();
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = self.client.request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// One request of the mix.
#[derive(Debug)]
enum Call {
    List,
    Find(String),
    Create {
        name: String,
        capacity: u32,
    },
    /// A body that is not a room: malformed JSON or the wrong shape.
    CreateBadBody(&'static str),
    Close(String),
    Join {
        room: String,
        player: String,
    },
    Leave {
        room: String,
        player: String,
    },
}

impl Call {
    fn request(&self) -> (Method, String, Option<String>) {
        match self {
            Call::List => (Method::GET, "/rooms".to_owned(), None),
            Call::Find(room) => (Method::GET, format!("/rooms/{room}"), None),
            Call::Create { name, capacity } => (
                Method::POST,
                "/rooms".to_owned(),
                Some(serde_json::json!({ "name": name, "capacity": capacity }).to_string()),
            ),
            Call::CreateBadBody(body) => {
                (Method::POST, "/rooms".to_owned(), Some((*body).to_owned()))
            }
            Call::Close(room) => (Method::DELETE, format!("/rooms/{room}"), None),
            Call::Join { room, player } => (
                Method::POST,
                format!("/rooms/{room}/players"),
                Some(serde_json::json!({ "player": player }).to_string()),
            ),
            Call::Leave { room, player } => (
                Method::DELETE,
                format!("/rooms/{room}/players/{player}"),
                None,
            ),
        }
    }
}

/// A room as the service describes it.
#[derive(Clone, Debug, Deserialize)]
struct RoomView {
    name: String,
    capacity: u32,
    players: Vec<String>,
}

impl RoomView {
    fn free_seats(&self) -> usize {
        (self.capacity as usize).saturating_sub(self.players.len())
    }
}

/// The generator's picture of the rooms.
#[derive(Default)]
struct Picture {
    rooms: BTreeMap<String, RoomView>,
    created: u64,
    players: u64,
}

impl Picture {
    /// The next request: its odds depend on the rooms there are, so that
    /// their number and occupancy hover around a steady state.
    fn pick(&mut self, dice: &Dice) -> Call {
        let kind = self.pick_kind(dice);
        self.call(kind, dice)
    }

    fn pick_kind(&self, dice: &Dice) -> Kind {
        let seats: usize = self.rooms.values().map(|r| r.capacity as usize).sum();
        let taken: usize = self.rooms.values().map(|r| r.players.len()).sum();
        let few = self.rooms.len() < TARGET_ROOMS;
        let any = u64::from(!self.rooms.is_empty());
        // Joins and leaves share 30 in 100 by how full the rooms are: they
        // balance at half full.
        let join = (30 * seats.saturating_sub(taken))
            .checked_div(seats)
            .map_or(0, |join| join as u64);
        let leave = if seats == 0 { 0 } else { 30 - join };
        let weights: [(Kind, u64); 12] = [
            (Kind::List, 20),
            (Kind::Find, 12 * any),
            (Kind::FindMissing, 4),
            (Kind::Create, if few { 12 } else { 3 }),
            (Kind::CreateDuplicate, 2 * any),
            (Kind::CreateInvalid, 3),
            (Kind::CreateBadBody, 2),
            (Kind::Close, any * if few { 3 } else { 12 }),
            (Kind::Join, join),
            (Kind::JoinTwice, any),
            (Kind::Leave, leave),
            (Kind::LeaveStranger, any),
        ];
        let total: u64 = weights.iter().map(|(_, w)| w).sum();
        let mut roll = dice.below(total);
        for (kind, weight) in weights {
            if roll < weight {
                return kind;
            }
            roll -= weight;
        }
        Kind::List
    }

    /// A request of that kind, with its details drawn.
    fn call(&mut self, kind: Kind, dice: &Dice) -> Call {
        let rooms: Vec<&RoomView> = self.rooms.values().collect();
        let some_room = |dice: &Dice| {
            rooms
                .get(index(dice, rooms.len()))
                .map(|r| r.name.clone())
                .unwrap_or_default()
        };
        match kind {
            Kind::List => Call::List,
            Kind::Find => Call::Find(some_room(dice)),
            Kind::FindMissing => Call::Find(format!("ghost-{}", dice.below(1000))),
            Kind::Create => {
                self.created += 1;
                Call::Create {
                    name: format!("{}-{}", NAMES[index(dice, NAMES.len())], self.created),
                    capacity: 2 + u32::try_from(dice.below(7)).unwrap_or(0),
                }
            }
            Kind::CreateDuplicate => Call::Create {
                name: some_room(dice),
                capacity: 4,
            },
            Kind::CreateInvalid => match dice.below(3) {
                0 => Call::Create {
                    name: "no spaces allowed".to_owned(),
                    capacity: 4,
                },
                1 => Call::Create {
                    name: String::new(),
                    capacity: 4,
                },
                _ => Call::Create {
                    name: format!("huge-{}", self.created),
                    capacity: 40,
                },
            },
            Kind::CreateBadBody => Call::CreateBadBody(if dice.below(2) == 0 {
                "{\"name\": \"unterminated"
            } else {
                "{\"title\": \"no name field\"}"
            }),
            Kind::Close => Call::Close(some_room(dice)),
            Kind::Join => {
                let open: Vec<&&RoomView> = rooms.iter().filter(|r| r.free_seats() > 0).collect();
                let room = open[index(dice, open.len())].name.clone();
                self.players += 1;
                Call::Join {
                    room,
                    player: format!("player-{}", self.players),
                }
            }
            Kind::JoinTwice => {
                // A player who is seated already: 409.
                match rooms.iter().find(|r| !r.players.is_empty()) {
                    Some(room) => Call::Join {
                        room: room.name.clone(),
                        player: room.players[0].clone(),
                    },
                    None => Call::List,
                }
            }
            Kind::Leave => {
                let seated: Vec<(&str, &str)> = rooms
                    .iter()
                    .flat_map(|r| r.players.iter().map(|p| (r.name.as_str(), p.as_str())))
                    .collect();
                let (room, player) = seated[index(dice, seated.len())];
                Call::Leave {
                    room: room.to_owned(),
                    player: player.to_owned(),
                }
            }
            Kind::LeaveStranger => Call::Leave {
                room: some_room(dice),
                player: "stranger".to_owned(),
            },
        }
    }

    /// Updates the picture from an answer.
    fn learn(&mut self, call: &Call, status: StatusCode, body: &[u8]) {
        match (call, status) {
            (Call::List, StatusCode::OK) => {
                if let Ok(rooms) = serde_json::from_slice::<Vec<RoomView>>(body) {
                    self.rooms = rooms.into_iter().map(|r| (r.name.clone(), r)).collect();
                }
            }
            (Call::Create { name, capacity }, StatusCode::CREATED) => {
                self.rooms.insert(
                    name.clone(),
                    RoomView {
                        name: name.clone(),
                        capacity: *capacity,
                        players: Vec::new(),
                    },
                );
            }
            (Call::Join { .. } | Call::Leave { .. }, StatusCode::OK) => {
                if let Ok(room) = serde_json::from_slice::<RoomView>(body) {
                    self.rooms.insert(room.name.clone(), room);
                }
            }
            (Call::Close(room), StatusCode::NO_CONTENT | StatusCode::NOT_FOUND)
            | (Call::Find(room) | Call::Join { room, .. }, StatusCode::NOT_FOUND) => {
                self.rooms.remove(room);
            }
            // The room is gone, or the player is not in it (any more).
            (Call::Leave { room, player }, StatusCode::NOT_FOUND) => {
                if let Some(room) = self.rooms.get_mut(room) {
                    room.players.retain(|p| p != player);
                }
            }
            _ => {}
        }
    }
}

/// The kinds of request, before their details are drawn.
#[derive(Clone, Copy, Debug)]
enum Kind {
    List,
    Find,
    FindMissing,
    Create,
    CreateDuplicate,
    CreateInvalid,
    CreateBadBody,
    Close,
    Join,
    JoinTwice,
    Leave,
    LeaveStranger,
}

/// A random index below `len` (0 when `len` is 0).
fn index(dice: &Dice, len: usize) -> usize {
    usize::try_from(dice.below(len.max(1) as u64)).unwrap_or(0)
}
