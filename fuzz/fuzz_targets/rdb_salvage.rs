#![no_main]
//! The salvaging walk: after each fault it searches forward for a plausible
//! record, so hostile input must neither loop, rescan without bound, nor
//! report a range outside the file.
use libfuzzer_sys::fuzz_target;
use redsleuth::rdb::{value, Profile, RdbFile, Record};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = RdbFile::parse(data) else {
        return;
    };
    let profile: Profile = file.profile();
    let len = data.len() as u64;
    let mut records = file.records().salvaging();
    let mut last = 0u64;
    while let Some(rec) = records.next() {
        match rec {
            Ok(Record::Key(f)) => drop(value::inspect(
                &f,
                &profile,
                value::Depth {
                    element_lengths: true,
                },
                &mut Vec::new(),
            )),
            Ok(_) => {}
            Err(e) => {
                assert!(e.offset <= len);
                // An empty key is passed over whole; every other fault
                // reports the range the search skipped.
                match records.take_skipped() {
                    Some(s) => assert!(s.from <= s.to && s.to <= len),
                    None => assert!(e.is_skippable(), "{e}"),
                }
            }
        }
        let pos = records.position();
        assert!(pos >= last, "the walk never goes back");
        last = pos;
    }
});
