//! Reader tests on hand-assembled files: the worked example of the format
//! reference, each opcode, truncation at every byte, hostile lengths.

use super::*;

/// rdb-format.md §2.6: `SET foo bar PXAT 1700000000000`, RDB 12, no checksum.
fn worked_example() -> Vec<u8> {
    let mut v = b"REDIS0012".to_vec();
    v.extend_from_slice(b"\xFA\x0Aredis-bits\xC0\x40");
    v.extend_from_slice(b"\xFE\x00\xFB\x01\x01");
    v.extend_from_slice(&[0xFC, 0x00, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0x00, 0x00]);
    v.extend_from_slice(b"\x00\x03foo\x03bar");
    v.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
    v
}

fn walk(data: &[u8]) -> (Vec<Record<'_>>, Option<Error>) {
    let file = match RdbFile::parse(data) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut recs = Vec::new();
    for r in file.records() {
        match r {
            Ok(r) => recs.push(r),
            Err(e) => return (recs, Some(e)),
        }
    }
    (recs, None)
}

#[test]
fn reads_the_worked_example() {
    let data = worked_example();
    let (recs, err) = walk(&data);
    assert!(err.is_none());
    assert_eq!(recs.len(), 5);
    assert!(matches!(
        recs[0],
        Record::Aux {
            key: RdbString::Raw(b"redis-bits"),
            value: RdbString::Int(64),
            ..
        }
    ));
    assert!(matches!(recs[1], Record::SelectDb { db: 0, offset: 23 }));
    assert!(matches!(
        recs[2],
        Record::ResizeDb {
            keys: 1,
            expires: 1,
            ..
        }
    ));
    let Record::Key(f) = recs[3] else {
        panic!("{:?}", recs[3])
    };
    assert_eq!(f.offset, 28);
    assert_eq!(f.kind, Kind::String);
    assert_eq!(f.key, RdbString::Raw(b"foo"));
    assert_eq!(f.value, b"\x03bar");
    assert_eq!(f.expire_ms, Some(1_700_000_000_000));
    assert_eq!(f.serialized_bytes, 9);
    assert!(matches!(
        recs[4],
        Record::Eof {
            stored_crc: Some(0),
            ..
        }
    ));
    let file = RdbFile::parse(&data).unwrap();
    assert_eq!(
        file.verify_checksum(data.len() as u64 - 9, Some(0)),
        Ok(false)
    );
}

#[test]
fn every_prefix_is_truncated_with_the_exact_offset() {
    let data = worked_example();
    for n in 0..data.len() {
        let (_, err) = walk(&data[..n]);
        let err = err.unwrap_or_else(|| panic!("prefix {n} read without error"));
        assert!(
            err.is_truncated()
                || (n < 9 && err.kind == ErrorKind::BadMagic)
                || (n == 0 && err.kind == ErrorKind::Empty),
            "prefix {n}: {err}"
        );
        if n >= 9 {
            assert!(err.offset <= n as u64, "prefix {n}: offset {}", err.offset);
        }
    }
}

#[test]
fn magics_and_versions() {
    assert_eq!(
        parse_header(b"REDIS0001").unwrap(),
        Header {
            magic: Magic::Redis,
            version: 1
        }
    );
    assert_eq!(
        parse_header(b"VALKEY080").unwrap(),
        Header {
            magic: Magic::Valkey,
            version: 80
        }
    );
    assert_eq!(
        parse_header(b"REDIS0099").unwrap_err().kind,
        ErrorKind::UnsupportedVersion(99)
    );
    assert_eq!(
        parse_header(b"VALKEY012").unwrap_err().kind,
        ErrorKind::UnsupportedVersion(12)
    );
    assert_eq!(
        parse_header(b"RDBXX0010").unwrap_err().kind,
        ErrorKind::BadMagic
    );
    assert!(parse_header(b"REDI").unwrap_err().is_truncated());
    assert_eq!(parse_header(b"").unwrap_err().offset, 0);
}

#[test]
fn type_22_depends_on_the_magic() {
    // Valkey HASH_2: one field "f" = "v" with expiry -1 (none).
    let mut v = b"VALKEY080\xFE\x00".to_vec();
    v.extend_from_slice(b"\x16\x01h\x01\x01f\x01v");
    v.extend_from_slice(&(-1i64).to_le_bytes());
    v.push(0xFF);
    v.extend_from_slice(&[0; 8]);
    let (recs, err) = walk(&v);
    assert!(err.is_none(), "{err:?}");
    let Record::Key(f) = recs[1] else { panic!() };
    assert_eq!(f.kind, Kind::ValkeyHash2);
    // Under REDIS magic 22 is the 7.4-RC layout: ttl, field, value; the same
    // bytes no longer frame the same way.
    let mut r = b"REDIS0012\xFE\x00".to_vec();
    r.extend_from_slice(b"\x16\x01h\x01\x00\x01f\x01v\xFF");
    r.extend_from_slice(&[0; 8]);
    let (recs, err) = walk(&r);
    assert!(err.is_none(), "{err:?}");
    let Record::Key(f) = recs[1] else { panic!() };
    assert_eq!(f.kind, Kind::HashMetadataPreGa);
}

#[test]
fn unknown_type_names_the_byte_and_offset() {
    let v = b"REDIS0011\xFE\x00\x1D\x01k\x00".to_vec();
    let (recs, err) = walk(&v);
    assert_eq!(recs.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::UnknownType(29));
    assert_eq!(err.offset, 11);
}

#[test]
fn a_2_pow_60_length_allocates_nothing() {
    let mut v = b"REDIS0011\xFE\x00\x02\x01k\x81".to_vec();
    v.extend_from_slice(&(1u64 << 60).to_be_bytes());
    v.extend_from_slice(b"\x01a");
    let (_, err) = walk(&v);
    let err = err.unwrap();
    assert!(err.is_truncated(), "{err}");
}

#[test]
fn checksum_is_verified() {
    // A version-5 file with the real CRC, then the same with one flipped bit.
    let mut v = b"REDIS0005\xFE\x00\x00\x01k\x01v\xFF".to_vec();
    let crc = crc64::crc64(&v);
    v.extend_from_slice(&crc.to_le_bytes());
    let file = RdbFile::parse(&v).unwrap();
    let eof = (v.len() - 9) as u64;
    assert_eq!(file.verify_checksum(eof, Some(crc)), Ok(true));
    let err = file.verify_checksum(eof, Some(crc ^ 1)).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Checksum { .. }));
}

#[test]
fn module_and_stream_values_are_skipped_structurally() {
    // A module value: id, UINT 7, STRING "x", EOF; then a plain key after it.
    let mut v = b"REDIS0009\xFE\x00\x07\x01m\x81".to_vec();
    v.extend_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
    v.extend_from_slice(b"\x02\x07\x05\x01x\x00");
    v.extend_from_slice(b"\x00\x01k\x01v\xFF");
    v.extend_from_slice(&[0; 8]);
    let (recs, err) = walk(&v);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        recs.iter().filter(|r| matches!(r, Record::Key(_))).count(),
        2
    );
}

/// KeyDB writes an `mvcc-tstamp` AUX between a key's expiry (and LRU/LFU)
/// and the key; Redis's loader keeps the pending prefixes across it, and so
/// must we.
#[test]
fn prefixes_survive_an_aux_between_them_and_their_key() {
    let mut v = b"REDIS0009".to_vec();
    v.extend_from_slice(b"\xFE\x00");
    let expiry_at = v.len() as u64;
    v.extend_from_slice(&[0xFC, 0x00, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0x00, 0x00]);
    v.extend_from_slice(b"\xF8\x05"); // IDLE 5 s
    v.extend_from_slice(b"\xFA\x0Bmvcc-tstamp\x0512345");
    v.extend_from_slice(b"\x00\x03foo\x03bar");
    // A key after it has no prefixes of its own.
    v.extend_from_slice(b"\x00\x03baz\x03qux");
    v.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
    let (recs, err) = walk(&v);
    assert!(err.is_none(), "{err:?}");
    assert!(matches!(recs[1], Record::Aux { .. }));
    let Record::Key(f) = recs[2] else {
        panic!("{:?}", recs[2])
    };
    assert_eq!(f.key, RdbString::Raw(b"foo"));
    assert_eq!(f.expire_ms, Some(1_700_000_000_000));
    assert_eq!(f.idle_s, Some(5));
    assert_eq!(f.offset, expiry_at, "the record starts at its first prefix");
    let Record::Key(g) = recs[3] else {
        panic!("{:?}", recs[3])
    };
    assert_eq!(g.expire_ms, None);
    assert_eq!(g.idle_s, None);
}

/// Three string keys `key:1` … `key:3` and the EOF trailer, appended to `v`.
fn three_keys_and_eof(v: &mut Vec<u8>) {
    for k in [b"key:1", b"key:2", b"key:3"] {
        v.extend_from_slice(b"\x00\x05");
        v.extend_from_slice(k);
        v.extend_from_slice(b"\x01v");
    }
    v.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
}

/// A salvaging walk of `data`: the records read, the faults' offsets and
/// the ranges skipped.
fn salvage_all(data: &[u8]) -> (Vec<Record<'_>>, Vec<u64>, Vec<salvage::Skipped>) {
    let file = RdbFile::parse(data).unwrap();
    let mut recs = file.records().salvaging();
    let (mut read, mut errors, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(r) = recs.next() {
        match r {
            Ok(r) => read.push(r),
            Err(e) => {
                errors.push(e.offset);
                skipped.extend(recs.take_skipped());
            }
        }
    }
    (read, errors, skipped)
}

/// A salvaging walk reports the bad record, skips it and reads the rest.
#[test]
fn a_salvaging_walk_reads_past_an_unknown_type() {
    let mut v = b"REDIS0009".to_vec();
    v.extend_from_slice(b"\xFE\x00");
    let bad = v.len() as u64;
    v.extend_from_slice(b"\xEE\x03foo\x03bar");
    let good = v.len() as u64;
    three_keys_and_eof(&mut v);
    let (read, errors, skipped) = salvage_all(&v);
    let keys: Vec<RdbString<'_>> = read
        .iter()
        .filter_map(|r| match r {
            Record::Key(f) => Some(f.key),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [bad]);
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].from, skipped[0].to), (bad, good));
    assert_eq!(
        keys,
        [
            RdbString::Raw(b"key:1"),
            RdbString::Raw(b"key:2"),
            RdbString::Raw(b"key:3")
        ]
    );
    // The strict walk stops there.
    let (strict, err) = walk(&v);
    assert_eq!(err.map(|e| e.offset), Some(bad));
    assert_eq!(strict.len(), 1);
}

/// A fault after an AUX that sat between an expiry and its key: the range
/// lost starts at the expiry, but the AUX already returned is not read again.
#[test]
fn a_fault_after_an_aux_does_not_return_the_aux_twice() {
    let mut v = b"REDIS0009".to_vec();
    v.extend_from_slice(b"\xFE\x00");
    let expiry_at = v.len() as u64;
    v.extend_from_slice(&[0xFC, 0x00, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0x00, 0x00]);
    v.extend_from_slice(b"\xFA\x0Bmvcc-tstamp\x0512345");
    let bad = v.len() as u64;
    v.extend_from_slice(b"\xEE\x03foo\x03bar");
    let good = v.len() as u64;
    three_keys_and_eof(&mut v);
    let (read, errors, skipped) = salvage_all(&v);
    let aux = read
        .iter()
        .filter(|r| matches!(r, Record::Aux { .. }))
        .count();
    let keys = read.iter().filter(|r| matches!(r, Record::Key(_))).count();
    assert_eq!(aux, 1);
    assert_eq!(keys, 3);
    assert_eq!(errors, [bad]);
    assert_eq!((skipped[0].from, skipped[0].to), (expiry_at, good));
}

/// Every record of a strict walk, faults included, without stopping at them.
fn walk_all(data: &[u8]) -> (Vec<String>, Vec<Error>) {
    let file = RdbFile::parse(data).unwrap();
    let (mut keys, mut errors) = (Vec::new(), Vec::new());
    for r in file.records() {
        match r {
            Ok(Record::Key(f)) => {
                keys.push(String::from_utf8_lossy(&f.key.to_cow().unwrap()).into_owned())
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    (keys, errors)
}

/// Empty collections of every layout Redis's loader refuses (`rdbLoadObject
/// skipping empty key`): each is a fault at its record, passed over, and the
/// walk goes on to the key after it, strict or not.
#[test]
fn empty_collections_are_faults_the_walk_reads_past() {
    let ziplist: &[u8] = &[11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xFF];
    let listpack: &[u8] = &[7, 0, 0, 0, 0, 0, 0xFF];
    let intset: &[u8] = &[2, 0, 0, 0, 0, 0, 0, 0];
    let zipmap: &[u8] = &[0, 0xFF];
    let cases: [(u8, &[u8], &str); 9] = [
        (1, &[0], "list"),
        (2, &[0], "set"),
        (4, &[0], "hash"),
        (14, &[0], "list"),
        (10, ziplist, "list"),
        (13, ziplist, "hash"),
        (20, listpack, "set"),
        (11, intset, "set"),
        (9, zipmap, "hash"),
    ];
    for (t, payload, name) in cases {
        let mut v = b"REDIS0009".to_vec();
        v.extend_from_slice(b"\xFE\x00\x00\x01a\x01x");
        let at = v.len() as u64;
        v.extend_from_slice(&[t, 1, b'e']);
        if t == 1 || t == 2 || t == 4 || t == 14 {
            v.extend_from_slice(payload);
        } else {
            v.push(payload.len() as u8);
            v.extend_from_slice(payload);
        }
        v.extend_from_slice(b"\x00\x01b\x01y");
        v.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
        let (keys, errors) = walk_all(&v);
        assert_eq!(keys, ["a", "b"], "type {t}");
        assert_eq!(errors.len(), 1, "type {t}");
        assert_eq!(errors[0].offset, at, "type {t}");
        assert_eq!(errors[0].kind, ErrorKind::EmptyKey(name), "type {t}");
        assert!(errors[0].to_string().contains("skipped"), "{}", errors[0]);
    }
}

/// A non-empty compact value is not mistaken for an empty one.
#[test]
fn a_one_element_intset_is_not_empty() {
    let mut v = b"REDIS0009".to_vec();
    v.extend_from_slice(b"\xFE\x00\x0B\x01s\x0A\x02\x00\x00\x00\x01\x00\x00\x00\x07\x00");
    v.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
    let (keys, errors) = walk_all(&v);
    assert_eq!(keys, ["s"]);
    assert!(errors.is_empty(), "{errors:?}");
}

/// A module value of the 4.0 release candidates cannot be framed: it is
/// reported as unsupported, not as corruption, and a salvaging walk finds
/// the keys after it.
#[test]
fn a_pre_ga_module_value_is_unsupported() {
    let mut v = b"REDIS0008".to_vec();
    v.extend_from_slice(b"\xFE\x00");
    v.extend_from_slice(b"\x06\x03mod");
    let value_at = v.len() as u64;
    v.extend_from_slice(&[
        0x81, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x01, 0x02, 0x03,
    ]);
    three_keys_and_eof(&mut v);
    let (recs, err) = walk(&v);
    assert!(matches!(recs[..], [Record::SelectDb { .. }]), "{recs:?}");
    let err = err.unwrap();
    assert_eq!(err.offset, value_at);
    assert!(matches!(err.kind, ErrorKind::Unsupported(_)), "{err}");
    assert!(err.to_string().starts_with("unsupported at byte"), "{err}");
    let (read, errors, _) = salvage_all(&v);
    assert_eq!(errors, [value_at]);
    let keys = read.iter().filter(|r| matches!(r, Record::Key(_))).count();
    assert_eq!(keys, 3);
}
