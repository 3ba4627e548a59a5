#![no_main]
use redsleuth::rdb::ziplist::{validate, Ziplist};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let walked = Ziplist::parse(data).map(|zl| zl.iter().take_while(Result::is_ok).count());
    match validate(data) {
        Ok(n) => assert_eq!(walked, Ok(n)),
        Err(e) => assert!(e.offset <= data.len()),
    }
});
