#![no_main]
use redsleuth::rdb::zipmap::{validate, Zipmap};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let walked = Zipmap::parse(data).map(|zm| zm.iter().take_while(Result::is_ok).count());
    match validate(data) {
        Ok(n) => assert_eq!(walked, Ok(n)),
        Err(e) => assert!(e.offset <= data.len()),
    }
});
