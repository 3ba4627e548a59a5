#![no_main]
use redsleuth::rdb::lzf::{decompress, max_expansion};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (len, input) = data.split_at(data.len().min(4));
    let len = len.iter().rfold(0, |a, &b| (a << 8) | usize::from(b));
    let mut out = vec![7u8; 3];
    let res = decompress(input, len, &mut out);
    assert!(res.map_or_else(|e| e.offset <= input.len(), |()| out.starts_with(&[7; 3])));
    assert!(out.capacity() <= 3 + max_expansion(input.len()).max(8));
});
