#![no_main]
use redsleuth::rdb::listpack::{validate, Listpack};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let walked = Listpack::parse(data).map(|lp| lp.iter().take_while(Result::is_ok).count());
    match validate(data) {
        Ok(n) => assert_eq!(walked, Ok(n)),
        Err(e) => assert!(e.offset <= data.len()),
    }
});
