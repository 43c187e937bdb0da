//! What a slow or failed request's log event carries besides its tree: the
//! state of the process when it ended, to tell a slow dependency from a
//! starved process.
//!
//! The fields are, when the exporter gathers them
//! ([`process_metrics`](crate::ExporterBuilder::process_metrics),
//! [`runtime_metrics`](crate::ExporterBuilder::runtime_metrics)): the
//! process's CPU seconds and resident memory, the tokio runtime's alive
//! tasks and global queue depth; always, the calls in flight of each
//! function in the tree (other requests' calls: the tree's own have ended);
//! then the fields of every source added with [`add_snapshot_source`] (a
//! connection pool's active and idle connections, say).
//!
//! ```
//! use trace_runtime::tree::{add_snapshot_source, Snapshot};
//!
//! // The pool's counts, next to every slow or failed request's tree.
//! add_snapshot_source(|snapshot: &mut Snapshot| {
//!     snapshot.push("pool_active", 4);
//!     snapshot.push("pool_idle", 12);
//! });
//! ```

use std::borrow::Cow;
use std::fmt::{self, Display, Write as _};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::tree::CallTree;

/// Fields describing the process when a request ended: `name=value` pairs
/// in the order they were pushed. Displayed as `name=value` separated by
/// spaces, values with spaces or quotes quoted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    fields: Vec<(Cow<'static, str>, String)>,
}

/// Longest value kept, in bytes; longer ones are cut at a character
/// boundary and end in `...`.
const MAX_VALUE: usize = 256;
/// Fields kept at most; later pushes are dropped.
const MAX_FIELDS: usize = 64;

impl Snapshot {
    /// Adds a field. Values longer than 256 bytes are cut; past 64 fields,
    /// pushes are ignored.
    ///
    /// ```
    /// let mut snapshot = trace_runtime::tree::Snapshot::default();
    /// snapshot.push("pool_active", 4);
    /// snapshot.push("region", "eu west");
    /// assert_eq!(snapshot.to_string(), r#"pool_active=4 region="eu west""#);
    /// ```
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: impl Display) {
        if self.fields.len() >= MAX_FIELDS {
            return;
        }
        let mut text = String::new();
        let _ = write!(text, "{value}");
        if text.len() > MAX_VALUE {
            let mut cut = MAX_VALUE;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("...");
        }
        self.fields.push((name.into(), text));
    }

    /// The fields, in the order they were pushed.
    ///
    /// ```
    /// let mut snapshot = trace_runtime::tree::Snapshot::default();
    /// snapshot.push("pool_idle", 12);
    /// assert_eq!(snapshot.fields().collect::<Vec<_>>(), [("pool_idle", "12")]);
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }

    /// The value of field `name`, if it was pushed.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether no field was pushed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The snapshot for `tree`, as its log event gets it.
    #[must_use]
    pub fn of(tree: &CallTree) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for (name, value) in gauges() {
            snapshot.push(name, value);
        }
        in_flight(tree, &mut snapshot);
        let sources = SOURCES
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for source in sources {
            // A panicking source must not unwind into the traced code that
            // ended the request; the panic hook has reported it.
            let _ =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source(&mut snapshot)));
        }
        snapshot
    }
}

impl Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if value.is_empty() || value.contains([' ', '"', '=']) {
                write!(f, "{name}={value:?}")?;
            } else {
                write!(f, "{name}={value}")?;
            }
        }
        Ok(())
    }
}

type Source = Arc<dyn Fn(&mut Snapshot) + Send + Sync>;

static SOURCES: RwLock<Vec<Source>> = RwLock::new(Vec::new());

/// Adds fields of your own to the snapshot of every slow or failed
/// request: `source` runs when such a tree is logged, after the built-in
/// fields, and pushes its own with [`Snapshot::push`]. Keep it quick: it
/// runs on the thread that ended the request.
pub fn add_snapshot_source(source: impl Fn(&mut Snapshot) + Send + Sync + 'static) {
    SOURCES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Arc::new(source));
}

/// The in-flight count of each distinct function of `tree`.
fn in_flight(tree: &CallTree, snapshot: &mut Snapshot) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for node in tree.iter().skip(1) {
        let key = (node.name(), node.module());
        if seen.len() >= 32 || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if let Some(count) = crate::metrics::handles::in_flight(key.0, key.1) {
            snapshot.push(format!("in_flight[{}]", key.0), count);
        }
    }
}

/// Gauge readings: name and value.
type Readings = Vec<(&'static str, String)>;

/// Readers of process-wide gauges the exporter turned on.
type Gauges = Box<dyn Fn(&mut Readings) + Send + Sync>;

static GAUGES: RwLock<Vec<Gauges>> = RwLock::new(Vec::new());

/// The last reading and when it was taken: one reading serves every tree
/// logged within [`FRESH`], so a burst of failures reads the OS once.
static LAST: Mutex<Option<(Instant, Readings)>> = Mutex::new(None);
const FRESH: Duration = Duration::from_millis(100);

/// Adds a reader of process-wide gauges (for the exporter).
#[cfg_attr(not(any(feature = "process", feature = "runtime")), allow(dead_code))]
pub(crate) fn add_gauges(reader: impl Fn(&mut Readings) + Send + Sync + 'static) {
    GAUGES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Box::new(reader));
}

fn gauges() -> Readings {
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, values)) = last.as_ref().filter(|(at, _)| at.elapsed() < FRESH) {
        return values.clone();
    }
    let mut values = Vec::new();
    for reader in GAUGES.read().unwrap_or_else(PoisonError::into_inner).iter() {
        reader(&mut values);
    }
    *last = Some((Instant::now(), values.clone()));
    values
}
