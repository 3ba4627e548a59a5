//! Bounded top-N lists: the biggest keys by memory or by element count.
//! Ties break on (db, key) so the list is the same whatever order keys
//! arrive in, which keeps parallel runs and merges deterministic.

/// One key in a top-N list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct TopKey {
    /// Database.
    pub db: u64,
    /// Key as shown (escaped or redacted).
    pub key: String,
    /// `TYPE`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `OBJECT ENCODING`.
    pub encoding: String,
    /// Element count.
    pub elements: Option<u64>,
    /// Estimated memory.
    pub memory_bytes: u64,
    /// Absolute expiry, Unix ms.
    pub expire_at_ms: Option<i64>,
}

/// Keeps the `cap` largest items by a score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopN {
    cap: usize,
    items: Vec<(u64, TopKey)>,
}

impl TopN {
    /// An empty list keeping at most `cap` items.
    pub fn new(cap: usize) -> TopN {
        TopN {
            cap,
            items: Vec::new(),
        }
    }

    fn better(a: &(u64, TopKey), b: &(u64, TopKey)) -> std::cmp::Ordering {
        b.0.cmp(&a.0)
            .then_with(|| (a.1.db, &a.1.key).cmp(&(b.1.db, &b.1.key)))
    }

    /// The smallest score still kept, when full.
    pub fn floor(&self) -> Option<u64> {
        (self.items.len() >= self.cap)
            .then(|| self.items.last().map(|i| i.0))
            .flatten()
    }

    /// Whether an item would enter: above the floor, or on it and before
    /// the last item's (db, key). `key` (the shown name) is asked for only
    /// on a tie, so a key that does not enter is not formatted.
    pub fn admits<'k>(&self, score: u64, db: u64, key: impl FnOnce() -> &'k [u8]) -> bool {
        if self.cap == 0 {
            return false;
        }
        match self.items.get(self.cap - 1) {
            None => true,
            Some((floor, last)) => {
                score > *floor || (score == *floor && (db, key()) < (last.db, last.key.as_bytes()))
            }
        }
    }

    /// Offers an item; cheap to reject when it is below the floor.
    pub fn offer(&mut self, score: u64, item: impl FnOnce() -> TopKey) {
        if self.cap == 0 || self.floor().is_some_and(|f| score < f) {
            return;
        }
        let it = (score, item());
        let pos = self
            .items
            .binary_search_by(|x| Self::better(x, &it))
            .unwrap_or_else(|p| p);
        self.items.insert(pos, it);
        self.items.truncate(self.cap);
    }

    /// Merges another list.
    pub fn merge(&mut self, o: &TopN) {
        for (s, k) in &o.items {
            self.offer(*s, || k.clone());
        }
    }

    /// The same list with every key passed through `f` (re-sorted, since
    /// ties are ordered by key).
    pub fn map_keys(&self, f: &dyn Fn(&str) -> String) -> TopN {
        let mut t = TopN::new(self.cap);
        for (s, k) in &self.items {
            t.offer(*s, || TopKey {
                key: f(&k.key),
                ..k.clone()
            });
        }
        t
    }

    /// Items, best first.
    pub fn items(&self) -> impl Iterator<Item = &TopKey> {
        self.items.iter().map(|i| &i.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(key: &str, mem: u64) -> TopKey {
        TopKey {
            db: 0,
            key: key.into(),
            type_name: "string".into(),
            encoding: "raw".into(),
            elements: None,
            memory_bytes: mem,
            expire_at_ms: None,
        }
    }

    #[test]
    fn keeps_the_largest_with_stable_ties() {
        let mut t = TopN::new(2);
        for (key, m) in [("a", 5), ("b", 9), ("c", 9), ("d", 1)] {
            t.offer(m, || k(key, m));
        }
        let got: Vec<_> = t.items().map(|i| i.key.as_str()).collect();
        assert_eq!(got, ["b", "c"]);
        let mut u = TopN::new(2);
        u.offer(10, || k("z", 10));
        t.merge(&u);
        let got: Vec<_> = t.items().map(|i| i.key.as_str()).collect();
        assert_eq!(got, ["z", "b"]);
    }

    #[test]
    fn admits_exactly_what_offer_would_keep() {
        // Many ties on few scores, keys in scrambled order, three databases:
        // `admits` must say yes exactly when an offer changes the list, and
        // ask for the key only on a tie with the floor.
        let mut t = TopN::new(5);
        for i in 0..400u64 {
            let (score, db) = (i * 7 % 4, i % 3);
            let key = format!("k{:03}", i * 37 % 400);
            let asked = std::cell::Cell::new(false);
            let floor = t.floor();
            let yes = t.admits(score, db, || {
                asked.set(true);
                key.as_bytes()
            });
            assert_eq!(asked.get(), floor == Some(score), "key asked for {i}");
            let before = t.clone();
            t.offer(score, || TopKey {
                db,
                ..k(&key, score)
            });
            assert_eq!(yes, t != before, "offer {i}: score {score} db {db} {key}");
        }
        assert!(!TopN::new(0).admits(9, 0, || b"a"));
    }
}
