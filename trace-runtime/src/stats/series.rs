//! One function's (or route's) statistics cells, and their totals.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::clock::Instant;
use crate::metrics::handles::SiteMetrics;
use crate::metrics::leaked_list::LeakedList;
use crate::metrics::striped::{self, CellId};
use crate::stats::buckets;

/// A series' own count cells: calls ok, failed, cancelled, and the sum of
/// their durations in nanoseconds.
const OWN: u32 = 4;
const SUM: u32 = 3;
/// Its bucket cells.
#[allow(clippy::cast_possible_truncation, reason = "2304")]
const BUCKETS: u32 = buckets::COUNT as u32;

/// Where a series' outcome counts and sum of durations are.
pub(crate) enum Counts {
    /// Cells of its own, for a route.
    Own(CellId),
    /// A traced function's: the cells its metrics already count in, so a
    /// call writes only its bucket more.
    Site(&'static SiteMetrics),
}

/// What a series describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    Function,
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    Route,
}

/// The per-thread cells of one function or route: a count per duration
/// bucket, written by the calling thread only (see `striped`), its outcome
/// counts and sum of durations, plus the totals taken at past ticks for the
/// recent window.
pub(crate) struct Series {
    pub(crate) subject: Subject,
    pub(crate) name: Box<str>,
    pub(crate) module: Box<str>,
    buckets: CellId,
    counts: Counts,
    /// Totals at past ticks, oldest first; starts with zeros at creation.
    past: Mutex<VecDeque<(Instant, Totals)>>,
}

/// Every series, newest first. Functions and routes are code, so this is
/// bounded by the program (routes by the layer's route cap).
static ALL: LeakedList<Series> = LeakedList::new();

impl Series {
    /// A new series, registered for [`all`]; a route's with cells of its
    /// own (`site` `None`).
    pub(crate) fn register(
        subject: Subject,
        name: &str,
        module: &str,
        site: Option<&'static SiteMetrics>,
    ) -> &'static Series {
        ALL.push(Series {
            subject,
            name: name.into(),
            module: module.into(),
            buckets: CellId::allocate(BUCKETS),
            counts: site.map_or_else(|| Counts::Own(CellId::allocate(OWN)), Counts::Site),
            past: Mutex::new(VecDeque::from([(Instant::now(), Totals::default())])),
        })
    }

    /// The series registered for `subject` and `name`, if any.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn find(subject: Subject, name: &str) -> Option<&'static Series> {
        ALL.iter()
            .find(|series| series.subject == subject && *series.name == *name)
    }

    /// The bucket cell of a call of `nanos`, for a function's call to add 1
    /// to with its other cells.
    #[inline]
    pub(crate) fn bucket(&self, nanos: u64) -> CellId {
        #[allow(clippy::cast_possible_truncation, reason = "index < COUNT")]
        self.buckets.offset(buckets::index(nanos) as u32)
    }

    /// Records one call of a route, ending with the outcome at `result` (0
    /// ok, 1 failed, 2 cancelled).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn record(&self, nanos: u64, result: usize) {
        if let Counts::Own(own) = self.counts {
            #[allow(clippy::cast_possible_truncation, reason = "result < 3")]
            striped::add_all([
                (own.offset(result as u32), 1),
                (own.offset(SUM), nanos),
                (self.bucket(nanos), 1),
            ]);
        }
    }

    /// The totals since the series was created.
    pub(crate) fn totals(&self) -> Totals {
        let (outcomes, sum) = match self.counts {
            Counts::Own(own) => {
                let mut cells = Vec::with_capacity(OWN as usize);
                striped::sum_range(own, OWN, &mut cells);
                ([cells[0], cells[1], cells[2]], cells[SUM as usize])
            }
            Counts::Site(site) => site.totals(),
        };
        let mut counts = Vec::with_capacity(buckets::COUNT);
        striped::sum_range(self.buckets, BUCKETS, &mut counts);
        Totals {
            outcomes,
            sum,
            buckets: counts
                .iter()
                .enumerate()
                .filter(|(_, &count)| count != 0)
                .filter_map(|(index, &count)| Some((u16::try_from(index).ok()?, count)))
                .collect(),
        }
    }

    /// Keeps `now`'s totals for later windows and forgets those older than
    /// `window` but the newest of them.
    pub(crate) fn tick(&self, now: Instant, window_nanos: u64) {
        let totals = self.totals();
        let mut past = self.past.lock().unwrap_or_else(PoisonError::into_inner);
        past.push_back((now, totals));
        while past
            .get(1)
            .is_some_and(|(at, _)| now.nanos_since(*at) >= window_nanos)
        {
            past.pop_front();
        }
    }

    /// The totals of `now` (taken by the caller) minus those of the oldest
    /// tick at most `window_nanos` ago.
    pub(crate) fn recent(&self, now: Instant, current: &Totals, window_nanos: u64) -> Totals {
        let past = self.past.lock().unwrap_or_else(PoisonError::into_inner);
        past.iter()
            .find(|(at, _)| now.nanos_since(*at) <= window_nanos)
            .map_or_else(Totals::default, |(_, base)| current.minus(base))
    }
}

/// Every series, newest first.
pub(crate) fn all() -> impl Iterator<Item = &'static Series> {
    ALL.iter()
}

/// Counts summed over threads: calls by outcome, the sum of durations, and
/// the non-empty buckets in increasing order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) outcomes: [u64; 3],
    pub(crate) sum: u64,
    pub(crate) buckets: Vec<(u16, u64)>,
}

impl Totals {
    /// These totals minus earlier ones of the same series.
    pub(crate) fn minus(&self, earlier: &Totals) -> Totals {
        let mut old = earlier.buckets.iter().peekable();
        let buckets = self
            .buckets
            .iter()
            .filter_map(|&(index, count)| {
                while old.next_if(|(i, _)| *i < index).is_some() {}
                let before = old.next_if(|(i, _)| *i == index).map_or(0, |(_, c)| *c);
                let count = count.wrapping_sub(before);
                (count != 0 && count < u64::MAX / 2).then_some((index, count))
            })
            .collect();
        Totals {
            outcomes: std::array::from_fn(|i| self.outcomes[i].wrapping_sub(earlier.outcomes[i])),
            sum: self.sum.wrapping_sub(earlier.sum),
            buckets,
        }
    }
}
