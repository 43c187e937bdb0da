//! The traced domain of the demo: game rooms kept in memory, with simulated
//! validation, storage and audit latencies, and a storage that sometimes
//! fails. Every method is traced by `#[instrument_all]` and labelled
//! `GameService::method` / `AuditLog::method`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use trace_runtime::instrument_all;
use trace_runtime::objective::{Latency, Objective, Percentile};

use crate::dice::Dice;

/// Most rooms kept at once: a client that only creates cannot grow the process.
const MAX_ROOMS: usize = 256;
/// The rooms API's service-level objective, on every `GameService` method:
/// 99 % of calls succeed and 99 % finish within 250 ms (the SLO dashboard,
/// `dashboards/slos.json`, shows it as `objective_name="api"`).
const API: Objective = Objective::new("api")
    .success_rate(Percentile::P99)
    .latency(Latency::Ms250, Percentile::P99);
/// Seats a room may have.
const CAPACITY: std::ops::RangeInclusive<u32> = 1..=8;
/// One save or delete in this many fails, as a flaky storage would.
const STORAGE_FAILS_ONE_IN: u64 = 25;

/// One game room.
#[derive(Clone, Debug, Serialize)]
pub struct Room {
    pub name: String,
    pub capacity: u32,
    pub players: Vec<String>,
}

/// Why a room operation failed.
#[derive(Debug)]
pub enum GameError {
    InvalidName(&'static str),
    InvalidCapacity(u32),
    NameTaken(String),
    NotFound(String),
    Full(String),
    AlreadyJoined(String),
    NotInRoom(String),
    TooManyRooms,
    StorageUnavailable,
}

impl fmt::Display for GameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GameError::InvalidName(why) => write!(f, "invalid room name: {why}"),
            GameError::InvalidCapacity(n) => write!(
                f,
                "a room has {} to {} seats, not {n}",
                CAPACITY.start(),
                CAPACITY.end()
            ),
            GameError::NameTaken(name) => write!(f, "a room named {name:?} exists"),
            GameError::NotFound(name) => write!(f, "no room named {name:?}"),
            GameError::Full(name) => write!(f, "room {name:?} is full"),
            GameError::AlreadyJoined(player) => write!(f, "{player:?} is in the room already"),
            GameError::NotInRoom(player) => write!(f, "{player:?} is not in the room"),
            GameError::TooManyRooms => write!(f, "too many rooms open, close one first"),
            GameError::StorageUnavailable => write!(f, "storage unavailable, try again"),
        }
    }
}

/// Sleeps for `ms` milliseconds, give or take a third: a stand-in for I/O.
async fn io_wait(dice: &Dice, ms: u64) {
    let jitter = dice.below(ms * 2 / 3 + 1);
    tokio::time::sleep(Duration::from_millis(ms * 2 / 3 + jitter)).await;
}

/// The rooms, in memory, behind a simulated storage that fails now and then.
pub struct GameService {
    rooms: Mutex<BTreeMap<String, Room>>,
    dice: Dice,
}

// `err`: each failed call's tree line says which error (`err: no room
// "lobby"`), for every method that returns a `Result`.
#[instrument_all(objective = API, err)]
impl GameService {
    // Constructors are traced too; this one opts out to keep the log quiet.
    #[trace(skip)]
    pub fn new() -> Self {
        GameService {
            rooms: Mutex::new(BTreeMap::new()),
            dice: Dice::new(),
        }
    }

    /// Validates the name and size, then stores a new, empty room.
    #[trace(fields(room = name, capacity))]
    pub async fn create_room(&self, name: &str, capacity: u32) -> Result<Room, GameError> {
        self.validate_room(name, capacity).await?;
        let room = Room {
            name: name.to_owned(),
            capacity,
            players: Vec::new(),
        };
        self.save_room(&room).await?;
        Ok(room)
    }

    async fn validate_room(&self, name: &str, capacity: u32) -> Result<(), GameError> {
        io_wait(&self.dice, 5).await;
        if name.is_empty() {
            return Err(GameError::InvalidName("empty"));
        }
        if name.len() > 32 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(GameError::InvalidName(
                "use at most 32 letters, digits or '-'",
            ));
        }
        if !CAPACITY.contains(&capacity) {
            return Err(GameError::InvalidCapacity(capacity));
        }
        if self.find_room(name).is_some() {
            return Err(GameError::NameTaken(name.to_owned()));
        }
        if self.rooms.lock().unwrap().len() >= MAX_ROOMS {
            return Err(GameError::TooManyRooms);
        }
        Ok(())
    }

    fn find_room(&self, name: &str) -> Option<Room> {
        self.rooms.lock().unwrap().get(name).cloned()
    }

    /// Writes a new room to the flaky storage.
    async fn save_room(&self, room: &Room) -> Result<(), GameError> {
        io_wait(&self.dice, 10).await;
        self.storage_answers()?;
        let mut rooms = self.rooms.lock().unwrap();
        if rooms.contains_key(&room.name) {
            return Err(GameError::NameTaken(room.name.clone()));
        }
        rooms.insert(room.name.clone(), room.clone());
        Ok(())
    }

    /// Deletes the room from the flaky storage.
    async fn delete_room(&self, name: &str) -> Result<Room, GameError> {
        io_wait(&self.dice, 8).await;
        self.storage_answers()?;
        self.rooms
            .lock()
            .unwrap()
            .remove(name)
            .ok_or_else(|| GameError::NotFound(name.to_owned()))
    }

    // Not traced: a failure shows on the save or delete that met it.
    #[trace(skip)]
    fn storage_answers(&self) -> Result<(), GameError> {
        if self.dice.below(STORAGE_FAILS_ONE_IN) == 0 {
            Err(GameError::StorageUnavailable)
        } else {
            Ok(())
        }
    }

    /// Every room, by name.
    pub async fn list_rooms(&self) -> Vec<Room> {
        io_wait(&self.dice, 3).await;
        self.rooms.lock().unwrap().values().cloned().collect()
    }

    /// One room.
    #[trace(fields(room = name))]
    pub async fn get_room(&self, name: &str) -> Result<Room, GameError> {
        io_wait(&self.dice, 2).await;
        self.find_room(name)
            .ok_or_else(|| GameError::NotFound(name.to_owned()))
    }

    /// Closes a room, sending its players away.
    #[trace(fields(room = name))]
    pub async fn close_room(&self, name: &str) -> Result<Room, GameError> {
        self.get_room(name).await?;
        self.delete_room(name).await
    }

    /// Seats `player` in a room that has a free seat.
    #[trace(fields(room = name, player))]
    pub async fn join_room(&self, name: &str, player: &str) -> Result<Room, GameError> {
        let room = self.get_room(name).await?;
        if room.players.iter().any(|p| p == player) {
            return Err(GameError::AlreadyJoined(player.to_owned()));
        }
        if room.players.len() >= room.capacity as usize {
            return Err(GameError::Full(name.to_owned()));
        }
        self.save_seats(name, Seat::Take(player)).await
    }

    /// Frees `player`'s seat.
    #[trace(fields(room = name, player))]
    pub async fn leave_room(&self, name: &str, player: &str) -> Result<Room, GameError> {
        self.get_room(name).await?;
        self.save_seats(name, Seat::Free(player)).await
    }

    /// Writes a change of seats to the flaky storage, checked against the
    /// room as stored: concurrent joins cannot overfill it, and a room
    /// closed meanwhile stays closed.
    async fn save_seats(&self, name: &str, change: Seat<'_>) -> Result<Room, GameError> {
        io_wait(&self.dice, 10).await;
        self.storage_answers()?;
        let mut rooms = self.rooms.lock().unwrap();
        let room = rooms
            .get_mut(name)
            .ok_or_else(|| GameError::NotFound(name.to_owned()))?;
        match change {
            Seat::Take(player) => {
                if room.players.iter().any(|p| p == player) {
                    return Err(GameError::AlreadyJoined(player.to_owned()));
                }
                if room.players.len() >= room.capacity as usize {
                    return Err(GameError::Full(name.to_owned()));
                }
                room.players.push(player.to_owned());
            }
            Seat::Free(player) => {
                let seat = room
                    .players
                    .iter()
                    .position(|p| p == player)
                    .ok_or_else(|| GameError::NotInRoom(player.to_owned()))?;
                room.players.remove(seat);
            }
        }
        Ok(room.clone())
    }
}

/// A change of one seat in a room.
#[derive(Clone, Copy, Debug)]
enum Seat<'a> {
    Take(&'a str),
    Free(&'a str),
}

/// The last few events, as an audit trail would keep them.
pub struct AuditLog {
    recent: Mutex<VecDeque<(String, String)>>,
    dice: Dice,
}

/// Events the audit log keeps.
const AUDIT_KEEPS: usize = 200;

#[instrument_all]
impl AuditLog {
    #[trace(skip)]
    pub fn new() -> Self {
        AuditLog {
            recent: Mutex::new(VecDeque::new()),
            dice: Dice::new(),
        }
    }

    /// Appends an event about a room, keeping the last few hundred.
    pub async fn record(&self, room: String, event: String) {
        io_wait(&self.dice, 2).await;
        let mut recent = self.recent.lock().unwrap();
        if recent.len() == AUDIT_KEEPS {
            recent.pop_front();
        }
        recent.push_back((room, event));
    }

    /// The recent events about one room, oldest first.
    pub async fn history(&self, room: &str) -> Vec<String> {
        io_wait(&self.dice, 4).await;
        let recent = self.recent.lock().unwrap();
        recent
            .iter()
            .filter(|(r, _)| r == room)
            .map(|(_, event)| event.clone())
            .collect()
    }
}
