#![no_main]
use libfuzzer_sys::fuzz_target;
use redsleuth::rdb::{value, Profile, RdbFile, Record};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = RdbFile::parse(data) else {
        return;
    };
    let profile: Profile = file.profile();
    for rec in file.records() {
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
                assert!(e.offset <= data.len() as u64);
                break;
            }
        }
    }
});
