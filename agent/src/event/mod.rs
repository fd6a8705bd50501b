//! What flows through a pipeline: raw records, structured points and alerts,
//! always in batches.
//!
//! Records and points use the columnar shape of [`foghorn_model`], the same
//! one that crosses the WebAssembly boundary, so a batch reaches a plugin
//! without being re-encoded. A [`Batch`] is shared between the consumers of a
//! component behind an [`Arc`] ([`SharedBatch`]): fan-out never copies data.

pub mod notification;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub use foghorn_model::{
    AlertState, Column, ColumnData, PointRef, Points, PointsBuilder, Record, Records, Series,
    Severity, TextColumn, Value,
};
use serde::Serialize;

use crate::delivery::Delivery;

/// An alert as it travels the pipeline: what the plugin raised (the
/// model's [`foghorn_model::Alert`], whose fields it derefs to) and where it
/// came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// What was raised: kind, severity, state, series, labels, value, score,
    /// description.
    pub raised: foghorn_model::Alert,
    /// The processor that raised it.
    pub component: Arc<str>,
    /// The plugin that raised it (`builtin:threshold`, a path).
    pub plugin: Arc<str>,
}

impl std::ops::Deref for Alert {
    type Target = foghorn_model::Alert;

    fn deref(&self) -> &Self::Target {
        &self.raised
    }
}

impl std::ops::DerefMut for Alert {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.raised
    }
}

impl Alert {
    /// `raised` by processor `component` running `plugin`.
    pub fn new(raised: foghorn_model::Alert, component: Arc<str>, plugin: Arc<str>) -> Self {
        Self {
            raised,
            component,
            plugin,
        }
    }
}

impl Alert {
    /// A stable identity for deduplication: the same kind and labels on the
    /// same series from the same processor have the same fingerprint, firing
    /// or resolved.
    pub fn fingerprint(&self) -> u64 {
        // FNV-1a: stable across processes and releases, unlike `DefaultHasher`.
        let mut hasher = Fnv1a::default();
        self.component.hash(&mut hasher);
        self.kind.hash(&mut hasher);
        self.series.hash(&mut hasher);
        self.labels.hash(&mut hasher);
        hasher.finish()
    }

    /// The JSON form used by reports and NDJSON sinks: a superset of
    /// `{timestamp, type, severity, description}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "timestamp": format_timestamp(self.timestamp),
            "type": self.kind,
            "severity": self.severity,
            "description": self.description,
            "state": self.state,
            "series": self.series.name,
            "tags": self
                .series
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                .collect::<serde_json::Map<_, _>>(),
            "labels": self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                .collect::<serde_json::Map<_, _>>(),
            "value": self.value,
            "score": self.score,
            "component": &*self.component,
            "plugin": &*self.plugin,
            "fingerprint": format!("{:016x}", self.fingerprint()),
        })
    }
}

impl Alert {
    /// [`Alert::to_json`] written as text straight into `out`: the same
    /// bytes, without building a `serde_json::Value` first (one allocation
    /// instead of dozens, for sinks that write millions of alerts).
    pub fn write_json(&self, out: &mut String) {
        /// Keys in the order of `to_json` (serde_json keeps insertion order).
        #[derive(Serialize)]
        struct Json<'a> {
            timestamp: String,
            #[serde(rename = "type")]
            kind: &'a str,
            severity: Severity,
            description: &'a str,
            state: AlertState,
            series: &'a str,
            tags: Pairs<'a>,
            labels: Pairs<'a>,
            value: Option<f64>,
            score: Option<f64>,
            component: &'a str,
            plugin: &'a str,
            fingerprint: String,
        }
        /// A map in the order keys first appear, the last of equal keys
        /// winning, as a `serde_json::Map` built from the pairs would be.
        struct Pairs<'a>(Vec<(&'a str, &'a str)>);
        impl Serialize for Pairs<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (key, value) in &self.0 {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        fn pairs(pairs: &[(String, String)]) -> Pairs<'_> {
            let mut unique: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
            for (key, value) in pairs {
                match unique.iter_mut().find(|(k, _)| *k == key.as_str()) {
                    Some(entry) => entry.1 = value,
                    None => unique.push((key, value)),
                }
            }
            Pairs(unique)
        }
        let json = Json {
            timestamp: format_timestamp(self.timestamp),
            kind: &self.kind,
            severity: self.severity,
            description: &self.description,
            state: self.state,
            series: &self.series.name,
            tags: pairs(&self.series.tags),
            labels: pairs(&self.labels),
            value: self.value.filter(|v| v.is_finite()),
            score: self.score.filter(|v| v.is_finite()),
            component: &self.component,
            plugin: &self.plugin,
            fingerprint: format!("{:016x}", self.fingerprint()),
        };
        // Writing into a String cannot fail, and every key is a string.
        let mut bytes = std::mem::take(out).into_bytes();
        let _ = serde_json::to_writer(&mut bytes, &json);
        *out = String::from_utf8(bytes).unwrap_or_default();
    }
}

#[derive(Debug)]
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// RFC 3339 UTC with millisecond precision, e.g. `2026-11-24T11:05:32.123Z`.
pub fn format_timestamp(nanos: i64) -> String {
    let mut out = Vec::with_capacity(24);
    write_timestamp(&mut out, nanos);
    // Only ASCII digits and punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Append `nanos` as [`format_timestamp`] writes it (the milliseconds
/// truncated; an i64 of nanoseconds is always a four-digit year).
pub fn write_timestamp(out: &mut Vec<u8>, nanos: i64) {
    let ts = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (year, month, day) = ts.to_calendar_date();
    let (hour, minute, second, milli) = ts.to_hms_milli();
    let digits = |out: &mut Vec<u8>, value: u32, width: u32| {
        for place in (0..width).rev() {
            // A digit: `% 10` of a u32 fits a u8.
            #[allow(clippy::cast_possible_truncation)]
            out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
        }
    };
    digits(out, year.unsigned_abs(), 4);
    out.push(b'-');
    digits(out, u32::from(u8::from(month)), 2);
    out.push(b'-');
    digits(out, u32::from(day), 2);
    out.push(b'T');
    digits(out, u32::from(hour), 2);
    out.push(b':');
    digits(out, u32::from(minute), 2);
    out.push(b':');
    digits(out, u32::from(second), 2);
    out.push(b'.');
    digits(out, u32::from(milli), 3);
    out.push(b'Z');
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_nanos() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

/// A batch of records, points and alerts emitted by one component.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The component that emitted it.
    pub component: Arc<str>,
    /// Raw records (from sources).
    pub records: Records,
    /// Tags for every point parsed from `records`, set by the source (a file
    /// source's `path_tag`); a tag the parser set itself is kept.
    pub record_tags: RecordTags,
    /// Structured points (from processors).
    pub points: Points,
    /// Alerts (from processors).
    pub alerts: Vec<Alert>,
    /// Notifications (from an alert stage), each for one receiver.
    pub notifications: Vec<notification::Notification>,
    /// Tells the source that emitted what this batch derives from once every
    /// sink has made it durable; see [`crate::delivery`].
    pub delivery: Delivery,
}

impl Batch {
    /// Records, points, alerts and notifications in the batch.
    pub fn len(&self) -> usize {
        self.records.len() + self.points.len() + self.alerts.len() + self.notifications.len()
    }

    /// Whether the batch carries nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Tags a source gives every point parsed from a batch's records.
pub type RecordTags = Option<Arc<[(String, String)]>>;

/// A batch shared by every consumer of a component's output.
pub type SharedBatch = Arc<Batch>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_the_time_crate_formats_them() {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut samples = vec![0, -1, 1, i64::MIN, i64::MAX, -1_500_000_000, 999_999];
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            samples.push(state.cast_signed());
        }
        for nanos in samples {
            let want = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
                .unwrap()
                .format(&format)
                .unwrap();
            assert_eq!(format_timestamp(nanos), want, "{nanos}");
        }
    }

    fn alert(kind: &str, state: AlertState) -> Alert {
        Alert {
            raised: foghorn_model::Alert {
                timestamp: 1_700_000_000_123_000_000,
                kind: kind.into(),
                severity: Severity::Critical,
                state,
                series: Series::new("dev").with_tag("port", "a"),
                labels: vec![("field".into(), "temperature".into())],
                value: Some(95.5),
                score: None,
                description: "hot".into(),
            },
            component: "detect".into(),
            plugin: "builtin:threshold".into(),
        }
    }

    #[test]
    fn fingerprint_ignores_state_and_separates_kinds() {
        let firing = alert("threshold", AlertState::Firing);
        let resolved = alert("threshold", AlertState::Resolved);
        assert_eq!(firing.fingerprint(), resolved.fingerprint());
        assert_ne!(
            firing.fingerprint(),
            alert("zscore", AlertState::Firing).fingerprint()
        );
        let mut voltage = alert("threshold", AlertState::Firing);
        voltage.labels = vec![("field".into(), "voltage".into())];
        assert_ne!(
            firing.fingerprint(),
            voltage.fingerprint(),
            "labels tell rules apart"
        );
    }

    #[test]
    fn written_json_is_the_same_as_the_json_value() {
        let mut odd = alert("zscore", AlertState::Resolved);
        odd.labels = vec![
            ("z".into(), "1".into()),
            ("a".into(), "\"quoted\"\n".into()),
            ("z".into(), "2".into()),
        ];
        odd.series = Series::new("dev").with_tag("port", "a").with_tag("b", "ü");
        odd.value = Some(f64::NAN);
        odd.score = Some(3.25);
        for alert in [alert("threshold", AlertState::Firing), odd] {
            let mut written = String::new();
            alert.write_json(&mut written);
            assert_eq!(written, alert.to_json().to_string());
        }
    }

    #[test]
    fn json_is_a_superset_of_the_seed_report_record() {
        let json = alert("threshold", AlertState::Firing).to_json();
        assert_eq!(json["timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(json["type"], "threshold");
        assert_eq!(json["severity"], "critical");
        assert_eq!(json["description"], "hot");
        assert_eq!(json["tags"]["port"], "a");
    }
}
