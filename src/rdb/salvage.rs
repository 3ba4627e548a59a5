//! Reading past a corrupt record.
//!
//! RDB has no sync markers, so after a fault the only way back into the file
//! is to try offsets one by one until records parse again. A candidate offset
//! is accepted only on evidence: several consecutive records that frame and
//! whose values decode completely, with sane database numbers and expiry
//! times and key names like the file's other keys — or a record that ends
//! exactly at the EOF trailer. One lucky byte is not enough: inside a value a
//! type byte and a length turn up all the time.
//!
//! Salvage is attack surface: a hostile file could make every byte a
//! candidate that parses a long way before failing. Each candidate parses
//! within a bounded window, and every byte parsed is charged to a [`Budget`]
//! proportional to the file's size, so the total rescan work stays linear;
//! once the budget is spent the rest of the file is reported as skipped.

use super::consts::*;
use super::frame::{KeyStats, Record, Records};
use super::kind::{Kind, Magic};
use super::primitives::RdbString;
use super::profile::Profile;
use super::value::{inspect, Depth};
use super::Header;

/// Bytes a candidate may parse before its evidence is judged.
const WINDOW: usize = 1 << 20;
/// The window a candidate whose first record is larger than [`WINDOW`] may
/// grow to.
const MAX_WINDOW: usize = 64 << 20;
/// Consecutive good records that accept a candidate.
const REQUIRED: u32 = 3;
/// Key names longer than this are taken for garbage: Redis allows 512 MB
/// keys, but no real keyspace holds a name of more than a few KiB.
const MAX_KEY_LEN: usize = 64 << 10;
/// Expiry times between 1990 and 2286, in Unix milliseconds.
const EXPIRE_RANGE: std::ops::Range<i64> = 631_152_000_000..10_000_000_000_000;
/// Database numbers a server can be configured with in practice.
const MAX_DB: u64 = 1 << 16;

/// Distinct name prefixes remembered.
pub const MAX_PREFIXES: usize = 512;
/// Keys to have seen before a candidate's names must share a prefix with
/// them.
const PREFIX_EVIDENCE: u64 = 8;

/// The leading word of a key name: its bytes up to the first separator or
/// digit, at most 16. `user:1:feed` → `user`, `f00173` → `f`. Inside a hash
/// or set, field names frame exactly like string records, so a resync in the
/// middle of a damaged collection would read its fields as keys; that they
/// share no leading word with the file's keys gives them away.
pub fn name_prefix(name: &[u8]) -> &[u8] {
    let end = name
        .iter()
        .take(16)
        .position(|b| b.is_ascii_digit() || b":._-/|{}[]#@ ".contains(b))
        .unwrap_or(name.len().min(16));
    &name[..end]
}

/// True when `name`'s leading word is among the file's. A name with no
/// leading word (it starts with a digit or a brace: a numeric hash field,
/// say) says little, so it counts only in files whose names have hardly any
/// other words.
fn familiar_name(known: &std::collections::HashSet<Vec<u8>>, name: &[u8]) -> bool {
    let p = name_prefix(name);
    known.contains(p) && (!p.is_empty() || known.len() <= 2)
}

/// Bytes passed over after a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Offset of the first byte of the record that failed.
    pub from: u64,
    /// Offset where reading resumed (the file's length when it did not).
    pub to: u64,
    /// Keys the range probably held, from the mean record size of the keys
    /// read so far.
    pub keys_lost_estimate: u64,
}

impl Skipped {
    /// Length of the range.
    pub fn bytes(&self) -> u64 {
        self.to - self.from
    }
}

/// The rescan work a file may still cost, in bytes parsed.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    left: u64,
}

impl Budget {
    /// Four passes over the file plus a fixed allowance, so small files with
    /// many faults still resync.
    pub fn for_file(len: usize) -> Budget {
        Budget {
            left: (len as u64).saturating_mul(4) + (256 << 20),
        }
    }

    fn charge(&mut self, bytes: u64) -> bool {
        self.left = self.left.saturating_sub(bytes);
        self.left > 0
    }
}

/// True for names made of printable ASCII only.
pub fn printable(name: &[u8]) -> bool {
    name.iter().all(|b| (0x20..0x7f).contains(b))
}

/// The first offset after `from` where the file reads plausibly again, or
/// `None` when none is found before the end (or the budget runs out).
pub fn resync(
    data: &[u8],
    from: usize,
    magic: Magic,
    version: u32,
    db: u64,
    stats: &KeyStats,
    budget: &mut Budget,
) -> Option<usize> {
    let profile = Profile::from_header(Header { magic, version });
    let probe = Probe {
        data,
        magic,
        version,
        db,
        printable_names: stats.names_printable(),
        prefixes: (stats.keys >= PREFIX_EVIDENCE && stats.prefixes.len() < MAX_PREFIXES)
            .then_some(&stats.prefixes),
        profile,
    };
    let mut scratch = Vec::new();
    let start = from.saturating_add(1).min(data.len());
    for (p, &b) in data.iter().enumerate().skip(start) {
        if !probe.may_start(b) {
            continue;
        }
        match probe.judge(p, budget, &mut scratch) {
            Verdict::Accept => return Some(p),
            Verdict::Reject => {}
            Verdict::OutOfBudget => return None,
        }
    }
    None
}

enum Verdict {
    Accept,
    Reject,
    OutOfBudget,
}

struct Probe<'a> {
    data: &'a [u8],
    magic: Magic,
    version: u32,
    db: u64,
    printable_names: bool,
    /// The leading words of the file's names, when there are enough keys to
    /// judge by and not so many words that any would pass.
    prefixes: Option<&'a std::collections::HashSet<Vec<u8>>>,
    profile: Profile,
}

impl Probe<'_> {
    /// A cheap first test: the byte must be a type or an opcode.
    fn may_start(&self, b: u8) -> bool {
        b >= OP_SLOT_INFO
            || (self.magic == Magic::Valkey && b == OP_F2)
            || Kind::from_byte(b, self.magic).is_some_and(|k| k != Kind::ModulePreGa)
    }

    fn judge(&self, p: usize, budget: &mut Budget, scratch: &mut Vec<u8>) -> Verdict {
        let mut window = WINDOW;
        loop {
            let end = p.saturating_add(window).min(self.data.len());
            let (verdict, parsed, cut_in_first) = self.walk(p, end, scratch);
            if !budget.charge(parsed as u64 + 16) {
                return Verdict::OutOfBudget;
            }
            // A first record larger than the window gets a larger one; each
            // growth is paid for, so hostile input cannot make it free.
            if cut_in_first && window < MAX_WINDOW {
                window *= 8;
                continue;
            }
            return verdict;
        }
    }

    /// Parses records from `p` within `data[..end]`; returns the verdict,
    /// the bytes parsed, and whether the window cut the first record.
    fn walk(&self, p: usize, end: usize, scratch: &mut Vec<u8>) -> (Verdict, usize, bool) {
        let window_cut = end < self.data.len();
        let mut recs = Records::new(&self.data[..end], p, self.magic, self.version).probe(self.db);
        let mut good = 0u32;
        let mut keys = 0u32;
        let mut familiar = true;
        loop {
            let before = recs.position() as usize;
            let rec = match recs.next() {
                Some(Ok(r)) => r,
                // An empty key ends a candidate too: in unknown bytes a type
                // byte, a short name and a zero count are more often noise
                // than a record an old server wrote.
                Some(Err(e)) => {
                    let at = (e.offset as usize).max(before);
                    if e.is_truncated() && window_cut {
                        // The window ended, not the record: what parsed so
                        // far is all the evidence there is.
                        let ok = keys >= 1 && good >= 2 && familiar;
                        let v = if ok { Verdict::Accept } else { Verdict::Reject };
                        return (v, at - p, good == 0);
                    }
                    return (Verdict::Reject, at - p, false);
                }
                None => return (Verdict::Reject, before - p, false),
            };
            let parsed = recs.position() as usize - p;
            let sane = match rec {
                Record::Key(f) => {
                    keys += 1;
                    // The first key decides: a run of a damaged collection's
                    // fields always runs on into the records after it.
                    if keys == 1 {
                        familiar = match (&f.key, self.prefixes) {
                            (RdbString::Raw(k), Some(known)) => familiar_name(known, k),
                            // An integer name has no leading word either.
                            (RdbString::Int(_), Some(known)) => familiar_name(known, b""),
                            _ => true,
                        };
                    }
                    self.key_is_sane(&f.key)
                        && f.expire_ms.is_none_or(|ms| EXPIRE_RANGE.contains(&ms))
                        && inspect(&f, &self.profile, Depth::default(), scratch).is_ok()
                }
                Record::Eof { end, .. } => {
                    // The trailer where the file ends is the strongest
                    // evidence there is.
                    let v = if end as usize == self.data.len() {
                        Verdict::Accept
                    } else {
                        Verdict::Reject
                    };
                    return (v, parsed, false);
                }
                Record::SelectDb { db, .. } => db < MAX_DB,
                Record::ResizeDb { keys, expires, .. } => keys < 1 << 40 && expires <= keys,
                Record::Aux { key, .. } => {
                    matches!(key, RdbString::Raw(k) if !k.is_empty() && k.len() <= 64 && printable(k))
                }
                Record::SlotInfo { slot, .. } => slot < 16384,
                Record::ModuleAux { .. }
                | Record::Function { .. }
                | Record::ValkeyControl { .. } => true,
            };
            if !sane {
                return (Verdict::Reject, parsed, false);
            }
            good += 1;
            if good >= REQUIRED && keys >= 1 {
                let v = if familiar {
                    Verdict::Accept
                } else {
                    Verdict::Reject
                };
                return (v, parsed, false);
            }
        }
    }

    fn key_is_sane(&self, key: &RdbString<'_>) -> bool {
        match key {
            RdbString::Raw(k) => {
                // An empty name is legal but rare, and a zeroed sector reads
                // as a run of empty-named empty strings.
                !k.is_empty() && k.len() <= MAX_KEY_LEN && (!self.printable_names || printable(k))
            }
            RdbString::Int(_) => true,
            RdbString::Lzf { len, .. } => (*len as usize) <= MAX_KEY_LEN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::RdbFile;

    fn dump(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/testdata/rdb/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn key_offsets(data: &[u8]) -> Vec<u64> {
        RdbFile::parse(data)
            .unwrap()
            .records()
            .filter_map(|r| match r {
                Ok(Record::Key(f)) => Some(f.offset),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn resync_lands_on_the_next_record_after_a_smashed_one() {
        let data = dump("debian-7.0.15/all-types.rdb");
        let offsets = key_offsets(&data);
        assert!(offsets.len() > 20);
        let victim = offsets[10] as usize;
        // Key 10 is `ttl:sec:34` with an 8-byte millisecond expiry in front.
        assert_eq!(data[victim], OP_EXPIRETIME_MS);
        assert_eq!(&data[victim + 11..victim + 21], b"ttl:sec:34");
        let mut d = data.clone();
        // An opcode no server writes.
        d[victim] = 0xEE;
        let file = RdbFile::parse(&d).unwrap();
        let mut recs = file.records().salvaging();
        let mut resumed = None;
        for r in recs.by_ref() {
            if r.is_err() {
                break;
            }
        }
        if let Some(s) = recs.take_skipped() {
            resumed = Some(s);
        }
        let s = resumed.expect("a skipped range");
        assert_eq!(s.from, offsets[10]);
        // The expiry's bytes are no record, but the key behind them is: it
        // is read again, without the TTL the lost opcode announced.
        assert_eq!(s.to, offsets[10] + 9, "resumed at the key's type byte");
        assert_eq!(s.keys_lost_estimate, 1);
    }

    #[test]
    fn a_budget_spent_ends_the_search() {
        let data = vec![0u8; 4096];
        let mut budget = Budget { left: 100 };
        let stats = KeyStats::default();
        let found = resync(&data, 0, Magic::Redis, 10, 0, &stats, &mut budget);
        assert_eq!(found, None);
        assert_eq!(budget.left, 0);
    }

    #[test]
    fn leading_words_of_names() {
        assert_eq!(name_prefix(b"user:1:feed"), b"user");
        assert_eq!(name_prefix(b"f00173"), b"f");
        assert_eq!(name_prefix(b"session"), b"session");
        assert_eq!(name_prefix(b"{tag}x"), b"");
        assert_eq!(name_prefix(b"averyveryverylongname"), b"averyveryverylon");
    }

    #[test]
    fn printable_names_only() {
        assert!(printable(b"user:1:feed"));
        assert!(!printable(b"user\x00"));
        assert!(!printable("é".as_bytes()));
    }
}
