//! When a failed plugin is restarted: at once the first time, then after a
//! wait that doubles with every failure in a row, up to a cap; and when it
//! has failed too often within a window, it is reported failed (in `/health`
//! and `foghorn_component_up`) until a call succeeds again. This is what
//! keeps a plugin that fails on every batch from becoming a restart loop
//! that burns a core.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::RestartPolicy;

/// The failure history of one plugin.
#[derive(Debug)]
pub struct Restarts {
    policy: RestartPolicy,
    /// When it failed, within the policy's window.
    failures: VecDeque<Instant>,
    /// Failures since the last call that succeeded.
    in_a_row: u32,
    /// Whether it is reported failed.
    tripped: bool,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    /// Wait this long before restarting (zero: restart now).
    pub wait: Duration,
    /// The plugin has now failed too often: report it failed.
    pub trips: bool,
}

impl Restarts {
    /// No failures yet.
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            failures: VecDeque::new(),
            in_a_row: 0,
            tripped: false,
        }
    }

    /// Record a failure at `now`.
    pub fn failed(&mut self, now: Instant) -> AfterFailure {
        while self
            .failures
            .front()
            .is_some_and(|&at| now.duration_since(at) >= self.policy.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        // Only the failures that count are kept: the window's worth, at most.
        if self.failures.len() > self.policy.max_failures as usize {
            self.failures.pop_front();
        }
        self.in_a_row = self.in_a_row.saturating_add(1);
        let wait = match self.in_a_row {
            0 | 1 => Duration::ZERO,
            n => {
                let doublings = (n - 2).min(30);
                self.policy
                    .backoff
                    .saturating_mul(1 << doublings)
                    .min(self.policy.max_backoff)
            }
        };
        let trips = !self.tripped && self.failures.len() >= self.policy.max_failures as usize;
        self.tripped |= trips;
        AfterFailure { wait, trips }
    }

    /// Record a call that succeeded; whether the plugin was reported failed
    /// (and should now be reported working).
    pub fn succeeded(&mut self) -> bool {
        self.in_a_row = 0;
        std::mem::take(&mut self.tripped)
    }

    /// Failures within the window, as of the last one.
    pub fn recent(&self) -> usize {
        self.failures.len()
    }

    /// The window failures are counted in.
    pub fn window(&self) -> Duration {
        self.policy.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RestartPolicy {
        RestartPolicy {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_failures: 3,
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn waits_double_from_the_second_failure_up_to_the_cap() {
        let mut restarts = Restarts::new(policy());
        let now = Instant::now();
        let waits: Vec<u128> = (0..7)
            .map(|_| restarts.failed(now).wait.as_millis())
            .collect();
        assert_eq!(waits, [0, 100, 200, 400, 800, 1000, 1000]);
        restarts.succeeded();
        assert_eq!(
            restarts.failed(now).wait,
            Duration::ZERO,
            "a success resets the wait"
        );
    }

    #[test]
    fn too_many_failures_in_the_window_trip_once_until_a_success() {
        let mut restarts = Restarts::new(policy());
        let start = Instant::now();
        let trips: Vec<bool> = (0..5)
            .map(|i| restarts.failed(start + Duration::from_secs(i)).trips)
            .collect();
        assert_eq!(trips, [false, false, true, false, false]);
        assert!(restarts.succeeded(), "was reported failed");
        assert!(!restarts.succeeded());
        assert!(
            restarts.failed(start + Duration::from_secs(5)).trips,
            "three failures within the last minute again"
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_trip() {
        let mut restarts = Restarts::new(policy());
        let start = Instant::now();
        for i in 0..10 {
            let after = restarts.failed(start + Duration::from_secs(40 * i));
            assert!(!after.trips, "failure {i}");
            restarts.succeeded();
        }
        assert_eq!(restarts.recent(), 2);
    }
}
