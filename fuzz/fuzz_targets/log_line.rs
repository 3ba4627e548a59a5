//! Fuzz target: the log line grammar, the catalogue and the chunk stage must
//! never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(l) = redsleuth::logs::line::parse_line(data) {
        let _ = redsleuth::logs::catalog::classify(&l.msg);
    }
    let _ = redsleuth::logs::catalog::classify_raw(data);
    let p = redsleuth::logs::chunk::parse_all(data, 1, &|_| {});
    assert!(p.counters.lines <= data.len() as u64 + 1);
});
