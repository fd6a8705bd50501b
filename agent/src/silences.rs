//! Silences, as in Alertmanager: matchers and a time range during which the
//! alerts they select are not notified.
//!
//! One register per agent, shared by every alert stage and the agent API
//! (`POST/GET/DELETE /api/v1/silences`, and `foghorn silence add|list|expire`
//! through it), kept in the state store so a restart keeps them. A silence
//! mutes notifications only: the alerts still reach the stage's `alerts`
//! output, the report and Prometheus. When it expires, what it muted and
//! still fires is notified at its group's next look.
//!
//! Bounded: at most [`MAX_SILENCES`] at once; silences that ended more than
//! [`KEEP_EXPIRED`] ago are forgotten.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::event::{Alert, format_timestamp};
use crate::matchers::{Matcher, Matchers};
use crate::state::StateStore;

/// The most silences kept at once, expired ones included.
pub const MAX_SILENCES: usize = 1000;

/// How long an ended silence is still listed.
pub const KEEP_EXPIRED: Duration = Duration::from_hours(24);

/// One silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    /// Its id.
    pub id: String,
    /// The matchers, as written (`severity="critical"`).
    pub matchers: Vec<String>,
    /// When it starts, nanoseconds since the epoch.
    pub starts_at: i64,
    /// When it ends.
    pub ends_at: i64,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl Silence {
    /// `active`, `pending` (not started) or `expired`, at `now`.
    #[must_use]
    pub fn state(&self, now: i64) -> &'static str {
        if now < self.starts_at {
            "pending"
        } else if now < self.ends_at {
            "active"
        } else {
            "expired"
        }
    }

    /// The JSON the API answers with.
    #[must_use]
    pub fn to_json(&self, now: i64) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "matchers": self.matchers,
            "startsAt": format_timestamp(self.starts_at),
            "endsAt": format_timestamp(self.ends_at),
            "createdBy": self.created_by,
            "comment": self.comment,
            "status": { "state": self.state(now) },
        })
    }
}

/// Why a silence was refused.
#[derive(thiserror::Error, Debug)]
pub enum SilenceError {
    /// A matcher does not parse, or there is none.
    #[error("{0}")]
    Invalid(String),
    /// [`MAX_SILENCES`] are kept already.
    #[error("too many silences ({MAX_SILENCES}); expire some first")]
    Full,
    /// The state store failed.
    #[error("cannot save the silence: {0}")]
    State(String),
}

/// The agent's silences.
#[derive(Debug, Default)]
pub struct Silences {
    /// Where they are kept; none in tests that need no durability.
    state: Option<Arc<StateStore>>,
    list: RwLock<BTreeMap<String, (Silence, Matchers)>>,
}

impl Silences {
    /// The silences kept in `state`.
    ///
    /// # Errors
    /// When the state store cannot be read.
    pub fn open(state: Arc<StateStore>) -> Result<Self, crate::state::StateError> {
        let mut list = BTreeMap::new();
        for (id, bytes) in state.load_silences()? {
            let Ok(silence) = serde_json::from_slice::<Silence>(&bytes) else {
                continue;
            };
            if let Ok(matchers) = parse(&silence.matchers) {
                list.insert(id, (silence, matchers));
            }
        }
        Ok(Self {
            state: Some(state),
            list: RwLock::new(list),
        })
    }

    /// Add a silence of `matchers` from `now` for `duration`; its id.
    ///
    /// # Errors
    /// A matcher that does not parse, none at all, too many silences, or a
    /// state store that cannot be written.
    pub fn add(
        &self,
        matchers: &[String],
        now: i64,
        duration: Duration,
        created_by: &str,
        comment: &str,
    ) -> Result<String, SilenceError> {
        let parsed = parse(matchers).map_err(SilenceError::Invalid)?;
        if parsed.0.is_empty() {
            return Err(SilenceError::Invalid(
                "a silence needs at least one matcher".to_owned(),
            ));
        }
        self.forget_expired(now);
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        if list.len() >= MAX_SILENCES {
            return Err(SilenceError::Full);
        }
        let id = new_id(matchers, now, list.len());
        let ends_at = now.saturating_add(i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX));
        let silence = Silence {
            id: id.clone(),
            matchers: parsed.0.iter().map(ToString::to_string).collect(),
            starts_at: now,
            ends_at,
            created_by: created_by.to_owned(),
            comment: comment.to_owned(),
        };
        self.save(&silence)?;
        list.insert(id.clone(), (silence, parsed));
        Ok(id)
    }

    /// End silence `id` at `now`; false when there is no such silence.
    ///
    /// # Errors
    /// When the state store cannot be written.
    pub fn expire(&self, id: &str, now: i64) -> Result<bool, SilenceError> {
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        let Some((silence, _)) = list.get_mut(id) else {
            return Ok(false);
        };
        silence.ends_at = silence.ends_at.min(now);
        let silence = silence.clone();
        drop(list);
        self.save(&silence)?;
        Ok(true)
    }

    /// Every silence, oldest first.
    #[must_use]
    pub fn list(&self) -> Vec<Silence> {
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        let mut silences: Vec<Silence> = list.values().map(|(s, _)| s.clone()).collect();
        silences.sort_by_key(|s| (s.starts_at, s.id.clone()));
        silences
    }

    /// How many silences are `active`, `pending` and `expired` at `now`.
    #[must_use]
    pub fn count_by_state(&self, now: i64) -> [(&'static str, usize); 3] {
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        let mut counts = [("active", 0), ("pending", 0), ("expired", 0)];
        for (silence, _) in list.values() {
            let state = silence.state(now);
            if let Some((_, n)) = counts.iter_mut().find(|(name, _)| *name == state) {
                *n += 1;
            }
        }
        counts
    }

    /// Whether an active silence mutes `alert` at `now`.
    #[must_use]
    pub fn mutes(&self, alert: &Alert, now: i64) -> bool {
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        list.values().any(|(silence, matchers)| {
            silence.state(now) == "active" && matchers.matches_alert(alert)
        })
    }

    /// Whether any silence is active at `now`.
    #[must_use]
    pub fn any_active(&self, now: i64) -> bool {
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        list.values()
            .any(|(silence, _)| silence.state(now) == "active")
    }

    fn save(&self, silence: &Silence) -> Result<(), SilenceError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(silence).expect("silences serialize");
        state
            .save_silence(&silence.id, &bytes)
            .map_err(|error| SilenceError::State(error.to_string()))
    }

    fn forget_expired(&self, now: i64) {
        let keep = i64::try_from(KEEP_EXPIRED.as_nanos()).unwrap_or(i64::MAX);
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        let old: Vec<String> = list
            .iter()
            .filter(|(_, (s, _))| s.ends_at.saturating_add(keep) < now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            list.remove(&id);
            if let Some(state) = &self.state
                && let Err(error) = state.remove_silence(&id)
            {
                tracing::warn!("cannot forget silence {id}: {error}");
            }
        }
    }
}

fn parse(matchers: &[String]) -> Result<Matchers, String> {
    matchers
        .iter()
        .map(|text| text.parse::<Matcher>())
        .collect::<Result<Vec<_>, _>>()
        .map(Matchers)
}

/// A short id, unique among the agent's silences.
fn new_id(matchers: &[String], now: i64, n: usize) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for matcher in matchers {
        hash.update(matcher.as_bytes());
        hash.update([0]);
    }
    hash.update(now.to_le_bytes());
    hash.update(n.to_le_bytes());
    hex::encode(&hash.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Series, Severity};

    fn alert(severity: Severity) -> Alert {
        let series = Series::new("bench").with_tag("device", "bench-1");
        Alert::new(
            foghorn_model::Alert::firing("threshold", severity, &series, 0, "x"),
            Arc::from("detect"),
            Arc::from("builtin:threshold"),
        )
    }

    #[test]
    fn a_silence_mutes_what_it_matches_while_active_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let state = Arc::new(StateStore::open(dir.path()).unwrap());
        let silences = Silences::open(Arc::clone(&state)).unwrap();
        let hour = Duration::from_hours(1);
        let id = silences
            .add(
                &["severity=critical".into(), "device=bench-1".into()],
                100,
                hour,
                "ops",
                "maintenance",
            )
            .unwrap();
        assert!(silences.mutes(&alert(Severity::Critical), 101));
        assert!(!silences.mutes(&alert(Severity::Warning), 101));
        let an_hour_later = 100 + i64::try_from(hour.as_nanos()).unwrap();
        assert!(!silences.mutes(&alert(Severity::Critical), an_hour_later));
        drop(silences);
        let again = Silences::open(state).unwrap();
        assert_eq!(again.list()[0].comment, "maintenance");
        assert!(again.mutes(&alert(Severity::Critical), 101));
        assert!(again.expire(&id, 200).unwrap());
        assert!(!again.mutes(&alert(Severity::Critical), 201));
        assert_eq!(again.list()[0].state(201), "expired");
        assert!(!again.expire("nope", 201).unwrap());
    }

    #[test]
    fn bad_or_missing_matchers_are_refused() {
        let silences = Silences::default();
        let error = silences.add(
            &["severity critical".into()],
            0,
            Duration::from_secs(1),
            "",
            "",
        );
        assert!(error.unwrap_err().to_string().contains("needs an operator"));
        let error = silences.add(&[], 0, Duration::from_secs(1), "", "");
        assert!(
            error
                .unwrap_err()
                .to_string()
                .contains("at least one matcher")
        );
    }
}
