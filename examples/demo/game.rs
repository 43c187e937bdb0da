//! The traced domain of the demo: game rooms kept in memory, with simulated
//! validation, storage and audit latencies, and a storage that sometimes
//! fails. Every method is traced by `#[instrument_all]` and labelled
//! `GameService::method` / `AuditLog::method`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use trace_runtime::instrument_all;

use crate::dice::Dice;

/// Players a room holds.
const CAPACITY: u32 = 4;

/// One game room.
#[derive(Clone, Debug)]
pub struct Room {
    pub id: u64,
    pub name: String,
    pub players: u32,
}

/// Why a room operation failed.
#[derive(Debug)]
pub enum GameError {
    InvalidName(&'static str),
    NameTaken(String),
    NotFound(u64),
    Full(u64),
    StorageUnavailable,
}

impl fmt::Display for GameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GameError::InvalidName(why) => write!(f, "invalid room name: {why}"),
            GameError::NameTaken(name) => write!(f, "a room named {name:?} exists"),
            GameError::NotFound(id) => write!(f, "no room {id}"),
            GameError::Full(id) => write!(f, "room {id} is full"),
            GameError::StorageUnavailable => write!(f, "storage unavailable, try again"),
        }
    }
}

/// Sleeps for `ms` milliseconds, give or take a third: a stand-in for I/O.
async fn io_wait(dice: &Dice, ms: u64) {
    let jitter = dice.below(ms * 2 / 3 + 1);
    tokio::time::sleep(Duration::from_millis(ms * 2 / 3 + jitter)).await;
}

/// The rooms, in memory, behind a simulated storage that fails one save
/// in six.
pub struct GameService {
    rooms: Mutex<BTreeMap<u64, Room>>,
    next_id: AtomicU64,
    dice: Dice,
}

#[instrument_all]
impl GameService {
    // Constructors are traced too; this one opts out to keep the log quiet.
    #[trace(skip)]
    pub fn new() -> Self {
        GameService {
            rooms: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            dice: Dice::new(),
        }
    }

    /// Validates the name, then stores a new room.
    pub async fn create_room(&self, name: &str) -> Result<Room, GameError> {
        self.validate_room(name).await?;
        let room = Room {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            name: name.to_owned(),
            players: 0,
        };
        self.save_room(&room).await?;
        Ok(room)
    }

    async fn validate_room(&self, name: &str) -> Result<(), GameError> {
        io_wait(&self.dice, 5).await;
        if name.is_empty() {
            return Err(GameError::InvalidName("empty"));
        }
        if name.len() > 32 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(GameError::InvalidName(
                "use at most 32 letters, digits or '-'",
            ));
        }
        if self.find_room_by_name(name).is_some() {
            return Err(GameError::NameTaken(name.to_owned()));
        }
        Ok(())
    }

    fn find_room_by_name(&self, name: &str) -> Option<u64> {
        let rooms = self.rooms.lock().unwrap();
        rooms.values().find(|r| r.name == name).map(|r| r.id)
    }

    async fn save_room(&self, room: &Room) -> Result<(), GameError> {
        io_wait(&self.dice, 10).await;
        if self.dice.below(6) == 0 {
            return Err(GameError::StorageUnavailable);
        }
        self.rooms.lock().unwrap().insert(room.id, room.clone());
        Ok(())
    }

    /// Every room, by id.
    pub async fn list_rooms(&self) -> Vec<Room> {
        io_wait(&self.dice, 3).await;
        self.rooms.lock().unwrap().values().cloned().collect()
    }

    /// One room, if it exists.
    pub fn get_room(&self, id: u64) -> Option<Room> {
        self.rooms.lock().unwrap().get(&id).cloned()
    }

    /// Adds a player to a room that has a free seat.
    pub async fn join_room(&self, id: u64) -> Result<Room, GameError> {
        let mut room = self.get_room(id).ok_or(GameError::NotFound(id))?;
        if room.players >= CAPACITY {
            return Err(GameError::Full(id));
        }
        room.players += 1;
        self.save_room(&room).await?;
        Ok(room)
    }
}

/// The last few events, as an audit trail would keep them.
pub struct AuditLog {
    recent: Mutex<VecDeque<String>>,
    dice: Dice,
}

#[instrument_all]
impl AuditLog {
    #[trace(skip)]
    pub fn new() -> Self {
        AuditLog {
            recent: Mutex::new(VecDeque::new()),
            dice: Dice::new(),
        }
    }

    /// Appends an event, keeping the last 100.
    pub async fn record(&self, event: String) {
        io_wait(&self.dice, 2).await;
        let mut recent = self.recent.lock().unwrap();
        if recent.len() == 100 {
            recent.pop_front();
        }
        recent.push_back(event);
    }
}
