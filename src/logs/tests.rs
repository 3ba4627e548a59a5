//! Unit tests of the log stages: line grammar (every native format and
//! wrapper of log-events.md §1), catalogue matching and chunking.

use super::catalog::{self, classify, classify_raw, entry, RawKind};
use super::chunk;
use super::line::{days_from_civil, parse_line, Format, Level, Role, Stamp, Wrapper};

fn ms(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64, milli: i64) -> i64 {
    days_from_civil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + milli
}

fn kind(msg: &str) -> Option<&'static str> {
    classify(msg.as_bytes()).map(|(i, _)| entry(i).kind)
}

#[test]
fn parses_5_0_plus_legacy_line() {
    let l = parse_line(b"10750:M 23 Nov 2026 07:22:46.077 * Ready to accept connections").unwrap();
    assert_eq!(l.pid, Some(10750));
    assert_eq!(l.role, Some(Role::Primary));
    assert_eq!(l.level, Some(Level::Notice));
    assert_eq!(l.format, Format::PidRole);
    assert_eq!(l.stamp, Some(Stamp::Abs(ms(2026, 11, 23, 7, 22, 46, 77))));
    assert_eq!(&*l.msg, b"Ready to accept connections");
}

#[test]
fn parses_year_less_and_old_formats() {
    let l = parse_line(b"1718:S 12 Jan 11:20:08.963 # Connection with master lost.").unwrap();
    assert_eq!(l.format, Format::PidRoleNoYear);
    assert_eq!(
        l.stamp,
        Some(Stamp::NoYear {
            mon: 1,
            day: 12,
            msod: ((11 * 60 + 20) * 60 + 8) * 1000 + 963
        })
    );
    let l = parse_line(b"[14062] 19 Apr 16:04:55.982 * DB saved on disk").unwrap();
    assert_eq!(
        (l.format, l.pid, l.role),
        (Format::Bracket, Some(14062), None)
    );
    let l = parse_line(
        b"[2932] 31 May 04:32:08 * The server is now ready to accept connections on port 6379",
    )
    .unwrap();
    assert_eq!(l.format, Format::Bracket);
    assert_eq!(kind(std::str::from_utf8(&l.msg).unwrap()), Some("ready"));
    let l = parse_line(
        b"30 May 10:03:19 * WARNING overcommit_memory is set to 0! Background save may fail",
    )
    .unwrap();
    assert_eq!(l.format, Format::V12);
    let l =
        parse_line(b"10830:signal-handler (1795418583) Received SIGTERM scheduling shutdown...")
            .unwrap();
    assert_eq!(l.format, Format::SignalHandler);
    assert_eq!(l.stamp, Some(Stamp::Abs(1_795_418_583_000)));
    let l =
        parse_line(b"[123 | signal handler] (1400000000) Received SIGTERM, scheduling shutdown...")
            .unwrap();
    assert_eq!((l.format, l.pid), (Format::SignalHandler, Some(123)));
    assert_eq!(
        kind(std::str::from_utf8(&l.msg).unwrap()),
        Some("shutdown_signal")
    );
}

#[test]
fn parses_valkey_timestamp_formats_and_logfmt() {
    let l = parse_line(b"1234:M 2024-10-25T12:00:00.123+02:00 * Server initialized").unwrap();
    assert_eq!(l.format, Format::PidRoleIso);
    assert_eq!(l.stamp, Some(Stamp::Abs(ms(2024, 10, 25, 12, 0, 0, 123))));
    let l = parse_line(b"1234:M 1729850400123 * Server initialized").unwrap();
    assert_eq!(
        (l.format, l.stamp),
        (Format::PidRoleEpoch, Some(Stamp::Abs(1_729_850_400_123)))
    );
    let l = parse_line(br#"pid=16956 role=RDB/AOF timestamp="2026-11-23T07:27:24.455+00:00" level=info message="Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB""#).unwrap();
    assert_eq!(
        (l.format, l.pid, l.role, l.level),
        (
            Format::Logfmt,
            Some(16956),
            Some(Role::Child),
            Some(Level::Verbose)
        )
    );
    assert_eq!(
        &*l.msg,
        b"Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB"
    );
    let l = parse_line(
        br#"pid=1 role=master timestamp="25 Oct 2024 12:00:00.123" level=warning message="x""#,
    )
    .unwrap();
    assert_eq!(
        (l.role, l.stamp),
        (
            Some(Role::Primary),
            Some(Stamp::Abs(ms(2024, 10, 25, 12, 0, 0, 123)))
        )
    );
}

#[test]
fn unwraps_syslog_journald_docker_and_cri() {
    let l = parse_line(b"Mar  3 11:42:01 host redis[1234]: Background saving started by pid 5678")
        .unwrap();
    assert_eq!(
        (l.wrapper, l.format, l.pid),
        (Wrapper::Syslog, Format::Bare, Some(1234))
    );
    assert_eq!(
        l.stamp,
        Some(Stamp::NoYear {
            mon: 3,
            day: 3,
            msod: ((11 * 60 + 42) * 60 + 1) * 1000
        })
    );
    let l = parse_line(b"Mar 03 11:42:01 host redis-server[1234]: 1234:M 03 Mar 2024 11:42:01.123 * DB saved on disk").unwrap();
    assert_eq!((l.wrapper, l.format), (Wrapper::Syslog, Format::PidRole));
    let l = parse_line(b"2024-03-03T11:42:01.123456+00:00 host redis-server[1234]: 1234:M 03 Mar 2024 11:42:01.123 * DB saved on disk").unwrap();
    assert_eq!((l.wrapper, l.format), (Wrapper::Syslog, Format::PidRole));
    let l = parse_line(
        b"2024-03-03T11:42:01.123456789Z 1:M 03 Mar 2024 11:42:01.123 * DB saved on disk",
    )
    .unwrap();
    assert_eq!((l.wrapper, l.pid), (Wrapper::Docker, Some(1)));
    let l = parse_line(
        b"2024-03-03T11:42:01.123456789Z stdout F 1:M 03 Mar 2024 11:42:01.123 * DB saved on disk",
    )
    .unwrap();
    assert_eq!(l.wrapper, Wrapper::Cri);
    let l = parse_line(br#"{"log":"1:M 03 Mar 2024 11:42:01.123 * DB saved on disk\n","stream":"stdout","time":"2024-03-03T11:42:01.12Z"}"#).unwrap();
    assert_eq!(
        (l.wrapper, l.format),
        (Wrapper::DockerJson, Format::PidRole)
    );
    assert_eq!(&*l.msg, b"DB saved on disk");
    let l = parse_line(br#"{"__REALTIME_TIMESTAMP":"1709466121123456","_PID":"1234","SYSLOG_IDENTIFIER":"redis-server","MESSAGE":"1234:M 03 Mar 2024 11:42:01.123 * DB saved on disk","PRIORITY":"6"}"#).unwrap();
    assert_eq!((l.wrapper, l.pid), (Wrapper::JournalJson, Some(1234)));
    let l = parse_line(b"redis-1  | 1:M 03 Mar 2024 11:42:01.123 * DB saved on disk").unwrap();
    assert_eq!(l.wrapper, Wrapper::Compose);
}

#[test]
fn reads_dmesg_human_and_raw_timestamps() {
    // `dmesg -T`: a wall clock with a year.
    let l = parse_line(b"[Mon Nov 23 11:04:30 2026] Out of memory: Killed process 22192 (redis-server) total-vm:24647732kB, anon-rss:23804048kB, file-rss:136kB, shmem-rss:0kB").unwrap();
    assert_eq!(l.wrapper, Wrapper::Dmesg);
    assert_eq!(l.stamp, Some(Stamp::Abs(ms(2026, 11, 23, 11, 4, 30, 0))));
    assert!(l.msg.starts_with(b"Out of memory: Killed process 22192"));
    let l =
        parse_line(b"[Tue Mar  3 09:05:07 2026] oom_reaper: reaped process 4242 (redis-server)")
            .unwrap();
    assert_eq!(l.stamp, Some(Stamp::Abs(ms(2026, 3, 3, 9, 5, 7, 0))));
    // Plain `dmesg`: seconds since boot, no wall clock.
    let l =
        parse_line(b"[ 3265.496077] Out of memory: Killed process 22192 (redis-server)").unwrap();
    assert_eq!(
        (l.wrapper, l.stamp),
        (Wrapper::Dmesg, Some(Stamp::SinceBoot(3_265_496)))
    );
    assert_eq!(
        &*l.msg,
        b"Out of memory: Killed process 22192 (redis-server)"
    );
    // Redis 2.x bracketed lines still win.
    let l = parse_line(b"[1234] 03 Mar 11:42:01 * DB saved on disk").unwrap();
    assert_eq!((l.wrapper, l.pid), (Wrapper::None, Some(1234)));
    assert!(parse_line(b"[not a time] x").is_none());
}

#[test]
fn every_prefix_of_a_line_parses_or_is_none_without_panic() {
    let full: &[u8] = br#"pid=16950 role=primary timestamp="2026-11-23T07:27:24.077+00:00" level=notice message="Running mode=standalone, port=17310.""#;
    for n in 0..full.len() {
        let _ = parse_line(&full[..n]);
    }
    let full: &[u8] = b"10750:M 23 Nov 2026 07:22:46.077 * Ready";
    for n in 0..full.len() {
        let _ = parse_line(&full[..n]);
    }
    assert!(parse_line(b"\xff\xfe\x00garbage").is_none());
}

#[test]
fn catalogue_matches_on_text_with_wording_variants() {
    for (msg, want) in [
        ("Connection with master lost.", "primary_lost"),
        ("Connection with primary lost.", "primary_lost"),
        ("MASTER <-> REPLICA sync: Flushing old data", "sync_flush"),
        ("PRIMARY <-> REPLICA sync: Flushing old data", "sync_flush"),
        ("RDB signature and version check passed. Flushing old data", "sync_flush"),
        ("Replica bio thread: PRIMARY <-> REPLICA sync: receiving 1521390086 bytes from primary to disk", "sync_receiving"),
        ("Replica bio thread: PRIMARY <-> REPLICA sync: receiving streamed RDB from primary with EOF to disk", "sync_receiving"),
        ("<module> Script killed by user with SCRIPT KILL.", "script_killed"),
        ("Lua script killed by user with SCRIPT KILL.", "script_killed"),
        ("Full resync from primary: 65b63b45504089a86ce14e8fa45b9ad5bcc09b22:0", "full_resync"),
        ("Failover election won: I'm the new primary.", "cluster_failover_won"),
        ("Valkey is now ready to exit, bye bye...", "ready_to_exit"),
        ("Sentinel is now ready to exit, bye bye...", "ready_to_exit"),
        ("Slave 10.0.0.2:6379 asks for synchronization", "replica_sync_request"),
        ("RDB: 12 MB of memory used by copy-on-write", "fork_cow"),
        ("Can't save in background: fork: Cannot allocate memory", "fork_failed"),
        ("Accepted 127.0.0.1:45134", "client_accepted"),
        ("+switch-master mymaster 127.0.0.1 17150 127.0.0.1 17151", "sentinel_switch_master"),
        ("Marking node 137fe7f89aa3e48d3a28bd311cb784166fe59826 () as failing (quorum reached).", "cluster_marking_failed"),
        ("[12345.678901] Out of memory: Killed process 4242 (redis-server) total-vm:100kB, anon-rss:50kB, file-rss:0kB, shmem-rss:0kB", "kernel_oom_kill"),
    ] {
        assert_eq!(kind(msg), Some(want), "{msg}");
    }
    let (i, caps) = classify(b"Fork CoW for RDB: current 12 MB, peak 30 MB, average 7 MB").unwrap();
    assert_eq!(entry(i).id, "M01");
    assert_eq!(catalog::num(&caps, "peak"), Some(30.0));
    let (_, caps) = classify(b"Replica bio thread: PRIMARY <-> REPLICA sync: receiving 1521390086 bytes from primary to disk").unwrap();
    assert_eq!(catalog::num(&caps, "bytes"), Some(1521390086.0));
    let (_, caps) = classify(b"Slow script detected: still in execution after 514 milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: 5fc824eeea7798f9bec71642a5715f819cdf0c46.").unwrap();
    assert_eq!(catalog::num(&caps, "ms"), Some(514.0));
    assert_eq!(
        catalog::text(&caps, "script"),
        Some("5fc824eeea7798f9bec71642a5715f819cdf0c46")
    );
    let (_, caps) = classify(b"Lua slow script detected: still in execution after 5004 milliseconds. You can try killing the script using the SCRIPT KILL command. Script SHA1 is: 0b9d4a0dbd2c8bd3b03c2ad0b6d4b4bb0c3c7f5e").unwrap();
    assert_eq!(
        catalog::text(&caps, "script"),
        Some("0b9d4a0dbd2c8bd3b03c2ad0b6d4b4bb0c3c7f5e")
    );
    let (_, caps) = classify(b"Done loading RDB, keys loaded: 20000, keys expired: 3.").unwrap();
    assert_eq!(
        (
            catalog::num(&caps, "loaded"),
            catalog::num(&caps, "expired")
        ),
        (Some(20000.0), Some(3.0))
    );
    let (_, caps) = classify(b"Partial resynchronization request from 127.0.0.1:17151 accepted. Sending 70890 bytes of backlog starting from offset 276814.").unwrap();
    assert_eq!(catalog::text(&caps, "addr"), Some("127.0.0.1:17151"));
    assert_eq!(catalog::num(&caps, "bytes"), Some(70890.0));
    assert!(kind("monotonic clock: POSIX clock_gettime").is_none());
    assert!(catalog::ENTRIES.len() >= 120);
}

#[test]
fn raw_lines_of_crash_reports_and_logos_are_recognised() {
    assert_eq!(
        classify_raw(b"=== REDIS BUG REPORT START: Cut & paste starting from here ==="),
        Some(RawKind::CrashStart)
    );
    assert_eq!(
        classify_raw(b"=== VALKEY BUG REPORT END. Make sure to include from START to END. ==="),
        Some(RawKind::CrashEnd)
    );
    assert_eq!(
        classify_raw(b"used_memory:2124584\r"),
        Some(RawKind::Info("used_memory".into(), "2124584".into()))
    );
    assert!(matches!(
        classify_raw(b"/usr/bin/redis-server 127.0.0.1:17150(debugCommand+0x26f)[0x55e0ae28675f]"),
        Some(RawKind::Frame(_))
    ));
    assert_eq!(
        classify_raw(b"16459 redis-server *"),
        Some(RawKind::Thread(true))
    );
    assert_eq!(
        classify_raw(b"      _.-``    `.  `_.  ''-._           Redis 6.0.9 (00000000/0) 64 bit"),
        Some(RawKind::LogoVersion("Redis".into(), "6.0.9".into()))
    );
    assert_eq!(
        classify_raw(b" |    `-._   `._    /     _.-'    |     PID: 2932"),
        Some(RawKind::LogoPid(2932))
    );
    assert_eq!(classify_raw(b"random text"), None);
}

#[test]
fn chunks_split_on_newlines_and_count_every_line() {
    let data = b"a\nbb\nccc\n\nlast";
    let parts = chunk::split(data, 3);
    assert_eq!(parts.concat(), data.to_vec());
    assert!(parts[..parts.len() - 1].iter().all(|p| p.ends_with(b"\n")));
    let mut log = Vec::new();
    for i in 0..5000 {
        log.extend_from_slice(
            format!(
                "1:M 01 Jan 2025 00:00:{:02}.000 * DB saved on disk\n",
                i % 60
            )
            .as_bytes(),
        );
    }
    log.extend_from_slice(b"1:M 01 Jan 2025 00:01:00.000 # Background saving error\n");
    let one = chunk::parse_buffer(&log, 1, 1, &|_| {});
    let many = chunk::parse_buffer(&log, 1, 8, &|_| {});
    assert_eq!(one.1.lines, 5001);
    assert_eq!(one.0, many.0);
    let last = one.0.iter().rev().find_map(|i| match i {
        chunk::Item::Rec(r) => Some(r.line),
        chunk::Item::Span(_) => None,
    });
    assert_eq!(last, Some(5001));
}

#[test]
fn cri_partial_lines_stay_in_one_chunk_and_join() {
    let mut log = Vec::new();
    for i in 0..2000 {
        log.extend_from_slice(
            format!(
                "2025-01-01T00:00:{:02}.000Z stdout P 1:M 01 Jan 2025 00:00:{:02}.000 # Background \n2025-01-01T00:00:{:02}.001Z stdout F saving error\n",
                i % 60, i % 60, i % 60
            )
            .as_bytes(),
        );
    }
    for piece in chunk::split(&log, 100) {
        assert!(
            piece.ends_with(b"saving error\n"),
            "cut inside a CRI record"
        );
    }
    let one = chunk::parse_buffer(&log, 1, 1, &|_| {});
    let many = chunk::parse_buffer(&log, 1, 8, &|_| {});
    assert_eq!(one.0, many.0);
    assert_eq!((one.1.lines, one.1.cri_joined), (4000, 2000));
    let lines: Vec<u64> = one
        .0
        .iter()
        .filter_map(|i| match i {
            chunk::Item::Rec(r) => Some(r.line),
            chunk::Item::Span(_) => None,
        })
        .collect();
    assert_eq!(lines.len(), 2000);
    assert!(lines.iter().all(|l| l % 2 == 1));
}

#[test]
fn digit_by_digit_time_formatting_matches_the_format_macro() {
    let reference = |ms: i64| {
        let days = ms.div_euclid(86_400_000);
        let rem = ms.rem_euclid(86_400_000);
        let (y, m, d) = super::line::civil_from_days(days);
        let s = rem / 1000;
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
            s / 3600,
            (s / 60) % 60,
            s % 60,
            rem % 1000
        )
    };
    let mut ms = -90_000_000_000_000i64;
    while ms < 300_000_000_000_000 {
        assert_eq!(super::line::format_ms(ms), reference(ms), "{ms}");
        let full = reference(ms);
        assert_eq!(super::rules::hms(Some(ms)), full[full.len() - 12..], "{ms}");
        ms += 7_777_777_777 + ms.rem_euclid(1000);
    }
    for ms in [
        0,
        -1,
        1_795_424_610_404,
        253_402_300_799_999,
        -62_167_219_200_001,
    ] {
        assert_eq!(super::line::format_ms(ms), reference(ms), "{ms}");
    }
    assert_eq!(
        super::line::format_ms(1_795_418_610_404),
        "2026-11-23 07:23:30.404"
    );
}

/// The plain scenario logs under `testdata/logs/`, in name order.
fn scenario_logs() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/logs");
    let (mut files, _) = super::expand(&[root]);
    files.retain(|p| p.extension().is_some_and(|e| e == "log"));
    files.sort();
    files
}

/// Everything the analysis of one plain log yields (timeline and
/// incidents, in full), when it is parsed in pieces of about `piece` bytes
/// cut into chunks of about `chunk` bytes, fed to the timeline piece by
/// piece as a large file is.
fn analysed_in_pieces(path: &std::path::Path, buf: &[u8], piece: usize, chunk: usize) -> String {
    let mut b = super::timeline::Builder::new(&["set".to_string()], None, false);
    let f = b.begin_file(
        path.display().to_string(),
        path.to_path_buf(),
        true,
        0,
        Some((2027, 1)),
        "none",
    );
    let mut counters = chunk::Counters::default();
    chunk::parse_pieces(
        buf,
        piece,
        &|p, line, at| chunk::parse_chunks_of(p, chunk, line, at, &|_| {}),
        &|_| {},
        &mut |items, c| {
            b.feed(f, items);
            counters.merge(c);
        },
    );
    b.end_file(f, &counters, buf.len() as u64, None);
    let t = b.finish();
    let incidents = super::rules::run(&t, false);
    format!("{t:#?}\n{incidents:#?}")
}

#[test]
fn piece_and_chunk_boundaries_do_not_change_the_analysis_of_any_scenario() {
    let files = scenario_logs();
    assert!(files.len() >= 20, "scenario logs not found: {files:?}");
    for path in files {
        let buf = std::fs::read(&path).unwrap();
        let whole = analysed_in_pieces(&path, &buf, usize::MAX, usize::MAX);
        for (piece, chunk) in [(300, usize::MAX), (700, 1), (1000, 200), (4096, 350)] {
            let got = analysed_in_pieces(&path, &buf, piece, chunk);
            assert!(
                got == whole,
                "{}: pieces of {piece} bytes, chunks of {chunk}: analysis differs from one piece",
                path.display()
            );
        }
    }
}

/// A Redis 6 process crashes and is killed during the fast memory test;
/// the next process's first line is glued to the test's progress dots (a
/// start line that used to go unrecognised) and its first lines carry
/// role `C`, as fork children's do.
const RESTART_AFTER_CUT_MEMTEST: &str = "\
100:C 02 Jan 2026 13:53:21.022 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
100:C 02 Jan 2026 13:53:21.023 # Redis version=6.2.14, bits=64, commit=00000000, modified=0, pid=100, just started
100:C 02 Jan 2026 13:53:21.023 # Configuration loaded
100:M 02 Jan 2026 13:53:21.024 * Running mode=standalone, port=17450.
100:M 02 Jan 2026 13:53:21.027 * Ready to accept connections


=== REDIS BUG REPORT START: Cut & paste starting from here ===
100:M 02 Jan 2026 13:53:21.150 # === ASSERTION FAILED ===
100:M 02 Jan 2026 13:53:21.150 # ==> debug.c:498 '1 == 2' is not true

------ FAST MEMORY TEST ------
100:M 02 Jan 2026 13:53:21.151 # Bio thread for job type #0 terminated
*** Preparing to test memory region 571000 (118784 bytes)
.O.O.O.O.O.200:C 02 Jan 2026 13:53:22.151 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
200:C 02 Jan 2026 13:53:22.151 # Redis version=6.2.14, bits=64, commit=00000000, modified=0, pid=200, just started
200:C 02 Jan 2026 13:53:22.151 # Configuration loaded
200:M 02 Jan 2026 13:53:22.152 * monotonic clock: POSIX clock_gettime
200:M 02 Jan 2026 13:53:22.152 * Running mode=standalone, port=17450.
200:M 02 Jan 2026 13:53:22.152 * Ready to accept connections
200:M 02 Jan 2026 13:53:30.000 * Background saving started by pid 201
201:C 02 Jan 2026 13:53:30.100 * DB saved on disk
200:M 02 Jan 2026 13:53:30.200 * Background saving terminated with success
300:C 02 Jan 2026 13:54:00.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
300:C 02 Jan 2026 13:54:00.001 # Configuration loaded
300:M 02 Jan 2026 13:54:00.002 * Running mode=standalone, port=17450.
300:M 02 Jan 2026 13:54:00.003 * Ready to accept connections
";

#[test]
fn a_restart_after_a_cut_memory_test_keeps_its_lifetime_wherever_pieces_end() {
    // A 1 GiB log parsed in 16 MiB pieces lost the lifetime of a process
    // whose first lines ended a chunk: its span, folded at the chunk's end
    // with role `C`, made it a fork child of the process that had crashed.
    let path = std::path::Path::new("restart-after-memtest.log");
    let buf = RESTART_AFTER_CUT_MEMTEST.as_bytes();
    let whole = analysed_in_pieces(path, buf, usize::MAX, usize::MAX);
    for piece in 1..buf.len() {
        let got = analysed_in_pieces(path, buf, piece, usize::MAX);
        assert!(
            got == whole,
            "pieces of {piece} bytes: analysis differs from one piece"
        );
    }
    // And the split is into the three processes that ran.
    let mut b = super::timeline::Builder::new(&["set".to_string()], None, false);
    let f = b.begin_file(
        path.display().to_string(),
        path.to_path_buf(),
        true,
        0,
        None,
        "none",
    );
    let cut = RESTART_AFTER_CUT_MEMTEST
        .find("200:C 02 Jan 2026 13:53:22.151 # Configuration")
        .unwrap();
    let (first, c1) = chunk::parse_chunks_of(&buf[..cut], usize::MAX, 1, 0, &|_| {});
    let (rest, c2) =
        chunk::parse_chunks_of(&buf[cut..], usize::MAX, c1.lines + 1, cut as u64, &|_| {});
    b.feed(f, first);
    b.feed(f, rest);
    let mut counters = c1;
    counters.merge(c2);
    b.end_file(f, &counters, buf.len() as u64, None);
    let t = b.finish();
    let lifetimes: Vec<(u32, &str)> = t.lifetimes.iter().map(|l| (l.pid, l.end.name())).collect();
    assert_eq!(
        lifetimes,
        [(100, "crash"), (200, "unknown-kill"), (300, "running")]
    );
}

#[test]
fn a_start_line_glued_to_memory_test_progress_parses_as_the_line() {
    let l = parse_line(
        b".O.O.O.O.O.793008:C 02 Jan 2026 13:53:22.151 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    )
    .unwrap();
    assert_eq!(
        (l.pid, l.role, l.level, l.format, l.wrapper),
        (
            Some(793008),
            Some(Role::Child),
            Some(Level::Warning),
            Format::PidRole,
            Wrapper::None
        )
    );
    assert_eq!(l.stamp, Some(Stamp::Abs(ms(2026, 1, 2, 13, 53, 22, 151))));
    assert_eq!(
        kind(std::str::from_utf8(&l.msg).unwrap()),
        Some("server_starting")
    );
    // Every progress character, and a `0` right before the pid (a pid
    // never starts with one); CR line ends as elsewhere.
    let l = parse_line(b"o0*.O0042:M 02 Jan 2026 13:53:22.152 * Ready to accept connections\r")
        .unwrap();
    assert_eq!((l.pid, l.role), (Some(42), Some(Role::Primary)));
    assert_eq!(&*l.msg, b"Ready to accept connections");
    // Only progress characters before a whole `pid:role` line qualify.
    for raw in [
        &b".O.O.O.O.O."[..],
        b".O.O. 793008:C 02 Jan 2026 13:53:22.151 # Configuration loaded",
        b".O.x.793008:C 02 Jan 2026 13:53:22.151 # Configuration loaded",
        b".O.O.793008:C 02 Jan 2026 # Configuration loaded",
        b".O.O.793008:C",
        b".O.O.[14062] 19 Apr 16:04:55.982 * DB saved on disk",
        b".O.O.10830:signal-handler (1795418583) Received SIGTERM scheduling shutdown...",
    ] {
        assert_eq!(parse_line(raw), None, "{}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn lines_that_merely_begin_with_a_dot_or_an_o_parse_as_before() {
    // Raw lines (crash report, memory test, INFO dump) stay raw.
    for raw in [
        &b"."[..],
        b"...",
        b"OK",
        b"OOM command not allowed when used memory > 'maxmemory'.",
        b"*** Preparing to test memory region 571000 (118784 bytes)",
        b"0.000000",
        b"o_bsize:0",
    ] {
        assert_eq!(parse_line(raw), None, "{}", String::from_utf8_lossy(raw));
    }
    assert_eq!(
        classify_raw(b"*** Preparing to test memory region 571000 (118784 bytes)"),
        None
    );
    // A docker compose service whose name is made of progress characters
    // keeps its wrapper: the glued form is never tried on a line that
    // parses otherwise.
    let l = parse_line(b"O.o-1  | 10750:M 23 Nov 2026 07:22:46.077 * Ready to accept connections")
        .unwrap();
    assert_eq!(
        (l.wrapper, l.format, l.pid),
        (Wrapper::Compose, Format::PidRole, Some(10750))
    );
    assert_eq!(&*l.msg, b"Ready to accept connections");
}

/// The whole story of a cut report: pid 100 crashes and is killed during
/// the fast memory test (no END), pid 200's first line is glued to the
/// test's progress output, and pid 200 then crashes with its own report.
const CRASH_CUT_BY_RESTART_THEN_CRASH: &str = "\
100:C 02 Jan 2026 13:53:21.022 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
100:C 02 Jan 2026 13:53:21.023 # Redis version=6.2.14, bits=64, commit=00000000, modified=0, pid=100, just started
100:M 02 Jan 2026 13:53:21.024 * Running mode=standalone, port=17450.
100:M 02 Jan 2026 13:53:21.027 * Ready to accept connections


=== REDIS BUG REPORT START: Cut & paste starting from here ===
100:M 02 Jan 2026 13:53:21.150 # Redis 6.2.14 crashed by signal: 7, si_code: 2

------ STACK TRACE ------
Backtrace:
/usr/bin/redis-server *:17450(rdbLoad+0x10)[0x485fa5]

------ FAST MEMORY TEST ------
100:M 02 Jan 2026 13:53:21.151 # Bio thread for job type #0 terminated
*** Preparing to test memory region 571000 (118784 bytes)
.O.O.O.O.O.200:C 02 Jan 2026 13:53:22.151 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
200:C 02 Jan 2026 13:53:22.151 # Redis version=6.2.14, bits=64, commit=00000000, modified=0, pid=200, just started
200:C 02 Jan 2026 13:53:22.151 # Configuration loaded
200:M 02 Jan 2026 13:53:22.152 * Running mode=standalone, port=17450.
200:M 02 Jan 2026 13:53:22.152 # Server initialized
200:M 02 Jan 2026 13:53:22.152 * Ready to accept connections


=== REDIS BUG REPORT START: Cut & paste starting from here ===
200:M 02 Jan 2026 13:53:22.268 # Redis 6.2.14 crashed by signal: 11, si_code: 1
200:M 02 Jan 2026 13:53:22.268 # Accessing address: 0xffffffffffffffff

------ STACK TRACE ------
Backtrace:
/usr/bin/redis-server *:17450(debugCommand+0x178)[0x484db8]

------ INFO OUTPUT ------
used_memory:2036304

------ FAST MEMORY TEST ------
Fast memory test PASSED, however your memory can still be broken.

=== REDIS BUG REPORT END. Make sure to include from START to END. ===
";

#[test]
fn a_report_cut_by_a_restart_ends_there_and_the_next_crash_is_its_own() {
    let path = std::path::Path::new("crash-cut-by-restart.log");
    let buf = CRASH_CUT_BY_RESTART_THEN_CRASH.as_bytes();
    let whole = analysed_in_pieces(path, buf, usize::MAX, usize::MAX);
    for piece in [1, 7, 64, 333, 1000] {
        let got = analysed_in_pieces(path, buf, piece, usize::MAX);
        assert!(
            got == whole,
            "pieces of {piece} bytes: analysis differs from one piece"
        );
    }
    let (items, counters) = chunk::parse_buffer(buf, 1, 1, &|_| {});
    let t = super::timeline::build(
        vec![super::timeline::InputFile {
            path: path.display().to_string(),
            source: path.to_path_buf(),
            plain: true,
            set: 0,
            mtime: None,
            compression: "none",
            parsed: chunk::Parsed {
                items,
                counters,
                bytes: buf.len() as u64,
            },
            error: None,
        }],
        &["set".to_string()],
        None,
    );
    let line_of = |needle: &str| {
        CRASH_CUT_BY_RESTART_THEN_CRASH
            .lines()
            .position(|l| l.contains(needle))
            .unwrap() as u64
            + 1
    };
    let lifetimes: Vec<(u32, &str)> = t.lifetimes.iter().map(|l| (l.pid, l.end.name())).collect();
    assert_eq!(lifetimes, [(100, "crash"), (200, "crash")]);
    // The glued line starts pid 200.
    let second = &t.lifetimes[1];
    assert!(second.explicit_start);
    assert_eq!(
        second.first.map(|c| c.line()),
        Some(line_of(".O.O.O.O.O.200:C"))
    );
    assert_eq!(second.version.as_deref(), Some("Redis 6.2.14"));
    // Each lifetime has its own report: pid 100's ends, cut short, where
    // pid 200 starts and keeps only what it had gathered.
    let (c1, c2) = (t.lifetimes[0].crash.unwrap(), t.lifetimes[1].crash.unwrap());
    assert_ne!(c1, c2);
    assert_eq!(t.crashes.len(), 2);
    let (first, last) = (&t.crashes[c1], &t.crashes[c2]);
    assert_eq!((first.signal, last.signal), (Some(7), Some(11)));
    assert_eq!(first.frames, ["rdbLoad"]);
    assert_eq!(first.end, None);
    assert_eq!((first.memtest, first.info("used_memory")), (None, None));
    assert_eq!(
        first.start.map(|c| c.line()),
        Some(line_of("BUG REPORT START"))
    );
    assert_eq!(last.frames, ["debugCommand"]);
    assert_eq!(last.address.as_deref(), Some("0xffffffffffffffff"));
    assert_eq!(last.memtest, Some(true));
    assert_eq!(last.info("used_memory"), Some("2036304"));
    assert_eq!(last.end.map(|c| c.line()), Some(line_of("BUG REPORT END")));
    // Both crash incidents name their own process's reason.
    let incidents = super::rules::run(&t, false);
    let crashes: Vec<&str> = incidents
        .iter()
        .filter(|i| i.kind == "crash")
        .map(|i| i.summary.as_str())
        .collect();
    assert_eq!(crashes.len(), 2, "{crashes:#?}");
    assert!(crashes[0].contains("signal 7 (SIGBUS)") && crashes[0].contains("cut short"));
    assert!(crashes[1].contains("signal 11 (SIGSEGV)") && !crashes[1].contains("cut short"));
}

#[test]
fn year_less_lines_over_new_year_count_one_rollover() {
    // The process's span (first line in December, last in January) used to
    // walk the months again after the January lines: two rollovers.
    let log = b"\
1718:M 31 Dec 23:59:58.000 * Ready to accept connections
1718:M 31 Dec 23:59:59.000 * DB saved on disk
1718:M 01 Jan 00:00:01.000 * DB saved on disk
";
    let mut b = super::timeline::Builder::new(&["set".to_string()], None, false);
    let f = b.begin_file(
        "redis.log".into(),
        "redis.log".into(),
        true,
        0,
        Some((2027, 1)),
        "none",
    );
    let (items, c) = chunk::parse_buffer(log, 1, 1, &|_| {});
    b.feed(f, items);
    b.end_file(f, &c, log.len() as u64, None);
    let t = b.finish();
    let times: Vec<String> = t
        .events
        .iter()
        .map(|e| super::line::format_ms(e.ts().unwrap()))
        .collect();
    assert_eq!(
        times,
        [
            "2026-12-31 23:59:58.000",
            "2026-12-31 23:59:59.000",
            "2027-01-01 00:00:01.000"
        ]
    );
}

/// A node restarted many times shows how its processes ended as counts,
/// not one word per process: thousands of restarts made lines of 200 kB.
#[test]
fn many_lifetimes_of_a_node_are_summarised_by_how_they_ended() {
    let mut log = String::new();
    for (k, pid) in (100..120).enumerate() {
        let (mi, s) = (k / 60, k % 60);
        let at = |ms: u32| format!("{pid}:M 02 Jan 2026 13:{mi:02}:{s:02}.{ms:03}");
        log += &format!("{pid}:C 02 Jan 2026 13:{mi:02}:{s:02}.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n");
        log += &format!("{} * Ready to accept connections tcp\n", at(100));
        // Every fourth process is killed without a word.
        if k % 4 != 3 {
            log += &format!("{} # User requested shutdown...\n", at(500));
            log += &format!("{} # Redis is now ready to exit, bye bye...\n", at(600));
        }
    }
    let mut b = super::timeline::Builder::new(&["set".to_string()], None, false);
    let path = std::path::Path::new("restarts.log");
    let f = b.begin_file(
        "restarts.log".into(),
        path.to_path_buf(),
        true,
        0,
        None,
        "none",
    );
    let (items, counters) = chunk::parse_chunks_of(log.as_bytes(), usize::MAX, 1, 0, &|_| {});
    b.feed(f, items);
    b.end_file(f, &counters, log.len() as u64, None);
    let t = b.finish();
    assert_eq!(t.nodes.len(), 1);
    assert_eq!(
        super::render::lifetime_ends(&t, &t.nodes[0]),
        "clean ×15, unknown-kill ×4, running ×1"
    );
    // A few are listed one by one, in order.
    let few = super::timeline::Node {
        lifetimes: t.nodes[0].lifetimes[..5].to_vec(),
        ..t.nodes[0].clone()
    };
    assert_eq!(
        super::render::lifetime_ends(&t, &few),
        "clean, clean, clean, unknown-kill, clean"
    );
}

#[test]
fn sets_are_named_by_as_much_of_their_path_as_tells_them_apart() {
    let sets = [
        "/var/log/node-a/redis.log",
        "/var/log/node-b/redis.log",
        "/srv/x/node-a/redis.log",
        "/var/log/node-a/sentinel.log",
        "redis.log",
        "./old/redis-6380.log",
    ]
    .map(String::from);
    assert_eq!(
        super::set_names(&sets),
        [
            "log/node-a/redis.log",
            "node-b/redis.log",
            "x/node-a/redis.log",
            "sentinel.log",
            "redis.log",
            "redis-6380.log",
        ]
    );
    // Alone, or with names of their own: the file name.
    let sets = ["/a/redis.log", "/b/redis-6380.log"].map(String::from);
    assert_eq!(super::set_names(&sets), ["redis.log", "redis-6380.log"]);
}
