#![no_main]
use redsleuth::rdb::intset::Intset;
libfuzzer_sys::fuzz_target!(|data: &[u8]| match Intset::parse(data) {
    Err(e) => assert!(e.offset <= data.len()),
    Ok(is) => {
        let size = 8 + is.len() as usize * usize::from(is.encoding());
        assert!(is.iter().count() == is.len() as usize && size == data.len());
        let _ = is.is_sorted_unique();
    }
});
