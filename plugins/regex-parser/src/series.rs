//! The series of each record, from its measurement and tag values: interned
//! once per call and per distinct set of values. A record costs a
//! comparison with the few series met last, or one hash lookup, and no
//! allocation.

use std::collections::HashMap;

use foghorn_plugin::{Output, Series, SeriesId};

/// Series met last, compared before hashing: a handful of devices
/// interleaved in a batch is the common case.
const RECENT: usize = 8;

/// Series met in one call, by their values.
#[derive(Debug, Default)]
pub(crate) struct SeriesCache {
    /// The current record's values, encoded: each one as a presence byte,
    /// then its length and bytes.
    key: Vec<u8>,
    /// Keys and series met last; `next` is the one to replace.
    recent: Vec<(Vec<u8>, SeriesId)>,
    next: usize,
    ids: HashMap<Vec<u8>, SeriesId>,
}

impl SeriesCache {
    /// Forget every series: ids are valid for one call's output only.
    pub(crate) fn begin(&mut self) {
        self.ids.clear();
        self.recent.clear();
        self.next = 0;
    }

    /// The series of `base` renamed to `measurement` (when given) with the
    /// tags `(name, value)` that have a non-empty value.
    pub(crate) fn id<'a>(
        &mut self,
        out: &mut Output,
        base: &Series,
        measurement: Option<&str>,
        tags: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone,
    ) -> SeriesId {
        self.key.clear();
        for value in std::iter::once(measurement).chain(tags.clone().map(|(_, value)| value)) {
            match value.filter(|v| !v.is_empty()) {
                None => self.key.push(0),
                Some(text) => {
                    self.key.push(1);
                    self.key
                        .extend_from_slice(&u64::try_from(text.len()).unwrap_or(0).to_le_bytes());
                    self.key.extend_from_slice(text.as_bytes());
                }
            }
        }
        if let Some((_, id)) = self.recent.iter().find(|(key, _)| same(key, &self.key)) {
            return *id;
        }
        let id = match self.ids.get(self.key.as_slice()) {
            Some(id) => *id,
            None => {
                let mut series = base.clone();
                if let Some(name) = measurement.filter(|m| !m.is_empty()) {
                    name.clone_into(&mut series.name);
                }
                for (name, value) in tags {
                    if let Some(value) = value.filter(|v| !v.is_empty()) {
                        series.set_tag(name, value);
                    }
                }
                let id = out.series_id(&series);
                self.ids.insert(self.key.clone(), id);
                id
            }
        };
        if self.recent.len() < RECENT {
            self.recent.push((self.key.clone(), id));
        } else {
            let (key, slot) = &mut self.recent[self.next];
            key.clone_from(&self.key);
            *slot = id;
            self.next = (self.next + 1) % RECENT;
        }
        id
    }
}

/// Whether `a` and `b` are equal, compared inline eight bytes at a time
/// (`==` on slices calls `memcmp`, in WebAssembly a byte loop behind a
/// call).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    let mut chunks = a.chunks_exact(8).zip(b.chunks_exact(8));
    if !chunks.all(|(x, y)| word(x) == word(y)) {
        return false;
    }
    let tail = a.len() - a.len() % 8;
    a[tail..]
        .iter()
        .zip(&b[tail..])
        .fold(true, |equal, (x, y)| equal & (x == y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_a_series_and_values_do_not_run_together() {
        let mut cache = SeriesCache::default();
        let mut out = Output::default();
        let base = Series::new("m").with_tag("site", "lab");
        cache.begin();
        let mut id = |m: Option<&str>, a: Option<&str>, b: Option<&str>| {
            cache.id(&mut out, &base, m, [("a", a), ("b", b)].into_iter())
        };
        let first = id(None, Some("x"), Some("y"));
        assert_eq!(id(None, Some("x"), Some("y")), first);
        let other = id(None, Some("xy"), None);
        assert_ne!(other, first);
        assert_ne!(id(None, Some("x"), Some("")), id(None, Some(""), Some("x")));
        assert_eq!(id(None, Some("x"), Some("")), id(None, Some("x"), None));
        // More series than are kept as recent: found again by their hash.
        let many: Vec<SeriesId> = (0..20)
            .map(|i| id(None, Some(&format!("host-{i}")), None))
            .collect();
        for (i, want) in many.iter().enumerate() {
            assert_eq!(id(None, Some(&format!("host-{i}")), None), *want);
        }
        assert_eq!(
            id(None, Some("x"), Some("y")),
            first,
            "found again after others"
        );
        let renamed = id(Some("n"), Some("x"), Some("y"));
        out.point_of(1, renamed).field("v", 1.0);
        out.point_of(2, first).field("v", 1.0);
        let points = out.into_points();
        assert_eq!(
            points.get(0).unwrap().series(),
            &Series::new("n")
                .with_tag("site", "lab")
                .with_tag("a", "x")
                .with_tag("b", "y")
        );
        assert_eq!(points.get(1).unwrap().series().name, "m");
        assert_eq!(points.series.len(), 25, "one series per distinct value set");
    }

    #[test]
    fn keys_compare_by_every_byte() {
        for (a, b) in [
            ("", ""),
            ("a", "a"),
            ("abcdefgh", "abcdefgh"),
            ("abcdefghij", "abcdefghij"),
        ] {
            assert!(same(a.as_bytes(), b.as_bytes()));
        }
        for (a, b) in [
            ("a", ""),
            ("a", "b"),
            ("abcdefgh", "abcdefgx"),
            ("abcdefghij", "abcdefghix"),
            ("xbcdefghij", "abcdefghij"),
        ] {
            assert!(!same(a.as_bytes(), b.as_bytes()), "{a} {b}");
        }
    }
}
