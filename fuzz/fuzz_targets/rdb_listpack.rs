#![no_main]
use redsleuth::rdb::listpack::{validate, Listpack};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let n = validate(data).map_err(|e| assert!(e.offset <= data.len()));
    let walked = Listpack::parse(data).map(|lp| lp.iter().take_while(Result::is_ok).count());
    assert!(n.map_or(true, |n| walked == Ok(n)));
});
