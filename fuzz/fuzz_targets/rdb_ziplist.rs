#![no_main]
use redsleuth::rdb::ziplist::{validate, Ziplist};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let n = validate(data).map_err(|e| assert!(e.offset <= data.len()));
    let walked = Ziplist::parse(data).map(|zl| zl.iter().take_while(Result::is_ok).count());
    assert!(n.map_or(true, |n| walked == Ok(n)));
});
