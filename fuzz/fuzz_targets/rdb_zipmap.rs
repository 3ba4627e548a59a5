#![no_main]
use redsleuth::rdb::zipmap::{validate, Zipmap};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let n = validate(data).map_err(|e| assert!(e.offset <= data.len()));
    let walked = Zipmap::parse(data).map(|zm| zm.iter().take_while(Result::is_ok).count());
    assert!(n.map_or(true, |n| walked == Ok(n)));
});
