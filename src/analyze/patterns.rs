//! Key patterns inferred from key names: `user:*:feed`, `session:*`,
//! `cache:product:*`.
//!
//! Two steps. First each key is tokenized on the separators people use
//! (`:`, `/`, `|`, `#`, the braces of a cluster hash tag, and inside a token
//! `.`, `-`, `_`), and tokens that look like identifiers (numbers, UUIDs,
//! hex or base64 ids, IPs, e-mails, long digit suffixes) become `*`. Then
//! the tokens go into a prefix trie. A node with more distinct children
//! than [`FANOUT`] is a position where values keep varying, whatever they
//! look like (`user:alice:feed`, `user:bob:feed` … become `user:*:feed`):
//! its light children, each holding under 1/[`FANOUT`] of the node's keys,
//! fold into one `*` child, and later unseen values go there too. Heavy
//! children stay literal, so one many-valued family at the top level
//! (`<tenant>:orders:*`) does not swallow its neighbours (`session:*`).
//! As the node keeps growing, literals that fell below the share fold at
//! each doubling of its key count. The trie is bounded: fan-out is capped
//! per node and the total node count is capped, after which new keys are
//! counted at the deepest existing prefix.

use std::collections::BTreeMap;

use crate::fasthash::FastMap;

/// Distinct children a trie node keeps before they are folded into `*`.
pub const FANOUT: usize = 48;
/// One-key leaves under one node that are reported as one `*` pattern.
pub const LEAF_RUN: usize = 16;
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
                k.memory > *m || (k.memory == *m && (k.db, (k.shown)()) < (*db, key.as_bytes()))
            }
        };
        if bigger {
            self.largest = Some((k.memory, k.db, crate::escape::shown_string((k.shown)())));
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
    /// The key as it may be shown (escaped or redacted); made only when
    /// the key competes for a pattern's largest member.
    pub shown: &'k dyn Fn() -> &'k [u8],
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
pub fn is_sep(c: char) -> bool {
    matches!(c, ':' | '/' | '|' | '#' | '{' | '}')
}

/// The normalized pattern of a key: tokens split on `:` `/` `|` `#` `{` `}`, with
/// identifier-like parts as `*` (`user:42:feed` → `user:*:feed`). Built in
/// one buffer: this runs once per key, in the parallel workers.
pub fn normalize_key(key: &[u8]) -> String {
    // Patterns are shown like keys: printable UTF-8 as is, other bytes as
    // `\xNN`, so a binary key cannot put control bytes on a terminal.
    normalize_shown(&crate::escape::escaped(key))
}

/// [`normalize_key`] of a key already escaped.
pub fn normalize_shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    // Separators are ASCII, so every byte matching one is a char boundary.
    for (i, b) in text.bytes().enumerate() {
        if is_sep(char::from(b)) {
            normalize(&text[start..i], &mut out);
            out.push(char::from(b));
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
    if is_identifier(token) && !has_word_prefix(token) {
        out.push('*');
    } else if token.contains(['.', '-', '_']) {
        // Inside a token, `.`, `-` and `_` separate words and ids
        // (`user_42`, `cart-v2-1234`); a tail that is one id as a whole
        // (`celery-task-meta-<uuid>`) becomes one `*`.
        let mut start = 0;
        for (i, c) in token.char_indices() {
            if matches!(c, '.' | '-' | '_') {
                sub(&token[start..i], out);
                out.push(c);
                start = i + 1;
                let rest = &token[start..];
                if rest.contains(['.', '-', '_']) && is_identifier(rest) && !has_word_prefix(rest) {
                    out.push('*');
                    return;
                }
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
    // A word with a long numeric tail (`order12345`) names one of many:
    // keep the word, vary the number. A single letter before it (`u42017`,
    // `s0012345`) is part of the id.
    let digits = t.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits >= 3 && digits + 1 == t.len() {
        out.push('*');
    } else if digits >= 3 && digits < t.len() {
        out.push_str(&t[..t.len() - digits]);
        out.push('*');
    } else {
        out.push_str(t);
    }
}

/// True for `sess_<random>`, `lock-<sha1>`, `celery-task-meta-<uuid>`: a
/// lowercase word before the first `.`, `-` or `_`, which names the family
/// even when the whole token would pass for a random id. UUIDs whose first
/// group happens to be all letters are not words.
fn has_word_prefix(t: &str) -> bool {
    let Some(end) = t.find(['.', '-', '_']) else {
        return false;
    };
    let uuid = t.len() == 36 && t.bytes().filter(|&c| c == b'-').count() == 4;
    end >= 2 && !uuid && t[..end].bytes().all(|c| c.is_ascii_lowercase())
}

/// Byte classes for [`is_identifier`], one bit each.
const DIGIT: u16 = 1;
const UPPER: u16 = 1 << 1;
const LOWER: u16 = 1 << 2;
const AT: u16 = 1 << 3;
const DOT: u16 = 1 << 4;
/// Allowed in a number or a date (`-1.5e`, `2024-06-11T10:00Z`).
const NUMLIKE: u16 = 1 << 5;
const HEX: u16 = 1 << 6;
/// Hex digit or `-` (UUIDs).
const HEXDASH: u16 = 1 << 7;
/// Letter, digit or one of `+ = - _` (base64, url-safe tokens).
const ALNUM: u16 = 1 << 8;

/// The classes of every byte, built at compile time.
const CLASSES: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut m = 0;
        if c.is_ascii_digit() {
            m |= DIGIT | NUMLIKE;
        }
        if c.is_ascii_uppercase() {
            m |= UPPER;
        }
        if c.is_ascii_lowercase() {
            m |= LOWER;
        }
        if c == b'@' {
            m |= AT;
        }
        if c == b'.' {
            m |= DOT;
        }
        if matches!(c, b'-' | b'.' | b'+' | b'T' | b'Z' | b':') {
            m |= NUMLIKE;
        }
        if c.is_ascii_hexdigit() {
            m |= HEX | HEXDASH;
        }
        if c == b'-' {
            m |= HEXDASH;
        }
        if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'=' | b'-' | b'_') {
            m |= ALNUM;
        }
        t[i] = m;
        i += 1;
    }
    t
};

/// True for tokens that identify one thing among many.
pub fn is_identifier(t: &str) -> bool {
    let b = t.as_bytes();
    if b.is_empty() {
        return false;
    }
    // One pass and one table lookup a byte gather every class the tests
    // below need: this runs for each token of each key, and was the top
    // entry of `rdb`'s profile (12 %) while each byte was tested class by
    // class.
    let (mut any, mut all, mut digits) = (0u16, u16::MAX, 0usize);
    for &c in b {
        let m = CLASSES[usize::from(c)];
        any |= m;
        all &= m;
        digits += usize::from(m & DIGIT);
    }
    let (upper, lower) = (any & UPPER != 0, any & LOWER != 0);
    let (at, dot) = (any & AT != 0, any & DOT != 0);
    let (numlike, hex) = (all & NUMLIKE != 0, all & HEX != 0);
    let (hexdash, alnum) = (all & HEXDASH != 0, all & ALNUM != 0);
    // Numbers, including signed and decimal ones, and dates like 2024-06-11.
    if digits > 0 && numlike && b[0] != b'.' {
        return true;
    }
    if at && dot {
        return true; // e-mail
    }
    if hex && b.len() >= 8 && digits > 0 {
        return true; // hashes, object ids
    }
    // UUIDs and other dashed hex ids.
    if b.len() >= 32 && hexdash && digits > 0 {
        return true;
    }
    // Random tokens (base64 / url-safe): long, mixed letters and digits.
    if alnum && b.len() >= 16 && digits == 0 && upper && lower {
        // Letters only: random when the case changes often and capitals
        // are common; CamelCase words (`UserProfileCache`,
        // `XMLHttpRequestHandler`) have one capital per word.
        let changes = b
            .windows(2)
            .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
            .count();
        let capitals = b.iter().filter(|c| c.is_ascii_uppercase()).count();
        return changes * 4 >= b.len() && capitals * 5 >= b.len();
    }
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
    /// Keys at or below this node.
    keys: u64,
    /// Zero until the children were first folded; then the key count at
    /// which literal children are checked again.
    refold_at: u64,
}

/// A bounded prefix trie of key patterns.
#[derive(Debug, Clone)]
pub struct PatternTable {
    nodes: Vec<Node>,
    /// Keys that arrived after the node cap and stopped at a prefix.
    pub truncated_keys: u64,
    /// Bumped by every change of the trie's shape (a node, a fold, a first
    /// key ending at a node): what a walk's result depends on.
    shape: u64,
    /// Recent walks by pattern, each valid while `shape` is unchanged.
    walks: FastMap<Box<str>, Walk>,
    /// The walk being taken, reused.
    path: Vec<u32>,
}

/// A cached walk: the nodes a pattern passed, root to leaf, under `shape`.
#[derive(Debug, Clone)]
struct Walk {
    shape: u64,
    path: Vec<u32>,
}

/// Walks cached at most; past it the cache starts over. A dump holds few
/// patterns and many keys each, so a small cache serves almost every key.
const WALKS_CACHED: usize = 4096;

impl Default for PatternTable {
    fn default() -> Self {
        PatternTable {
            nodes: vec![Node::default()],
            truncated_keys: 0,
            shape: 0,
            walks: FastMap::default(),
            path: Vec::new(),
        }
    }
}

impl PatternTable {
    /// Counts a key.
    pub fn add(&mut self, key: &[u8], facts: &KeyFacts<'_>) {
        self.add_normalized(&normalize_key(key), facts);
    }

    /// Counts a key by its [`normalize_key`] pattern.
    ///
    /// This runs once per key on the sequential sink of `rdb`, and a trie
    /// walk compares every token against its siblings: the pattern's last
    /// walk is taken again instead while the trie kept its shape and no
    /// node on it is due to fold, which gives the same node as the walk.
    pub fn add_normalized(&mut self, pattern: &str, facts: &KeyFacts<'_>) {
        if let Some(w) = self.walks.get(pattern) {
            let due = |&id: &u32| {
                let n = &self.nodes[id as usize];
                n.refold_at != 0 && n.keys + 1 >= n.refold_at
            };
            // A walk always holds the root; under an unchanged shape its
            // leaf holds stats (a walk ends by adding them).
            let (&leaf, inner) = w.path.split_last().unwrap_or((&0, &[]));
            if w.shape == self.shape && !inner.iter().any(due) {
                for &id in &w.path {
                    self.nodes[id as usize].keys += 1;
                }
                self.nodes[leaf as usize]
                    .here
                    .get_or_insert_with(Stats::default)
                    .add(facts);
                return;
            }
        }
        let truncated = self.truncated_keys;
        self.add_tokens(split_pattern(pattern), 1, |s| s.add(facts));
        if self.truncated_keys == truncated {
            if self.walks.len() >= WALKS_CACHED {
                self.walks.clear();
            }
            match self.walks.get_mut(pattern) {
                Some(w) => {
                    w.shape = self.shape;
                    w.path.clone_from(&self.path);
                }
                None => {
                    let walk = Walk {
                        shape: self.shape,
                        path: self.path.clone(),
                    };
                    self.walks.insert(pattern.into(), walk);
                }
            }
        }
    }

    fn add_tokens<'t>(
        &mut self,
        tokens: impl Iterator<Item = &'t str>,
        keys: u64,
        update: impl FnOnce(&mut Stats),
    ) {
        let mut at = 0usize;
        self.nodes[0].keys += keys;
        self.path.clear();
        self.path.push(0);
        let mut tokens = tokens.peekable();
        while let Some(t) = tokens.next() {
            let node = &self.nodes[at];
            if node.refold_at != 0 && node.keys >= node.refold_at {
                self.fold(at);
            }
            let peek = tokens.peek().copied();
            let next = match self.lookup(at, t, peek) {
                Some(n) => n,
                None => {
                    if self.nodes[at].children.len() >= FANOUT {
                        self.fold(at);
                    }
                    match self.lookup(at, t, peek) {
                        Some(n) => n,
                        None if self.nodes.len() >= MAX_NODES => {
                            self.truncated_keys += keys;
                            break;
                        }
                        None => {
                            let id = self.nodes.len();
                            self.nodes.push(Node::default());
                            self.nodes[at].children.insert(t.to_string(), id);
                            self.shape += 1;
                            id
                        }
                    }
                }
            };
            self.nodes[next].keys += keys;
            self.path.push(next as u32);
            at = next;
        }
        if self.nodes[at].here.is_none() {
            self.shape += 1;
        }
        update(self.nodes[at].here.get_or_insert_with(Stats::default));
    }

    /// The child of `at` that token `t` (followed by `peek`) belongs to: its
    /// literal child, or, once `at` was folded, the `*` child if that has
    /// seen the same continuation. `geo:DE` does not join `*:cart` built
    /// from `<name>:cart` keys; it stays literal until it is light enough
    /// to fold with keys shaped like it.
    fn lookup(&self, at: usize, t: &str, peek: Option<&str>) -> Option<usize> {
        let n = &self.nodes[at];
        if let Some(&c) = n.children.get(t) {
            return Some(c);
        }
        // A hex id that happens to hold no digit (`aacdbdbf`) is not an
        // identifier on its own (it could be a word), but where ids of its
        // shape already vary it is one more of them.
        if n.refold_at == 0 && !is_hex_letters(t) {
            return None;
        }
        let w = *n.children.get(wildcard_like(t))?;
        let wn = &self.nodes[w];
        let fits = match peek {
            None => wn.here.is_some(),
            Some(nt) => wn.children.contains_key(nt) || wn.children.contains_key(wildcard_like(nt)),
        };
        fits.then_some(w)
    }

    /// True when subtrees `a` and `b` continue alike: both hold keys that
    /// end there, or they share a next token (or its `*`).
    fn overlaps(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.nodes[a], &self.nodes[b]);
        (a.here.is_some() && b.here.is_some())
            || a.children
                .keys()
                .any(|t| b.children.contains_key(t) || b.children.contains_key(wildcard_like(t)))
    }

    /// Folds the light children of `at` (under 1/[`FANOUT`] of its keys)
    /// into `*` children, one per separator, when they continue like the
    /// `*` child or like another light child; a light child shaped like
    /// no other stays literal (`geo:` among `<name>:` keys). If that still
    /// leaves too many children, every light child folds.
    fn fold(&mut self, at: usize) {
        self.shape += 1;
        let total = self.nodes[at].keys;
        // Below the top level, `name*` (a word with a long number,
        // `carol1042`) is one value of the varying position, however
        // common the word is.
        let light = |tok: &str, n: &Node| {
            n.keys.saturating_mul(FANOUT as u64) < total || (at != 0 && is_word_number(tok))
        };
        let kids = std::mem::take(&mut self.nodes[at].children);
        // How many light children share each continuation.
        let shape = |n: &Node| {
            (
                n.here.is_some(),
                n.children.keys().cloned().collect::<Vec<_>>(),
            )
        };
        let mut shapes: BTreeMap<_, usize> = BTreeMap::new();
        for (tok, &id) in &kids {
            if !is_wildcard(tok) && light(tok, &self.nodes[id]) {
                *shapes.entry(shape(&self.nodes[id])).or_default() += 1;
            }
        }
        let mut loose = Vec::new();
        for (tok, id) in &kids {
            let n = &self.nodes[*id];
            if is_wildcard(tok) || !light(tok, n) {
                continue;
            }
            let star = kids.get(wildcard_like(tok));
            if is_word_number(tok)
                || shapes[&shape(n)] >= 2
                || star.is_some_and(|&w| self.overlaps(*id, w))
            {
                loose.push(tok.clone());
            }
        }
        let mut kids = kids;
        for tok in loose {
            if let Some(id) = kids.remove(&tok) {
                self.join_wildcard(&mut kids, &tok, id);
            }
        }
        if kids.len() >= FANOUT {
            let all: Vec<String> = kids
                .iter()
                .filter(|(t, &id)| !is_wildcard(t) && light(t, &self.nodes[id]))
                .map(|(t, _)| t.clone())
                .collect();
            for tok in all {
                if let Some(id) = kids.remove(&tok) {
                    self.join_wildcard(&mut kids, &tok, id);
                }
            }
        }
        let node = &mut self.nodes[at];
        node.children = kids;
        node.refold_at = node.keys.max(FANOUT as u64) * 2;
    }

    /// Moves subtree `id`, the child `tok` of a node whose children are
    /// `kids`, into the `*` child for `tok`'s separator.
    fn join_wildcard(&mut self, kids: &mut BTreeMap<String, usize>, tok: &str, id: usize) {
        let star = wildcard_like(tok);
        match kids.get(star).copied() {
            Some(w) => self.merge_into(w, id),
            None => {
                kids.insert(star.to_string(), id);
            }
        }
    }

    /// Merges subtree `from` into subtree `into` (both node ids).
    fn merge_into(&mut self, into: usize, from: usize) {
        self.nodes[into].keys += std::mem::take(&mut self.nodes[from].keys);
        if let Some(h) = self.nodes[from].here.take() {
            self.nodes[into]
                .here
                .get_or_insert_with(Stats::default)
                .merge(&h);
        }
        let kids = std::mem::take(&mut self.nodes[from].children);
        for (tok, id) in kids {
            let into_node = &self.nodes[into];
            let mut existing = into_node.children.get(&tok).copied();
            if existing.is_none() && into_node.refold_at != 0 {
                existing = into_node
                    .children
                    .get(wildcard_like(&tok))
                    .copied()
                    .filter(|&w| self.overlaps(id, w));
            }
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
        self.add_tokens(split_pattern(pattern), stats.keys, |s| s.merge(stats));
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
        let mut out: BTreeMap<String, Stats> = BTreeMap::new();
        let mut stack = vec![(0usize, String::new())];
        while let Some((id, prefix)) = stack.pop() {
            let n = &self.nodes[id];
            if let Some(h) = &n.here {
                out.entry(prefix.clone()).or_default().merge(h);
            }
            // Many one-key names under one prefix (`geo:DE`, `geo:US` …)
            // are values of one variable, too few to have overflowed; at
            // the top level they are unrelated names (`config`, `lock`).
            let single = |tok: &str, c: &Node| {
                !is_wildcard(tok)
                    && c.children.is_empty()
                    && c.here.as_ref().is_some_and(|h| h.keys == 1)
            };
            let singles = n
                .children
                .iter()
                .filter(|(t, &c)| single(t, &self.nodes[c]))
                .count();
            for (tok, &c) in &n.children {
                let child = &self.nodes[c];
                // `avatar14` beside `avatar*` (a word whose longer numbers
                // were already folded) is one more value of it.
                let tok = match word_number_alias(tok) {
                    Some(a) if id != 0 && n.children.contains_key(&a) => a,
                    _ => tok.clone(),
                };
                match &child.here {
                    Some(h) if id != 0 && singles >= LEAF_RUN && single(&tok, child) => {
                        let name = format!("{prefix}{}", wildcard_like(&tok));
                        out.entry(name).or_default().merge(h);
                    }
                    _ => stack.push((c, format!("{prefix}{tok}"))),
                }
            }
        }
        let mut out: Vec<(String, Stats)> = out.into_iter().collect();
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
        Some('{') => "*{",
        Some('}') => "*}",
        _ => "*",
    }
}

/// True for `word*` tokens (with their separator): what [`sub`] makes of a
/// word with a long numeric tail.
fn is_word_number(tok: &str) -> bool {
    let t = tok.strip_suffix(is_sep).unwrap_or(tok);
    t.strip_suffix('*')
        .is_some_and(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_alphabetic()))
}

/// `word*` (with `tok`'s separator) for a token that is a word followed by
/// digits (`avatar14:` → `avatar*:`), the shape [`sub`] gives such a word
/// once its number is long.
fn word_number_alias(tok: &str) -> Option<String> {
    let (body, sep) = match tok.chars().last() {
        Some(c) if is_sep(c) => (
            &tok[..tok.len() - c.len_utf8()],
            &tok[tok.len() - c.len_utf8()..],
        ),
        _ => (tok, ""),
    };
    let word = body.trim_end_matches(|c: char| c.is_ascii_digit());
    (word.len() < body.len() && !word.is_empty() && word.bytes().all(|c| c.is_ascii_alphabetic()))
        .then(|| format!("{word}*{sep}"))
}

/// True for a token (with its separator) of eight or more hex letters and
/// no digit, in one case: what a hex id is one time in a few thousand.
fn is_hex_letters(tok: &str) -> bool {
    let t = tok.strip_suffix(is_sep).unwrap_or(tok);
    t.len() >= 8
        && (t.bytes().all(|c| matches!(c, b'a'..=b'f'))
            || t.bytes().all(|c| matches!(c, b'A'..=b'F')))
}

/// True for the `*` tokens of [`wildcard_like`].
fn is_wildcard(tok: &str) -> bool {
    tok.strip_prefix('*')
        .is_some_and(|rest| rest.is_empty() || (rest.len() == 1 && rest.chars().all(is_sep)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(mem: u64) -> KeyFacts<'static> {
        KeyFacts {
            db: 0,
            shown: &|| b"k",
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
        for (key, want) in [
            ("user:42:feed", "user:*:feed"),
            ("session:6f1c2a9e-3b1d-4c55-9f0e-1a2b3c4d5e6f", "session:*"),
            ("ratelimit:192.168.1.20", "ratelimit:*"),
            ("cache:product:1054", "cache:product:*"),
            ("mail:bob@example.com", "mail:*"),
            ("obj:5f2b9c1d8e7a", "obj:*"),
            ("tok:Zx81KqPl02mNbVc7", "tok:*"),
            ("order_12345", "order_*"),
            ("order12345", "order*"),
            ("user:u42017:feed", "user:*:feed"),
            ("blob:s0:7", "blob:s0:*"),
            ("leaderboard", "leaderboard"),
            ("queue:jobs", "queue:jobs"),
            ("day:2024-06-11:visits", "day:*:visits"),
            // A word before a random tail names the family.
            ("sess_Zx81KqPl02mNbVc7aQ", "sess_*"),
            ("sess_ZxaKqPlbmNbVcwaQhjRt", "sess_*"),
            ("lock-356a192b7913b04c54574d18c28d46e6395428ab", "lock-*"),
            (
                "celery-task-meta-6f1c2a9e-3b1d-4c55-9f0e-1a2b3c4d5e6f",
                "celery-task-meta-*",
            ),
            ("abcdefab-3b1d-4c55-9f0e-1a2b3c4d5e6f", "*"),
            ("sess_GeOJOpHVOSVEaLMraOXJBDJG", "sess_*"),
            ("UserProfileCache", "UserProfileCache"),
            ("XMLHttpRequestHandler", "XMLHttpRequestHandler"),
            // Cluster hash tags are tokens of their own.
            ("{user1042}.inbox", "{user*}.inbox"),
            ("tenant{acme}:orders:7", "tenant{acme}:orders:*"),
        ] {
            assert_eq!(tokenize(key.as_bytes()).concat(), want, "{key}");
        }
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

    /// Pronounceable names that are not identifiers: `bako`, `dume` …
    fn name(i: usize) -> String {
        let syl = ["ba", "ko", "du", "me", "ri", "sa", "lo", "vi", "ne", "tu"];
        format!("{}{}{}", syl[i % 10], syl[i / 10 % 10], syl[i / 100 % 10])
    }

    #[test]
    fn a_family_of_names_does_not_swallow_its_neighbours() {
        let mut t = PatternTable::default();
        for i in 0..300 {
            t.add(format!("{}:cart", name(i)).as_bytes(), &facts(10));
            t.add(format!("session:{i}").as_bytes(), &facts(1));
        }
        // Families that first appear after the top level has folded.
        for c in ["DE", "US", "FR", "JP", "BR", "IN", "CN", "GB", "IT", "ES"] {
            t.add(format!("geo:{c}").as_bytes(), &facts(1));
            t.add(format!("geo:{}", c.to_lowercase()).as_bytes(), &facts(1));
        }
        t.add(b"queue:mail", &facts(1));
        t.add(b"queue:sms", &facts(1));
        t.add(b"config", &facts(1));
        assert_eq!(
            names(&t),
            vec![
                ("*:cart".into(), 300),
                ("config".into(), 1),
                ("geo:*".into(), 20),
                ("queue:mail".into(), 1),
                ("queue:sms".into(), 1),
                ("session:*".into(), 300),
            ]
        );
    }

    #[test]
    fn heavy_literals_survive_a_fold() {
        let mut t = PatternTable::default();
        for i in 0..2000 {
            // One common tenant and many rare ones.
            let tenant = if i % 2 == 0 {
                "acme".to_string()
            } else {
                name(i)
            };
            t.add(format!("t:{tenant}:orders:{i}").as_bytes(), &facts(1));
        }
        assert_eq!(
            names(&t),
            vec![
                ("t:*:orders:*".into(), 1000),
                ("t:acme:orders:*".into(), 1000)
            ]
        );
    }

    #[test]
    fn words_with_numbers_below_the_top_fold_together() {
        let mut t = PatternTable::default();
        for i in 0..600 {
            let user = format!("{}{}", ["carol", "bob", "erin"][i % 3], i / 3);
            t.add(format!("user:{user}:settings").as_bytes(), &facts(1));
        }
        assert_eq!(names(&t), vec![("user:*:settings".into(), 600)]);
    }

    /// Random keys over an alphabet rich in separators, wildcard-prone
    /// tokens and repeats: folding and merging never lose or invent a key,
    /// and every pattern resolves to itself.
    #[test]
    fn folding_conserves_keys_on_random_names() {
        let alphabet = b"ab:{}/_-.#|0123456789xyzQWE@";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut t = PatternTable::default();
        let (mut a, mut b) = (PatternTable::default(), PatternTable::default());
        let n = 20_000u64;
        for i in 0..n {
            let len = 1 + next() % 24;
            let key: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            t.add(&key, &facts(1 + i % 7));
            if i % 3 == 0 { &mut a } else { &mut b }.add(&key, &facts(1 + i % 7));
        }
        let pats = t.patterns();
        assert_eq!(
            pats.iter().map(|p| p.1.keys).sum::<u64>() + t.truncated_keys,
            n
        );
        for (p, _) in &pats {
            assert_eq!(t.resolve(p).as_deref(), Some(p.as_str()), "{p}");
        }
        a.merge(&b);
        let merged = a.patterns();
        assert_eq!(
            merged.iter().map(|p| p.1.keys).sum::<u64>() + a.truncated_keys,
            n
        );
        let mem = |v: &[(String, Stats)]| v.iter().map(|p| p.1.memory_bytes).sum::<u64>();
        assert_eq!(mem(&merged), mem(&pats));
    }

    /// The walk cache gives the table a key would have built without it:
    /// hot patterns repeat (cache hits) while new names keep changing the
    /// trie's shape and its nodes reach their refold points.
    #[test]
    fn cached_walks_build_the_same_table_as_walking() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let words = ["user", "session", "cart", "geo", "feed", "lock", "q"];
        let (mut cached, mut walked) = (PatternTable::default(), PatternTable::default());
        let mut hits = 0;
        for i in 0..60_000u64 {
            let r = next();
            let key = match r % 10 {
                // A few hot shapes.
                0..=5 => format!("{}:{}:{}", words[(r >> 8) as usize % 3], r >> 20, words[4]),
                // Literal names that arrive slowly, then fold.
                6..=8 => format!(
                    "{}:{}",
                    words[(r >> 8) as usize % words.len()],
                    (r >> 16) % 997
                ),
                _ => format!("n{}x:{}", (r >> 12) % 50_000, words[(r >> 4) as usize % 7]),
            };
            let f = facts(1 + i % 13);
            let pattern = normalize_key(key.as_bytes());
            hits += usize::from(
                cached
                    .walks
                    .get(pattern.as_str())
                    .is_some_and(|w| w.shape == cached.shape),
            );
            cached.add_normalized(&pattern, &f);
            walked.add_tokens(split_pattern(&pattern), 1, |s| s.add(&f));
        }
        assert!(hits > 30_000, "{hits} cached walks taken");
        assert_eq!(cached.truncated_keys, walked.truncated_keys);
        assert_eq!(
            format!("{:?}", cached.patterns()),
            format!("{:?}", walked.patterns())
        );
    }

    /// A node due to refold is refolded even when only cached walks pass
    /// it: names that stayed literal after the first fold (`m3x:b`, shaped
    /// like no `*` child then) join a `*` once hot keys bring the root to
    /// its refold point.
    #[test]
    fn cached_walks_refold_nodes_they_pass() {
        let mut t = PatternTable::default();
        let f = facts(1);
        let mut add = |key: String| t.add_normalized(&normalize_key(key.as_bytes()), &f);
        for i in 0..60 {
            add(format!("w{i}x:a"));
        }
        for i in 0..20 {
            add(format!("m{i}x:b"));
        }
        for i in 0..10_000 {
            add(format!("user:{}:feed", 1000 + i));
        }
        let pats: Vec<String> = t.patterns().into_iter().map(|p| p.0).collect();
        assert!(pats.contains(&"*:b".to_string()), "{pats:?}");
        assert!(!pats.iter().any(|p| p.starts_with("m1")), "{pats:?}");
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

    #[test]
    fn short_numbered_words_join_their_folded_word() {
        // A few names, each with two short numbers (kept literal) and 30
        // long ones (`avatar*` from the start).
        let mut t = PatternTable::default();
        for (k, name) in ["alice", "bob", "carol"].into_iter().enumerate() {
            let long = (0..30).map(|i| 100 + 40 * k + i);
            for i in [k + 5, k + 20].into_iter().chain(long) {
                t.add(format!("user:{name}:avatar{i}").as_bytes(), &facts(10));
            }
        }
        let got = names(&t);
        assert_eq!(
            got,
            vec![
                ("user:alice:avatar*".to_string(), 32),
                ("user:bob:avatar*".to_string(), 32),
                ("user:carol:avatar*".to_string(), 32),
            ]
        );
        assert_eq!(word_number_alias("avatar14:"), Some("avatar*:".to_string()));
        assert_eq!(word_number_alias("avatar"), None);
        assert_eq!(word_number_alias("14"), None);
        assert_eq!(word_number_alias("a-1"), None);
    }

    #[test]
    fn hex_ids_without_a_digit_join_the_ids_beside_them() {
        let mut t = PatternTable::default();
        // 8-digit hex ids from a multiplicative hash; about one in 2600 has
        // no digit, and these are added among them.
        for i in 0..3000u32 {
            let id = i.wrapping_mul(0x9E37_79B1);
            t.add(format!("render:reco:{id:08x}").as_bytes(), &facts(10));
        }
        for id in ["aacdbdbf", "fedcbaab", "bbbbcccc"] {
            t.add(format!("render:reco:{id}").as_bytes(), &facts(10));
        }
        // Where no id varies, such a token is a name and stays literal,
        // as does a shorter one beside the ids.
        t.add(b"flags:deadbeef", &facts(10));
        t.add(b"render:reco:cafe", &facts(10));
        assert_eq!(
            names(&t),
            vec![
                ("flags:deadbeef".to_string(), 1),
                ("render:reco:*".to_string(), 3003),
                ("render:reco:cafe".to_string(), 1),
            ]
        );
        assert!(is_hex_letters("aacdbdbf:"));
        assert!(!is_hex_letters("aacdbdb"));
        assert!(!is_hex_letters("aacdBdbf"));
        assert!(!is_hex_letters("aacdbdb1"));
    }
}
