//! Service-level objectives: a success rate and a latency target declared
//! once in code and attached to functions with `#[trace(objective = API)]`,
//! so their series carry the labels that the autometrics-shaped SLO rules and
//! dashboards select on.
//!
//! ```
//! use trace_runtime::objective::{Latency, Objective, Percentile};
//!
//! /// 99.9 % of calls succeed, 99 % answer within 250 ms.
//! const API: Objective = Objective::new("api")
//!     .success_rate(Percentile::P99_9)
//!     .latency(Latency::Ms250, Percentile::P99);
//!
//! #[trace_runtime::trace(objective = API)]
//! fn list_rooms() -> Vec<&'static str> {
//!     vec!["lobby"]
//! }
//! # assert_eq!(list_rooms(), ["lobby"]);
//! ```
//!
//! A call of such a function adds `objective_name="api"` and
//! `objective_percentile="99.9"` to its `function_calls_total` series, and
//! `objective_name`, `objective_percentile="99"` and
//! `objective_latency_threshold="0.25"` to its
//! `function_calls_duration_seconds` series. The labels are fixed per
//! function, so objectives cost nothing per call.
//!
//! A latency target is one of the default buckets
//! ([`DEFAULT_BUCKETS`](crate::metrics::DEFAULT_BUCKETS)), so it is always a
//! bucket bound, spelled exactly as the bucket's `le`. With other buckets
//! ([`ExporterBuilder::buckets`](crate::ExporterBuilder::buckets)), declare
//! the objectives to the builder with
//! [`objective`](crate::ExporterBuilder::objective): a target that is not one
//! of the buckets is then an [`ExportError`](crate::exporter::ExportError)
//! at install. An undeclared one is said once, as a `tracing` warning
//! (target `trace_runtime::objective`), when its function is first called.

/// A service-level objective: a name, and a success-rate target, a latency
/// target, or both. Build it in a `const`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Objective {
    name: &'static str,
    success_rate: Option<Percentile>,
    latency: Option<(Latency, Percentile)>,
}

impl Objective {
    /// An objective named `name` (the `objective_name` label), with no
    /// target yet.
    #[must_use]
    pub const fn new(name: &'static str) -> Objective {
        Objective {
            name,
            success_rate: None,
            latency: None,
        }
    }

    /// At least `percentile` of calls succeed (neither `Err` nor panic).
    #[must_use]
    pub const fn success_rate(self, percentile: Percentile) -> Objective {
        Objective {
            success_rate: Some(percentile),
            ..self
        }
    }

    /// At least `percentile` of calls take no longer than `threshold`.
    #[must_use]
    pub const fn latency(self, threshold: Latency, percentile: Percentile) -> Objective {
        Objective {
            latency: Some((threshold, percentile)),
            ..self
        }
    }

    /// The `objective_name` label.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The success-rate target, if any.
    #[must_use]
    pub const fn success_rate_target(&self) -> Option<Percentile> {
        self.success_rate
    }

    /// The latency target, if any.
    #[must_use]
    pub const fn latency_target(&self) -> Option<(Latency, Percentile)> {
        self.latency
    }
}

/// The share of calls an objective is about, as the `objective_percentile`
/// label spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Percentile {
    /// 90 %.
    P90,
    /// 95 %.
    P95,
    /// 99 %.
    P99,
    /// 99.9 %.
    P99_9,
    /// 99.99 %.
    P99_99,
}

impl Percentile {
    /// The `objective_percentile` label value: `"99"`, `"99.9"`, ...
    ///
    /// ```
    /// assert_eq!(trace_runtime::objective::Percentile::P99_9.as_label(), "99.9");
    /// ```
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Percentile::P90 => "90",
            Percentile::P95 => "95",
            Percentile::P99 => "99",
            Percentile::P99_9 => "99.9",
            Percentile::P99_99 => "99.99",
        }
    }
}

/// A latency target: one of the default histogram buckets, so a target can
/// only name a bound the histogram has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Latency {
    /// 100 µs.
    Us100,
    /// 250 µs.
    Us250,
    /// 500 µs.
    Us500,
    /// 1 ms.
    Ms1,
    /// 2.5 ms.
    Ms2_5,
    /// 5 ms.
    Ms5,
    /// 10 ms.
    Ms10,
    /// 25 ms.
    Ms25,
    /// 50 ms.
    Ms50,
    /// 75 ms.
    Ms75,
    /// 100 ms.
    Ms100,
    /// 250 ms.
    Ms250,
    /// 500 ms.
    Ms500,
    /// 750 ms.
    Ms750,
    /// 1 s.
    Ms1000,
    /// 2.5 s.
    Ms2500,
    /// 5 s.
    Ms5000,
    /// 7.5 s.
    Ms7500,
    /// 10 s.
    Ms10000,
}

impl Latency {
    /// The threshold in seconds.
    ///
    /// ```
    /// assert_eq!(trace_runtime::objective::Latency::Ms250.seconds(), 0.25);
    /// ```
    #[must_use]
    pub const fn seconds(self) -> f64 {
        match self {
            Latency::Us100 => 0.0001,
            Latency::Us250 => 0.00025,
            Latency::Us500 => 0.0005,
            Latency::Ms1 => 0.001,
            Latency::Ms2_5 => 0.0025,
            Latency::Ms5 => 0.005,
            Latency::Ms10 => 0.01,
            Latency::Ms25 => 0.025,
            Latency::Ms50 => 0.05,
            Latency::Ms75 => 0.075,
            Latency::Ms100 => 0.1,
            Latency::Ms250 => 0.25,
            Latency::Ms500 => 0.5,
            Latency::Ms750 => 0.75,
            Latency::Ms1000 => 1.0,
            Latency::Ms2500 => 2.5,
            Latency::Ms5000 => 5.0,
            Latency::Ms7500 => 7.5,
            Latency::Ms10000 => 10.0,
        }
    }

    /// The `objective_latency_threshold` label value, spelled as the
    /// exporter spells the bucket's `le` (`"0.25"`, `"1"`).
    ///
    /// ```
    /// use trace_runtime::objective::Latency;
    /// assert_eq!(Latency::Ms250.as_label(), "0.25");
    /// assert_eq!(Latency::Ms1000.as_label(), "1");
    /// ```
    #[must_use]
    pub const fn as_label(self) -> &'static str {
        match self {
            Latency::Us100 => "0.0001",
            Latency::Us250 => "0.00025",
            Latency::Us500 => "0.0005",
            Latency::Ms1 => "0.001",
            Latency::Ms2_5 => "0.0025",
            Latency::Ms5 => "0.005",
            Latency::Ms10 => "0.01",
            Latency::Ms25 => "0.025",
            Latency::Ms50 => "0.05",
            Latency::Ms75 => "0.075",
            Latency::Ms100 => "0.1",
            Latency::Ms250 => "0.25",
            Latency::Ms500 => "0.5",
            Latency::Ms750 => "0.75",
            Latency::Ms1000 => "1",
            Latency::Ms2500 => "2.5",
            Latency::Ms5000 => "5",
            Latency::Ms7500 => "7.5",
            Latency::Ms10000 => "10",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Latency;
    use crate::metrics::DEFAULT_BUCKETS;

    const ALL: [Latency; 19] = [
        Latency::Us100,
        Latency::Us250,
        Latency::Us500,
        Latency::Ms1,
        Latency::Ms2_5,
        Latency::Ms5,
        Latency::Ms10,
        Latency::Ms25,
        Latency::Ms50,
        Latency::Ms75,
        Latency::Ms100,
        Latency::Ms250,
        Latency::Ms500,
        Latency::Ms750,
        Latency::Ms1000,
        Latency::Ms2500,
        Latency::Ms5000,
        Latency::Ms7500,
        Latency::Ms10000,
    ];

    #[test]
    fn every_target_is_a_default_bucket_spelled_as_its_le() {
        let seconds: Vec<f64> = ALL.iter().map(|l| l.seconds()).collect();
        assert_eq!(seconds, DEFAULT_BUCKETS);
        for latency in ALL {
            // The exporter writes `le` with f64's Display.
            assert_eq!(latency.as_label(), latency.seconds().to_string());
        }
    }
}
