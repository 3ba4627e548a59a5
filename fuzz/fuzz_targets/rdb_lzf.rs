#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((len, input)) = data.split_first_chunk::<4>() else { return };
    let mut out = vec![7u8; 3];
    let res = redsleuth::rdb::lzf::decompress(input, u32::from_le_bytes(*len) as usize, &mut out);
    assert!(res.map_or_else(|e| e.offset <= input.len(), |()| out.starts_with(&[7; 3])));
    assert!(out.capacity() <= 3 + redsleuth::rdb::lzf::max_expansion(input.len()).max(8));
});
