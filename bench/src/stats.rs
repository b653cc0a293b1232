//! Percentiles of a set of durations, and formatting for the tables.

use std::time::Duration;

/// Summary of a set of timings.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
}

impl Summary {
    /// `None` for an empty set.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort();
        Some(Summary {
            p50: percentile(&sorted, 50.0),
            p95: percentile(&sorted, 95.0),
            max: *sorted.last().unwrap(),
        })
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with a precision that suits the size: `0.42`, `4.4`, `43`, `750`.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.2}")
    } else if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// Megabytes (10^6 bytes), one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let samples: Vec<Duration> = (1..=200).map(Duration::from_millis).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!(s.p50, Duration::from_millis(100));
        assert_eq!(s.p95, Duration::from_millis(190));
        assert_eq!(s.max, Duration::from_millis(200));
        assert!(Summary::of(&[]).is_none());
        assert_eq!(ms(Duration::from_micros(420)), "0.42");
        assert_eq!(ms(Duration::from_micros(4400)), "4.4");
    }
}
