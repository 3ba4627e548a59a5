//! Key patterns inferred from key names: `user:*:feed`, `session:*`,
//! `cache:product:*`.
//!
//! Two steps. First each key is tokenized on the separators people use
//! (`:`, `/`, `|`, `#`, and inside a token `.`, `-`, `_`), and tokens that
//! look like identifiers (numbers, UUIDs, hex or base64 ids, IPs, e-mails,
//! long digit suffixes) become `*`. Then the tokens go into a prefix trie
//! whose nodes fold their children into one `*` child once they have more
//! distinct children than [`FANOUT`]: a position where values keep varying
//! is a variable, whatever it looks like (`user:alice:feed`,
//! `user:bob:feed` … become `user:*:feed`). The trie is bounded: fan-out is
//! capped per node and the total node count is capped, after which new keys
//! are counted at the deepest existing prefix.

use std::collections::BTreeMap;

/// Distinct children a trie node keeps before they are folded into `*`.
pub const FANOUT: usize = 48;
/// Nodes the whole trie may hold; past it, keys stop at known prefixes.
pub const MAX_NODES: usize = 200_000;

/// Statistics of a set of keys (a pattern, a type, the whole keyspace).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Keys.
    pub keys: u64,
    /// Estimated memory (MEMORY USAGE) in bytes.
    pub memory_bytes: u64,
    /// Bytes in the RDB file.
    pub serialized_bytes: u64,
    /// Keys with an expiry.
    pub keys_with_ttl: u64,
    /// Memory of keys with an expiry.
    pub memory_with_ttl: u64,
    /// Keys per type.
    pub types: BTreeMap<String, u64>,
    /// The largest member by memory: (memory, db, key as shown).
    pub largest: Option<(u64, u64, String)>,
    /// Memory of cold keys (idle a day or more, or LFU counter below its start value).
    #[serde(default)]
    pub cold_memory: u64,
}

impl Stats {
    /// Adds one key.
    pub fn add(&mut self, k: &KeyFacts<'_>) {
        self.keys += 1;
        self.memory_bytes += k.memory;
        self.serialized_bytes += k.serialized;
        if k.ttl {
            self.keys_with_ttl += 1;
            self.memory_with_ttl += k.memory;
        }
        if k.cold {
            self.cold_memory += k.memory;
        }
        if let Some(c) = self.types.get_mut(k.type_name) {
            *c += 1;
        } else {
            self.types.insert(k.type_name.to_string(), 1);
        }
        // Largest by memory; on a tie the smaller (db, key) wins, so the
        // result does not depend on arrival order.
        let bigger = match &self.largest {
            None => true,
            Some((m, db, key)) => {
                k.memory > *m || (k.memory == *m && (k.db, (k.shown)()) < (*db, key.clone()))
            }
        };
        if bigger {
            self.largest = Some((k.memory, k.db, (k.shown)()));
        }
    }

    /// Adds another set's statistics.
    pub fn merge(&mut self, o: &Stats) {
        self.keys += o.keys;
        self.memory_bytes += o.memory_bytes;
        self.serialized_bytes += o.serialized_bytes;
        self.keys_with_ttl += o.keys_with_ttl;
        self.memory_with_ttl += o.memory_with_ttl;
        self.cold_memory += o.cold_memory;
        for (t, n) in &o.types {
            *self.types.entry(t.clone()).or_default() += n;
        }
        if let Some((m, db, key)) = &o.largest {
            let bigger = match &self.largest {
                None => true,
                Some((sm, sdb, skey)) => {
                    (*m, std::cmp::Reverse((*db, key.as_str())))
                        > (*sm, std::cmp::Reverse((*sdb, skey.as_str())))
                }
            };
            if bigger {
                self.largest = Some((*m, *db, key.clone()));
            }
        }
    }

    /// Share of keys with an expiry, 0–1.
    pub fn ttl_coverage(&self) -> f64 {
        ratio(self.keys_with_ttl, self.keys)
    }

    /// Share of memory held by keys with an expiry, 0–1.
    pub fn ttl_coverage_bytes(&self) -> f64 {
        ratio(self.memory_with_ttl, self.memory_bytes)
    }
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// What the pattern table needs to know about one key.
#[derive(Clone, Copy)]
pub struct KeyFacts<'k> {
    /// Database.
    pub db: u64,
    /// Formats the key as it may be shown (escaped or redacted); called
    /// only when the key becomes a pattern's largest member.
    pub shown: &'k dyn Fn() -> String,
    /// `TYPE`.
    pub type_name: &'k str,
    /// Estimated memory.
    pub memory: u64,
    /// Bytes in the file.
    pub serialized: u64,
    /// Has an expiry.
    pub ttl: bool,
    /// Cold: idle for a day or more (LRU dumps) or an LFU counter of 0.
    pub cold: bool,
}

/// The separators between pattern tokens.
fn is_sep(c: char) -> bool {
    matches!(c, ':' | '/' | '|' | '#')
}

/// The normalized pattern of a key: tokens split on `:` `/` `|` `#`, with
/// identifier-like parts as `*` (`user:42:feed` → `user:*:feed`). Built in
/// one buffer: this runs once per key, in the parallel workers.
pub fn normalize_key(key: &[u8]) -> String {
    // Patterns are shown like keys: printable UTF-8 as is, other bytes as
    // `\xNN`, so a binary key cannot put control bytes on a terminal.
    let text = crate::escape::escape_key(key);
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_sep(c) {
            normalize(&text[start..i], &mut out);
            out.push(c);
            start = i + 1;
        }
    }
    normalize(&text[start..], &mut out);
    out
}

/// Splits a key into pattern tokens, each ending with the separator that
/// followed it (the last has none), with identifier-like parts as `*`.
pub fn tokenize(key: &[u8]) -> Vec<String> {
    split_pattern(&normalize_key(key))
        .map(str::to_string)
        .collect()
}

fn normalize(token: &str, out: &mut String) {
    if is_identifier(token) {
        out.push('*');
    } else if token.contains(['.', '-', '_']) {
        // Inside a token, `.`, `-` and `_` separate words and ids
        // (`user_42`, `cart-v2-1234`).
        let mut start = 0;
        for (i, c) in token.char_indices() {
            if matches!(c, '.' | '-' | '_') {
                sub(&token[start..i], out);
                out.push(c);
                start = i + 1;
            }
        }
        sub(&token[start..], out);
    } else {
        sub(token, out);
    }
}

fn sub(t: &str, out: &mut String) {
    if is_identifier(t) {
        out.push('*');
        return;
    }
    // A word with a long numeric tail (`order12345`, `u42017`) names one of
    // many: keep the word, vary the number.
    let digits = t.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits >= 3 && digits < t.len() {
        out.push_str(&t[..t.len() - digits]);
        out.push('*');
    } else {
        out.push_str(t);
    }
}

/// True for tokens that identify one thing among many.
pub fn is_identifier(t: &str) -> bool {
    let b = t.as_bytes();
    if b.is_empty() {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    // Numbers, including signed and decimal ones, and dates like 2024-06-11.
    if digits > 0
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'+' | b'T' | b'Z' | b':'))
        && b[0] != b'.'
    {
        return true;
    }
    if t.contains('@') && t.contains('.') {
        return true; // e-mail
    }
    let hex = b.iter().all(u8::is_ascii_hexdigit);
    if hex && b.len() >= 8 && digits > 0 {
        return true; // hashes, object ids
    }
    // UUIDs and other dashed hex ids.
    if b.len() >= 32 && b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-') && digits > 0 {
        return true;
    }
    // Random tokens (base64 / url-safe): long, mixed letters and digits.
    let alnum = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'=' | b'-' | b'_'));
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    alnum
        && b.len() >= 16
        && digits > 0
        && (upper || lower)
        && (upper && lower || digits * 4 >= b.len())
}

#[derive(Debug, Default, Clone)]
struct Node {
    children: BTreeMap<String, usize>,
    /// Keys ending exactly here.
    here: Option<Stats>,
}

/// A bounded prefix trie of key patterns.
#[derive(Debug, Clone)]
pub struct PatternTable {
    nodes: Vec<Node>,
    /// Keys that arrived after the node cap and stopped at a prefix.
    pub truncated_keys: u64,
}

impl Default for PatternTable {
    fn default() -> Self {
        PatternTable {
            nodes: vec![Node::default()],
            truncated_keys: 0,
        }
    }
}

impl PatternTable {
    /// Counts a key.
    pub fn add(&mut self, key: &[u8], facts: &KeyFacts<'_>) {
        self.add_normalized(&normalize_key(key), facts);
    }

    /// Counts a key by its [`normalize_key`] pattern.
    pub fn add_normalized(&mut self, pattern: &str, facts: &KeyFacts<'_>) {
        self.add_tokens(split_pattern(pattern), |s| s.add(facts));
    }

    fn add_tokens<'t>(
        &mut self,
        tokens: impl Iterator<Item = &'t str>,
        update: impl FnOnce(&mut Stats),
    ) {
        let mut at = 0usize;
        for t in tokens {
            let node = &self.nodes[at];
            let next = node
                .children
                .get(t)
                .copied()
                .or_else(|| node.children.get(wildcard_like(t)).copied());
            at = match next {
                Some(n) => n,
                None => {
                    if self.nodes.len() >= MAX_NODES {
                        self.truncated_keys += 1;
                        break;
                    }
                    let id = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[at].children.insert(t.to_string(), id);
                    if self.nodes[at].children.len() > FANOUT {
                        self.fold(at);
                        // The new child was folded into `*`; follow it.
                        match self.nodes[at].children.get(wildcard_like(t)) {
                            Some(&n) => n,
                            None => return,
                        }
                    } else {
                        id
                    }
                }
            };
        }
        update(self.nodes[at].here.get_or_insert_with(Stats::default));
    }

    /// Folds all children of `at` into `*` children (one per separator).
    fn fold(&mut self, at: usize) {
        let kids = std::mem::take(&mut self.nodes[at].children);
        for (tok, id) in kids {
            let star = wildcard_like(&tok);
            match self.nodes[at].children.get(star).copied() {
                Some(existing) if existing != id => self.merge_into(existing, id),
                Some(_) => {}
                None => {
                    self.nodes[at].children.insert(star.to_string(), id);
                }
            }
        }
    }

    /// Merges subtree `from` into subtree `into` (both node ids).
    fn merge_into(&mut self, into: usize, from: usize) {
        if let Some(h) = self.nodes[from].here.take() {
            self.nodes[into]
                .here
                .get_or_insert_with(Stats::default)
                .merge(&h);
        }
        let kids = std::mem::take(&mut self.nodes[from].children);
        for (tok, id) in kids {
            let existing = self.nodes[into]
                .children
                .get(&tok)
                .copied()
                .or_else(|| self.nodes[into].children.get(wildcard_like(&tok)).copied());
            match existing {
                Some(e) => self.merge_into(e, id),
                None => {
                    self.nodes[into].children.insert(tok, id);
                    if self.nodes[into].children.len() > FANOUT {
                        self.fold(into);
                    }
                }
            }
        }
    }

    /// Adds a pattern with its statistics (from another table or a saved
    /// report).
    pub fn add_pattern(&mut self, pattern: &str, stats: &Stats) {
        self.add_tokens(split_pattern(pattern), |s| s.merge(stats));
    }

    /// The pattern of this table that `pattern` falls into, following
    /// literal tokens where they exist and `*` where they were folded.
    pub fn resolve(&self, pattern: &str) -> Option<String> {
        let mut at = 0usize;
        let mut path = String::new();
        for tok in split_pattern(pattern) {
            let n = &self.nodes[at];
            let (t, id) = match n.children.get_key_value(tok) {
                Some((t, &id)) => (t.clone(), id),
                None => {
                    let w = wildcard_like(tok);
                    let id = *n.children.get(w)?;
                    (w.to_string(), id)
                }
            };
            path.push_str(&t);
            at = id;
        }
        self.nodes[at].here.as_ref().map(|_| path)
    }

    /// Merges another table.
    pub fn merge(&mut self, other: &PatternTable) {
        for (p, s) in other.patterns() {
            self.add_pattern(&p, &s);
        }
        self.truncated_keys += other.truncated_keys;
    }

    /// Every pattern with its statistics, largest memory first (ties by
    /// pattern text, so output is stable).
    pub fn patterns(&self) -> Vec<(String, Stats)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, String::new())];
        while let Some((id, prefix)) = stack.pop() {
            let n = &self.nodes[id];
            if let Some(h) = &n.here {
                out.push((prefix.clone(), h.clone()));
            }
            for (tok, &c) in &n.children {
                stack.push((c, format!("{prefix}{tok}")));
            }
        }
        out.sort_by(|a, b| {
            b.1.memory_bytes
                .cmp(&a.1.memory_bytes)
                .then_with(|| a.0.cmp(&b.0))
        });
        out
    }
}

/// Splits a pattern back into its tokens (each with its separator).
fn split_pattern(pattern: &str) -> impl Iterator<Item = &str> {
    // `a:b` → `a:`, `b`; a pattern ending in a separator (or empty) has an
    // empty last token, as its key had, so both spellings reach one node.
    let tail = (pattern.is_empty() || pattern.ends_with(is_sep)).then_some("");
    pattern.split_inclusive(is_sep).chain(tail)
}

/// The `*` token that stands for `tok` (keeping its separator).
fn wildcard_like(tok: &str) -> &'static str {
    match tok.chars().last() {
        Some(':') => "*:",
        Some('/') => "*/",
        Some('|') => "*|",
        Some('#') => "*#",
        _ => "*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(mem: u64) -> KeyFacts<'static> {
        KeyFacts {
            db: 0,
            shown: &|| "k".to_string(),
            type_name: "string",
            memory: mem,
            serialized: 1,
            ttl: false,
            cold: false,
        }
    }

    fn names(t: &PatternTable) -> Vec<(String, u64)> {
        let mut v: Vec<_> = t.patterns().into_iter().map(|(p, s)| (p, s.keys)).collect();
        v.sort();
        v
    }

    #[test]
    fn ids_become_wildcards() {
        assert_eq!(tokenize(b"user:42:feed").concat(), "user:*:feed");
        assert_eq!(
            tokenize(b"session:6f1c2a9e-3b1d-4c55-9f0e-1a2b3c4d5e6f").concat(),
            "session:*"
        );
        assert_eq!(tokenize(b"ratelimit:192.168.1.20").concat(), "ratelimit:*");
        assert_eq!(tokenize(b"cache:product:1054").concat(), "cache:product:*");
        assert_eq!(tokenize(b"mail:bob@example.com").concat(), "mail:*");
        assert_eq!(tokenize(b"obj:5f2b9c1d8e7a").concat(), "obj:*");
        assert_eq!(tokenize(b"tok:Zx81KqPl02mNbVc7").concat(), "tok:*");
        assert_eq!(tokenize(b"order_12345").concat(), "order_*");
        assert_eq!(tokenize(b"leaderboard").concat(), "leaderboard");
        assert_eq!(tokenize(b"queue:jobs").concat(), "queue:jobs");
        assert_eq!(tokenize(b"day:2024-06-11:visits").concat(), "day:*:visits");
    }

    #[test]
    fn varying_words_fold_into_a_wildcard() {
        let mut t = PatternTable::default();
        for i in 0..200 {
            let name = format!(
                "user:name{}x:feed",
                char::from(b'a' + (i % 26) as u8)
                    .to_string()
                    .repeat(1 + i / 26)
            );
            t.add(name.as_bytes(), &facts(10));
        }
        t.add(b"config", &facts(5));
        assert_eq!(
            names(&t),
            vec![("config".into(), 1), ("user:*:feed".into(), 200)]
        );
    }

    #[test]
    fn few_literal_namespaces_stay_apart() {
        let mut t = PatternTable::default();
        for i in 0..100 {
            t.add(format!("session:{i}").as_bytes(), &facts(1));
            t.add(format!("cache:product:{i}").as_bytes(), &facts(2));
        }
        t.add(b"queue:jobs", &facts(3));
        assert_eq!(
            names(&t),
            vec![
                ("cache:product:*".into(), 100),
                ("queue:jobs".into(), 1),
                ("session:*".into(), 100)
            ]
        );
    }

    #[test]
    fn merging_tables_equals_one_table() {
        let keys: Vec<String> = (0..500)
            .map(|i| format!("k{}:v{}:x", i % 97, i % 5))
            .collect();
        let mut whole = PatternTable::default();
        let (mut a, mut b) = (PatternTable::default(), PatternTable::default());
        for (i, k) in keys.iter().enumerate() {
            whole.add(k.as_bytes(), &facts(i as u64));
            if i % 2 == 0 {
                a.add(k.as_bytes(), &facts(i as u64))
            } else {
                b.add(k.as_bytes(), &facts(i as u64))
            }
        }
        a.merge(&b);
        assert_eq!(names(&a), names(&whole));
        let total = |t: &PatternTable| t.patterns().iter().map(|p| p.1.memory_bytes).sum::<u64>();
        assert_eq!(total(&a), total(&whole));
    }
}
