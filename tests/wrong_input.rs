//! Wrong input fails loudly: files that are no log, unknown `--type` and
//! `--encoding` names, empty files, compressions that are not read, and
//! standard input named `<stdin>`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn run_in(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redsleuth"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = c.spawn().unwrap();
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(args, None)
}

fn temp(name: &str, bytes: &[u8]) -> String {
    let d = std::env::temp_dir().join(format!("redsleuth-wrong-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p: PathBuf = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

const DUMP: &str = "testdata/rdb/debian-7.0.15/all-types.rdb";
const LOG: &str = "testdata/logs/redact/primary.log";

#[test]
fn logs_on_files_that_are_no_log_exit_2_naming_each() {
    let png = temp(
        "shot.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02",
    );
    let (code, out, err) = run(&["logs", "-q", &png, "README.md", DUMP]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    for f in ["shot.png", "README.md", "all-types.rdb"] {
        assert!(
            err.lines()
                .any(|l| l.contains(f) && l.contains("no line looked like a Redis/Valkey log")),
            "{f}: {err}"
        );
    }
    // Some logs, some not: exit 3, naming only the ones that were not.
    let (code, out, err) = run(&["logs", "-q", "--format", "json", "README.md", LOG]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("README.md") && !err.contains("primary.log"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors = doc["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e
        .as_str()
        .unwrap()
        .starts_with("README.md: no line looked like")));
    assert!(!doc["incidents"].as_array().unwrap().is_empty(), "{out}");
}

#[test]
fn unknown_type_or_encoding_is_a_usage_error_listing_the_valid_names() {
    let (code, out, err) = run(&["keys", "--type", "hsh", DUMP]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("'hsh'") && err.contains("string, list, set, zset, hash, stream"),
        "{err}"
    );
    let (code, out, err) = run(&["keys", "--encoding", "lstpack", DUMP]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("'lstpack'") && err.contains("listpack, listpackex, intset, hashtable"),
        "{err}"
    );
    // A module type name is not a typo.
    let (code, _, err) = run(&["keys", "-q", "--type", "ReJSON-RL", DUMP]);
    assert_eq!(code, 0, "{err}");
    // --encoding filters rows as --type does: exactly the rows of that
    // encoding among the unfiltered ones.
    let (_, all, _) = run(&["keys", "-q", DUMP]);
    let (code, some, err) = run(&[
        "keys",
        "-q",
        "--type",
        "hash",
        "--encoding",
        "listpack",
        DUMP,
    ]);
    assert_eq!(code, 0, "{err}");
    let want: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("\"encoding\":\"listpack\"") && l.ends_with("\"type\":\"hash\"}"))
        .collect();
    assert!(want.len() >= 3);
    assert_eq!(some.lines().collect::<Vec<_>>(), want);
}

#[test]
fn an_empty_file_says_empty_file() {
    let empty = temp("empty.rdb", b"");
    for sub in ["check", "rdb", "keys"] {
        let (code, _, err) = run(&[sub, "-q", &empty]);
        assert_eq!(code, 3, "{sub}: {err}");
        assert!(
            err.contains("empty.rdb") && err.contains("empty file"),
            "{sub}: {err}"
        );
    }
    let empty_log = temp("empty.log", b"");
    let (code, _, err) = run(&["logs", "-q", &empty_log]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("empty.log: empty file"), "{err}");
    // Beside a log, an empty (rotated-away) file is said but does not fail.
    let (code, _, err) = run(&["logs", "-q", &empty_log, LOG]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("empty.log: empty file"), "{err}");
}

#[test]
fn xz_and_bzip2_inputs_say_which_compression_is_unsupported() {
    // The first bytes of `xz` and `bzip2` output.
    let xz = temp(
        "dump.rdb.xz",
        &[
            0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4, 0xe6, 0xd6, 0xb4, 0x46, 2, 0,
        ],
    );
    let bz = temp("dump.rdb.bz2", b"BZh91AY&SY\x12\x34\x56\x78\x00\x00");
    for (f, name) in [(&xz, "xz-compressed"), (&bz, "bzip2-compressed")] {
        for sub in ["check", "rdb", "keys", "logs"] {
            let (code, _, err) = run(&[sub, "-q", f]);
            assert_eq!(code, 2, "{sub} {f}: {err}");
            assert!(
                err.contains(f.as_str()) && err.contains(name) && err.contains("not supported"),
                "{sub}: {err}"
            );
        }
    }
}

#[test]
fn stdin_is_named_stdin_in_reports() {
    let dump = std::fs::read(format!("{}/{DUMP}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (code, out, err) = run_in(&["rdb", "-q", "--format", "json", "-"], Some(&dump));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["source"]["path"], "<stdin>");
    let (code, out, err) = run_in(&["check", "-"], Some(&dump[..dump.len() / 2]));
    assert_eq!(code, 3);
    assert!(out.starts_with("file       <stdin> ("), "{out}");
    assert!(
        err.lines().all(|l| l.starts_with("redsleuth: <stdin>: ")),
        "{err}"
    );
    let log = std::fs::read(format!("{}/{LOG}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (code, out, err) = run_in(&["logs", "-q", "--format", "json", "-"], Some(&log));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["files"][0]["path"], "<stdin>");
    assert_eq!(doc["incidents"][0]["evidence"][0]["file"], "<stdin>");
}

/// What a terminal shows while `cmd` runs with its stderr on one: the
/// command runs under `script` (util-linux), which gives it a pseudo
/// terminal and copies what was drawn there to its own stdout.
fn on_a_terminal(cmd: &str) -> String {
    let o = Command::new("script")
        .args(["-qec", cmd, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs the command on a pseudo terminal");
    assert!(o.status.success(), "{cmd}: {:?}", o.status);
    String::from_utf8_lossy(&o.stdout).into()
}

#[test]
fn standard_input_shows_the_bytes_read_on_a_terminal() {
    let bin = env!("CARGO_BIN_EXE_redsleuth");
    // 146 083 bytes: one read of the 1 MiB spool buffer, so the counter
    // shows the whole input.
    let shown = on_a_terminal(&format!("{bin} check - < {DUMP} > /dev/null"));
    assert!(shown.contains("<stdin>: 142.66 KiB read"), "{shown:?}");
    let shown = on_a_terminal(&format!("{bin} keys - < {DUMP} > /dev/null"));
    assert!(shown.contains("<stdin>: 142.66 KiB read"), "{shown:?}");
    let log_bytes = std::fs::metadata(format!("{}/{LOG}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .len();
    let shown = on_a_terminal(&format!("{bin} logs - < {LOG} > /dev/null"));
    let want = format!("<stdin>: {:.2} KiB read", log_bytes as f64 / 1024.0);
    assert!(shown.contains(&want), "{want}: {shown:?}");
    // `--quiet` draws nothing, and a named file has no stdin counter.
    let shown = on_a_terminal(&format!("{bin} check -q - < {DUMP} > /dev/null"));
    assert!(!shown.contains("<stdin>"), "{shown:?}");
    let shown = on_a_terminal(&format!("{bin} check {DUMP} > /dev/null"));
    assert!(!shown.contains("<stdin>"), "{shown:?}");
}
