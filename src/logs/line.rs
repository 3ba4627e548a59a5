//! The line grammar: one Redis/Valkey log line → a borrowed [`LogLine`].
//!
//! This is the first stage of the log flow (`chunk → line → catalog →
//! timeline → rules → render`). It recognises every native format of
//! log-events.md §1.1 (1.2.x, `[pid]` 1.3–2.8, `pid:role` 3.0–4.0 without a
//! year, 5.0+ with a year, Valkey iso8601 / epoch-ms timestamps and `logfmt`),
//! signal-handler lines, and the wrappers real archives add (syslog RFC3164 and
//! RFC5424, journald short/short-iso/short-precise and JSON, docker `-t` and
//! json-file, Kubernetes CRI, docker compose). Formats are detected per line
//! because `CONFIG SET log-format` can change them in the middle of a file.
//!
//! Nothing here allocates unless a wrapper forces it (JSON escapes), and
//! nothing looks further than [`MAX_PARSE`] bytes into a line, so a 100 MB line
//! costs no more than a short one.

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1, take_while_m_n};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{map, opt};
use nom::sequence::{preceded, tuple};
use nom::IResult;

/// Lines longer than this are parsed and kept only up to this many bytes;
/// Redis itself cuts a message at 1023 bytes (`LOG_MAX_LEN`), so anything
/// longer is a wrapper, a dump or garbage.
pub const MAX_PARSE: usize = 64 * 1024;

/// Log level as printed (`.`, `-`, `*`, `#` or the logfmt/syslog word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `.` / `debug`.
    Debug,
    /// `-` / `info` (Valkey logfmt prints verbose as info).
    Verbose,
    /// `*` / `notice`.
    Notice,
    /// `#` / `warning`.
    Warning,
}

impl Level {
    /// The level's name as used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Verbose => "verbose",
            Level::Notice => "notice",
            Level::Warning => "warning",
        }
    }
}

/// The role a line was written under (`X`, `C`, `S`, `M` or the logfmt word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// `M` / `primary` / `master`.
    Primary,
    /// `S` / `replica`.
    Replica,
    /// `C` / `RDB/AOF`: a fork child, or the main process before `initServer`.
    Child,
    /// `X` / `sentinel`.
    Sentinel,
}

impl Role {
    /// The role's name as used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
            Role::Child => "child",
            Role::Sentinel => "sentinel",
        }
    }
}

/// A timestamp as printed. Wall-clock values are kept as printed (no time
/// zone is applied) so that nodes logging local time line up with each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Milliseconds since 1970-01-01 of the printed wall clock (or of the
    /// epoch value for signal-handler and epoch-ms lines).
    Abs(i64),
    /// A timestamp without a year (Redis < 5.0, RFC3164 syslog): month 1–12,
    /// day, and milliseconds since midnight. The year is inferred later.
    NoYear {
        /// Month, 1–12.
        mon: u8,
        /// Day of month.
        day: u8,
        /// Milliseconds since midnight.
        msod: u32,
    },
    /// Milliseconds since the host booted (plain `dmesg`): placed in time
    /// only when the boot time is given (`--boot-time`).
    SinceBoot(i64),
}

/// Which native format the line used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `DD Mon HH:MM:SS L msg` (1.2.x).
    V12,
    /// `[pid] DD Mon HH:MM:SS[.mmm] L msg` (1.3–2.8).
    Bracket,
    /// `pid:R DD Mon HH:MM:SS.mmm L msg` (3.0 – 5.0-rc3).
    PidRoleNoYear,
    /// `pid:R DD Mon YYYY HH:MM:SS.mmm L msg` (5.0+, Valkey legacy).
    PidRole,
    /// `pid:R <iso8601> L msg` (Valkey `log-timestamp-format iso8601`).
    PidRoleIso,
    /// `pid:R <epoch ms> L msg` (Valkey `log-timestamp-format milliseconds`).
    PidRoleEpoch,
    /// `pid=… role=… timestamp="…" level=… message="…"` (Valkey logfmt).
    Logfmt,
    /// `pid:signal-handler (epoch) msg` or `[pid | signal handler] (epoch) msg`.
    SignalHandler,
    /// A bare message inside a wrapper (syslog with `syslog-enabled yes`).
    Bare,
}

/// The outer wrapper around the native line, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wrapper {
    /// The line as the server wrote it.
    None,
    /// RFC3164 / RFC5424 syslog or journalctl text output.
    Syslog,
    /// `journalctl -o json`.
    JournalJson,
    /// `docker logs -t` / `kubectl logs --timestamps`.
    Docker,
    /// docker json-file on disk.
    DockerJson,
    /// Kubernetes CRI log file.
    Cri,
    /// `docker compose logs`.
    Compose,
    /// The kernel ring buffer as `dmesg` prints it: `[Www Mmm d HH:MM:SS
    /// YYYY] ` with `-T`, or `[seconds.micros] ` since boot (no wall clock).
    Dmesg,
}

impl Wrapper {
    /// The wrapper's name as used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Wrapper::None => "none",
            Wrapper::Syslog => "syslog",
            Wrapper::JournalJson => "journald",
            Wrapper::Docker => "docker",
            Wrapper::DockerJson => "docker-json",
            Wrapper::Cri => "cri",
            Wrapper::Compose => "compose",
            Wrapper::Dmesg => "dmesg",
        }
    }
}

/// One parsed log line. `msg` borrows from the input unless a JSON wrapper
/// had to unescape it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine<'a> {
    /// Process id, when printed.
    pub pid: Option<u32>,
    /// Role character, when printed.
    pub role: Option<Role>,
    /// Level, when printed.
    pub level: Option<Level>,
    /// The timestamp, when printed.
    pub stamp: Option<Stamp>,
    /// The wrapper's own timestamp when it carries a year (used only to
    /// anchor the year of year-less inner lines).
    pub outer_ms: Option<i64>,
    /// The native format.
    pub format: Format,
    /// The outer wrapper.
    pub wrapper: Wrapper,
    /// The message text (without prefix and trailing CR).
    pub msg: Cow<'a, [u8]>,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        let rem = ms.rem_euclid(86_400_000);
        let s = rem / 1000;
        return format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
            s / 3600,
            (s / 60) % 60,
            s % 60,
            rem % 1000
        );
    }
    // Written digit by digit: summaries of hundreds of thousands of
    // incidents print several times each, and the formatting machinery
    // was a quarter of the rules' time.
    let mut out = String::with_capacity(23);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, i64::from(m), 2);
    out.push('-');
    push_digits(&mut out, i64::from(d), 2);
    out.push(' ');
    push_hms(&mut out, ms);
    out
}

/// `HH:MM:SS.mmm` of a time of day, appended to `out`.
pub fn push_hms(out: &mut String, ms: i64) {
    let rem = ms.rem_euclid(86_400_000);
    let s = rem / 1000;
    push_digits(out, s / 3600, 2);
    out.push(':');
    push_digits(out, (s / 60) % 60, 2);
    out.push(':');
    push_digits(out, s % 60, 2);
    out.push('.');
    push_digits(out, rem % 1000, 3);
}

/// Appends `v` (0 ≤ v < 10^width) with leading zeros.
fn push_digits(out: &mut String, v: i64, width: u32) {
    let mut p = 10i64.pow(width - 1);
    while p > 0 {
        out.push(char::from(b'0' + ((v / p) % 10) as u8));
        p /= 10;
    }
}

fn num<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn digits_n(n: usize) -> impl Fn(&[u8]) -> IResult<&[u8], u32> {
    move |i| {
        let (i, d) = take_while_m_n(n, n, |c: u8| c.is_ascii_digit())(i)?;
        Ok((i, d.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'))))
    }
}

fn pid(i: &[u8]) -> IResult<&[u8], u32> {
    let (rest, d) = take_while_m_n(1, 10, |c: u8| c.is_ascii_digit())(i)?;
    match num::<u32>(d) {
        Some(p) => Ok((rest, p)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Digit,
        ))),
    }
}

fn month(i: &[u8]) -> IResult<&[u8], u8> {
    let (rest, m) = take_while_m_n(3, 3, |c: u8| c.is_ascii_alphabetic())(i)?;
    match MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m)) {
        Some(p) => Ok((rest, p as u8 + 1)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

/// `HH:MM:SS` with optional `.fraction` (any number of digits, kept to ms).
fn hms(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, (h, _, m, _, s)) =
        tuple((digits_n(2), char(':'), digits_n(2), char(':'), digits_n(2)))(i)?;
    let (i, frac) = opt(preceded(one_of(".,"), digit1))(i)?;
    let ms = frac.map_or(0, |f: &[u8]| {
        let mut v = 0u32;
        for k in 0..3 {
            v = v * 10 + f.get(k).map_or(0, |c| u32::from(c - b'0'));
        }
        v
    });
    if h > 23 || m > 59 || s > 60 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((i, ((h * 60 + m) * 60 + s.min(59)) * 1000 + ms))
}

fn day(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, d) = take_while_m_n(1, 2, |c: u8| c.is_ascii_digit())(i)?;
    Ok((i, d.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'))))
}

fn abs(y: i64, mon: u32, d: u32, msod: u32) -> Stamp {
    Stamp::Abs(days_from_civil(y, mon, d.max(1)) * 86_400_000 + i64::from(msod))
}

/// `DD Mon YYYY HH:MM:SS.mmm` or `DD Mon HH:MM:SS.mmm`.
fn legacy_ts(i: &[u8]) -> IResult<&[u8], Stamp> {
    let (i, (d, _, mon, _)) = tuple((day, char(' '), month, char(' ')))(i)?;
    let (i, year) = opt(tuple((digits_n(4), char(' '))))(i)?;
    let (i, t) = hms(i)?;
    let stamp = match year {
        Some((y, _)) => abs(i64::from(y), u32::from(mon), d, t),
        None => Stamp::NoYear {
            mon,
            day: d as u8,
            msod: t,
        },
    };
    Ok((i, stamp))
}

/// Time zone suffix: `Z`, `±HH:MM` or `±HHMM`; value in minutes.
fn tz(i: &[u8]) -> IResult<&[u8], i32> {
    alt((
        map(char('Z'), |_| 0),
        map(
            tuple((one_of("+-"), digits_n(2), opt(char(':')), digits_n(2))),
            |(s, h, _, m)| {
                let v = (h * 60 + m) as i32;
                if s == '-' {
                    -v
                } else {
                    v
                }
            },
        ),
    ))(i)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][tz]`; the wall clock as printed, and the zone.
fn iso(i: &[u8]) -> IResult<&[u8], (Stamp, Option<i32>)> {
    let (i, (y, _, mo, _, d, _, t)) = tuple((
        digits_n(4),
        char('-'),
        digits_n(2),
        char('-'),
        digits_n(2),
        one_of("T "),
        hms,
    ))(i)?;
    let (i, z) = opt(tz)(i)?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((i, (abs(i64::from(y), mo, d, t), z)))
}

fn epoch_ms(i: &[u8]) -> IResult<&[u8], Stamp> {
    let (rest, d) = take_while_m_n(12, 14, |c: u8| c.is_ascii_digit())(i)?;
    match num::<i64>(d) {
        Some(v) => Ok((rest, Stamp::Abs(v))),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Digit,
        ))),
    }
}

/// The level a native line's level character stands for.
fn level_of(c: u8) -> Option<Level> {
    Some(match c {
        b'.' => Level::Debug,
        b'-' => Level::Verbose,
        b'*' => Level::Notice,
        b'#' => Level::Warning,
        _ => return None,
    })
}

/// The role a native line's role character stands for.
fn role_of(c: u8) -> Option<Role> {
    Some(match c {
        b'M' => Role::Primary,
        b'S' => Role::Replica,
        b'C' => Role::Child,
        b'X' => Role::Sentinel,
        _ => return None,
    })
}

/// One character read by `of`, as a parser.
fn char_of<T>(i: &[u8], of: fn(u8) -> Option<T>) -> IResult<&[u8], T> {
    match i.first().copied().and_then(of) {
        Some(v) => Ok((&i[1..], v)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::OneOf,
        ))),
    }
}

fn level_char(i: &[u8]) -> IResult<&[u8], Level> {
    char_of(i, level_of)
}

fn role_char(i: &[u8]) -> IResult<&[u8], Role> {
    char_of(i, role_of)
}

/// The message after `L `; an empty message may lack the space.
fn after_level(i: &[u8]) -> &[u8] {
    i.strip_prefix(b" ").unwrap_or(i)
}

/// The `pid:role DD Mon [YYYY ]HH:MM:SS.mmm L msg` line of every server
/// since 3.0, read without the combinators: the same grammar as
/// [`native_pid_role`]'s first branch, which it must agree with wherever it
/// gives an answer (`None` leaves the line to the full parser). The
/// combinators' general path was a quarter of the instructions per line.
fn fast_pid_role(i: &[u8]) -> Option<LogLine<'_>> {
    let mut at = 0usize;
    let digits = |at: &mut usize, min: usize, max: usize| -> Option<u32> {
        // At most ten digits: the value fits a u64.
        let (mut v, mut n) = (0u64, 0usize);
        while n < max {
            match i.get(*at + n) {
                Some(c @ b'0'..=b'9') => v = v * 10 + u64::from(c - b'0'),
                _ => break,
            }
            n += 1;
        }
        if n < min {
            return None;
        }
        *at += n;
        u32::try_from(v).ok()
    };
    let byte =
        |at: &mut usize, want: u8| -> Option<()> { (i.get(*at) == Some(&want)).then(|| *at += 1) };
    let p = digits(&mut at, 1, 10)?;
    byte(&mut at, b':')?;
    let role = role_of(*i.get(at)?)?;
    at += 1;
    byte(&mut at, b' ')?;
    let d = digits(&mut at, 1, 2)?;
    byte(&mut at, b' ')?;
    let m = i.get(at..at + 3)?;
    let mon = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m))? as u8 + 1;
    at += 3;
    byte(&mut at, b' ')?;
    // A year only when four digits and a space follow, as `opt` reads it.
    let year = match i.get(at..at + 5) {
        Some([y @ .., b' ']) if y.iter().all(u8::is_ascii_digit) => {
            let y = digits(&mut at, 4, 4)?;
            at += 1;
            Some(y)
        }
        _ => None,
    };
    let h = digits(&mut at, 2, 2)?;
    byte(&mut at, b':')?;
    let mi = digits(&mut at, 2, 2)?;
    byte(&mut at, b':')?;
    let sec = digits(&mut at, 2, 2)?;
    let mut ms = 0u32;
    if matches!(i.get(at), Some(b'.' | b',')) && i.get(at + 1).is_some_and(u8::is_ascii_digit) {
        at += 1;
        let f = i[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        for k in 0..3 {
            ms = ms * 10 + i[at..at + f].get(k).map_or(0, |c| u32::from(c - b'0'));
        }
        at += f;
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let t = ((h * 60 + mi) * 60 + sec.min(59)) * 1000 + ms;
    byte(&mut at, b' ')?;
    let level = level_of(*i.get(at)?)?;
    at += 1;
    let rest = &i[at..];
    if !(rest.is_empty() || rest[0] == b' ') {
        return None;
    }
    let (stamp, format) = match year {
        Some(y) => (abs(i64::from(y), u32::from(mon), d, t), Format::PidRole),
        None => (
            Stamp::NoYear {
                mon,
                day: d as u8,
                msod: t,
            },
            Format::PidRoleNoYear,
        ),
    };
    Some(line(
        Some(p),
        Some(role),
        Some(level),
        Some(stamp),
        format,
        after_level(rest),
    ))
}

fn native_pid_role(i: &[u8]) -> IResult<&[u8], LogLine<'_>> {
    if let Some(l) = fast_pid_role(i) {
        return Ok((&[], l));
    }
    nom_pid_role(i)
}

/// [`native_pid_role`] by the combinators, for every variant of the prefix.
fn nom_pid_role(i: &[u8]) -> IResult<&[u8], LogLine<'_>> {
    let (i, (p, _, r, _)) = tuple((pid, char(':'), role_char, char(' ')))(i)?;
    let (i, (stamp, format)) = alt((
        map(legacy_ts, |s| {
            let f = if matches!(s, Stamp::NoYear { .. }) {
                Format::PidRoleNoYear
            } else {
                Format::PidRole
            };
            (s, f)
        }),
        map(iso, |(s, _)| (s, Format::PidRoleIso)),
        map(epoch_ms, |s| (s, Format::PidRoleEpoch)),
    ))(i)?;
    let (i, (_, lvl)) = tuple((char(' '), level_char))(i)?;
    if !(i.is_empty() || i[0] == b' ') {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Space,
        )));
    }
    Ok((
        &[],
        line(
            Some(p),
            Some(r),
            Some(lvl),
            Some(stamp),
            format,
            after_level(i),
        ),
    ))
}

fn native_signal(i: &[u8]) -> IResult<&[u8], LogLine<'_>> {
    let (i, p) = alt((
        map(tuple((pid, tag(":signal-handler ("))), |(p, _)| p),
        map(
            tuple((char('['), pid, tag(" | signal handler] ("))),
            |(_, p, _)| p,
        ),
    ))(i)?;
    let (i, (e, _)) = tuple((digit1, char(')')))(i)?;
    let secs: i64 = num(e).unwrap_or(0);
    let msg = i.strip_prefix(b" ").unwrap_or(i);
    let stamp = Stamp::Abs(secs.saturating_mul(1000));
    Ok((
        &[],
        line(
            Some(p),
            None,
            Some(Level::Warning),
            Some(stamp),
            Format::SignalHandler,
            msg,
        ),
    ))
}

fn native_bracket(i: &[u8]) -> IResult<&[u8], LogLine<'_>> {
    let (i, (_, p, _, stamp, _, lvl)) =
        tuple((char('['), pid, tag("] "), legacy_ts, char(' '), level_char))(i)?;
    let _ = one_of::<_, _, nom::error::Error<&[u8]>>(" ")(i).or_else(|e| {
        if i.is_empty() {
            Ok((i, ' '))
        } else {
            Err(e)
        }
    })?;
    Ok((
        &[],
        line(
            Some(p),
            None,
            Some(lvl),
            Some(stamp),
            Format::Bracket,
            after_level(i),
        ),
    ))
}

fn native_v12(i: &[u8]) -> IResult<&[u8], LogLine<'_>> {
    let (i, (stamp, _, lvl, _)) = tuple((legacy_ts, char(' '), level_char, char(' ')))(i)?;
    if !matches!(stamp, Stamp::NoYear { .. }) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((
        &[],
        line(None, None, Some(lvl), Some(stamp), Format::V12, i),
    ))
}

fn line<'a>(
    pid: Option<u32>,
    role: Option<Role>,
    level: Option<Level>,
    stamp: Option<Stamp>,
    format: Format,
    msg: &'a [u8],
) -> LogLine<'a> {
    LogLine {
        pid,
        role,
        level,
        stamp,
        outer_ms: None,
        format,
        wrapper: Wrapper::None,
        msg: Cow::Borrowed(msg),
    }
}

/// Reads a logfmt value: a double-quoted string (Valkey never escapes inside
/// it: `"` becomes `'`) or a bare word. The message is last on the line, so
/// for it the closing quote is the line's last byte.
fn logfmt_value(i: &[u8], last: bool) -> Option<(&[u8], &[u8])> {
    if let Some(rest) = i.strip_prefix(b"\"") {
        if last {
            let v = rest.strip_suffix(b"\"").unwrap_or(rest);
            return Some((v, &[]));
        }
        let end = memchr::memchr(b'"', rest)?;
        Some((&rest[..end], &rest[end + 1..]))
    } else {
        let end = memchr::memchr(b' ', i).unwrap_or(i.len());
        Some((&i[..end], &i[end..]))
    }
}

fn native_logfmt(i: &[u8]) -> Option<LogLine<'_>> {
    let mut rest = i.strip_prefix(b"pid=")?;
    let (mut pid, mut role, mut level, mut stamp, mut msg) = (None, None, None, None, None);
    let mut first = true;
    loop {
        if !first {
            rest = rest.strip_prefix(b" ")?;
        }
        let (key, after) = if first {
            (&b"pid"[..], rest)
        } else {
            let eq = memchr::memchr(b'=', rest)?;
            (&rest[..eq], &rest[eq + 1..])
        };
        first = false;
        let is_msg = key == b"message";
        let (v, after) = logfmt_value(after, is_msg)?;
        match key {
            b"pid" => pid = num::<u32>(v),
            b"role" => {
                role = match v {
                    b"primary" | b"master" => Some(Role::Primary),
                    b"replica" | b"slave" => Some(Role::Replica),
                    b"sentinel" => Some(Role::Sentinel),
                    _ => Some(Role::Child),
                }
            }
            b"level" => {
                level = match v {
                    b"debug" => Some(Level::Debug),
                    b"info" | b"verbose" => Some(Level::Verbose),
                    b"notice" => Some(Level::Notice),
                    _ => Some(Level::Warning),
                }
            }
            b"timestamp" => {
                stamp = if let Ok((_, (s, _))) = iso(v) {
                    Some(s)
                } else if let Ok((r, s)) = epoch_ms(v) {
                    r.is_empty().then_some(s)
                } else {
                    legacy_ts(v).ok().map(|(_, s)| s)
                }
            }
            b"message" => msg = Some(v),
            _ => {}
        }
        rest = after;
        if is_msg || rest.is_empty() {
            break;
        }
    }
    let msg = msg?;
    pid?;
    Some(line(pid, role, level, stamp, Format::Logfmt, msg))
}

/// Parses a native (unwrapped) line.
fn parse_native(i: &[u8]) -> Option<LogLine<'_>> {
    match i.first()? {
        b'0'..=b'9' => {
            if let Ok((_, l)) = native_pid_role(i) {
                return Some(l);
            }
            if let Ok((_, l)) = native_signal(i) {
                return Some(l);
            }
            native_v12(i).ok().map(|(_, l)| l)
        }
        b'[' => native_bracket(i)
            .or_else(|_| native_signal(i))
            .ok()
            .map(|(_, l)| l),
        b'p' => native_logfmt(i),
        _ => None,
    }
}

/// RFC3164 / journalctl prefix: `Mon dd HH:MM:SS[.ffffff] host ident[pid]: `.
fn syslog3164(i: &[u8]) -> IResult<&[u8], (Stamp, Option<u32>)> {
    let (i, (mon, _, _, d, _, t, _)) = tuple((
        month,
        char(' '),
        opt(char(' ')),
        day,
        char(' '),
        hms,
        char(' '),
    ))(i)?;
    let (i, p) = syslog_host_ident(i)?;
    Ok((
        i,
        (
            Stamp::NoYear {
                mon,
                day: d as u8,
                msod: t,
            },
            p,
        ),
    ))
}

/// `host ident[pid]: ` (the pid part is optional).
fn syslog_host_ident(i: &[u8]) -> IResult<&[u8], Option<u32>> {
    let (i, (_, _, _)) = tuple((
        take_while1(|c: u8| c != b' ' && c != b'\t'),
        char(' '),
        take_while1(|c: u8| c != b'[' && c != b':' && c != b' '),
    ))(i)?;
    let (i, p) = opt(tuple((char('['), pid, char(']'))))(i)?;
    let (i, _) = tag(": ")(i)?;
    Ok((i, p.map(|(_, p, _)| p)))
}

/// Joins an inner line to its wrapper: a native line keeps its own fields;
/// a bare message takes the wrapper's timestamp and pid.
fn wrap<'a>(
    inner: &'a [u8],
    wrapper: Wrapper,
    stamp: Option<Stamp>,
    outer_pid: Option<u32>,
) -> LogLine<'a> {
    let outer_ms = match stamp {
        Some(Stamp::Abs(ms)) => Some(ms),
        _ => None,
    };
    match parse_native(inner) {
        Some(mut l) => {
            l.wrapper = wrapper;
            l.outer_ms = outer_ms;
            if l.stamp.is_none() {
                l.stamp = stamp;
            }
            l
        }
        None => LogLine {
            pid: outer_pid,
            role: None,
            level: None,
            stamp,
            outer_ms,
            format: Format::Bare,
            wrapper,
            msg: Cow::Borrowed(inner),
        },
    }
}

fn owned_wrap(
    inner: Vec<u8>,
    wrapper: Wrapper,
    stamp: Option<Stamp>,
    p: Option<u32>,
) -> LogLine<'static> {
    let l = wrap(&inner, wrapper, stamp, p);
    LogLine {
        pid: l.pid,
        role: l.role,
        level: l.level,
        stamp: l.stamp,
        outer_ms: l.outer_ms,
        format: l.format,
        wrapper: l.wrapper,
        msg: Cow::Owned(l.msg.into_owned()),
    }
}

fn json_line(i: &[u8]) -> Option<LogLine<'static>> {
    let v: serde_json::Value = serde_json::from_slice(i).ok()?;
    let o = v.as_object()?;
    if let Some(log) = o.get("log").and_then(|l| l.as_str()) {
        let stamp = o
            .get("time")
            .and_then(|t| t.as_str())
            .and_then(|t| iso(t.as_bytes()).ok())
            .map(|(_, (s, _))| s);
        let inner = log.trim_end_matches(['\n', '\r']).as_bytes().to_vec();
        return Some(owned_wrap(inner, Wrapper::DockerJson, stamp, None));
    }
    let msg = o.get("MESSAGE")?;
    let inner: Vec<u8> = match msg {
        serde_json::Value::String(s) => s.as_bytes().to_vec(),
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|b| b.as_u64())
            .map(|b| b.min(255) as u8)
            .collect(),
        _ => return None,
    };
    let stamp = o
        .get("__REALTIME_TIMESTAMP")
        .and_then(|t| t.as_str())
        .and_then(|t| num::<i64>(t.as_bytes()))
        .map(|us| Stamp::Abs(us / 1000));
    let p = o
        .get("_PID")
        .and_then(|p| p.as_str())
        .and_then(|p| num::<u32>(p.as_bytes()));
    Some(owned_wrap(inner, Wrapper::JournalJson, stamp, p))
}

/// Splits a Kubernetes CRI line `<time> <stream> <P|F> <content>` into
/// (whether it is the final piece `F`, `<time> <stream> ` and the content).
/// CRI cuts records longer than its buffer into `P` (partial) pieces that
/// the next line continues; [`super::chunk`] joins them.
pub fn cri_parts(raw: &[u8]) -> Option<(bool, &[u8], &[u8])> {
    let i = raw.strip_suffix(b"\r").unwrap_or(raw);
    if !i.first()?.is_ascii_digit() {
        return None;
    }
    let (rest, _) = iso(i).ok()?;
    let rest = rest.strip_prefix(b" ")?;
    let after = rest
        .strip_prefix(b"stdout ")
        .or_else(|| rest.strip_prefix(b"stderr "))?;
    let last = match after.first()? {
        b'F' => true,
        b'P' => false,
        _ => return None,
    };
    let content = after[1..].strip_prefix(b" ")?;
    let head_len = i.len() - after.len();
    Some((last, &i[..head_len], content))
}

/// Parses one line (without its `\n`). Returns `None` for a line that matches
/// no format: a continuation line (crash report, logo, INFO dump) or garbage.
pub fn parse_line(raw: &[u8]) -> Option<LogLine<'_>> {
    let mut i = &raw[..raw.len().min(MAX_PARSE)];
    if let Some(s) = i.strip_suffix(b"\r") {
        i = s;
    }
    // The glued form is tried only for lines nothing else accepts, so that
    // no line that parsed before parses differently now.
    parse_trimmed(i).or_else(|| unglue_memtest(i))
}

/// What the fast memory test of a crash report prints as progress (`.O.O.`,
/// `o`, `0`, `*`), with no newline until the test ends.
const MEMTEST_PROGRESS: &[u8] = b".oO0*";

/// A `pid:role` line glued to memory-test progress output.
///
/// A process killed during the fast memory test of its crash report leaves
/// the progress characters without a newline, so the next line written to
/// the file (typically the next process's "is starting" line) follows them
/// on the same line. Without this, that start line goes unrecognised and
/// the new process is folded into the dead one's report. The prefix must
/// consist only of progress characters, and what follows must be a whole
/// native `pid:role timestamp level message` line. A `0` right before the
/// pid is taken as progress: a pid never starts with a zero.
fn unglue_memtest(i: &[u8]) -> Option<LogLine<'_>> {
    let n = i
        .iter()
        .take_while(|c| MEMTEST_PROGRESS.contains(c))
        .count();
    if n == 0 {
        return None;
    }
    native_pid_role(&i[n..]).ok().map(|(_, l)| l)
}

/// [`parse_line`] on a line already bounded and without its trailing CR.
fn parse_trimmed(i: &[u8]) -> Option<LogLine<'_>> {
    let first = *i.first()?;
    if let Some(l) = parse_native(i) {
        // A 1.2-style match on "Mar  3 ..." cannot happen (it needs digits
        // first), but `DD Mon` could also be a syslog day; native wins.
        return Some(l);
    }
    match first {
        b'{' => json_line(i),
        b'0'..=b'9' => {
            let (rest, (stamp, _)) = iso(i).ok()?;
            let rest = rest.strip_prefix(b" ")?;
            // CRI: `<ts> stdout F <line>`; P marks a partial line.
            if let Ok((inner, _)) = tuple((
                alt((
                    tag::<_, _, nom::error::Error<&[u8]>>("stdout "),
                    tag("stderr "),
                )),
                one_of("FP"),
                char(' '),
            ))(rest)
            {
                return Some(wrap(inner, Wrapper::Cri, Some(stamp), None));
            }
            if parse_native(rest).is_some() {
                return Some(wrap(rest, Wrapper::Docker, Some(stamp), None));
            }
            if let Ok((inner, p)) = syslog_host_ident(rest) {
                return Some(wrap(inner, Wrapper::Syslog, Some(stamp), p));
            }
            Some(wrap(rest, Wrapper::Docker, Some(stamp), None))
        }
        b'A'..=b'Z' => {
            if let Ok((inner, (stamp, p))) = syslog3164(i) {
                return Some(wrap(inner, Wrapper::Syslog, Some(stamp), p));
            }
            compose(i)
        }
        b'[' => dmesg(i).or_else(|| compose(i)),
        _ => compose(i),
    }
}

/// `dmesg -T`: `[Www Mmm d HH:MM:SS YYYY] msg` (local wall clock, with a
/// year); plain `dmesg`: `[ seconds.micros] msg`, seconds since boot, which
/// need the boot time to become a wall clock (its message counts either
/// way, and a kernel OOM kill still names its pid).
fn dmesg(i: &[u8]) -> Option<LogLine<'_>> {
    let body = i.strip_prefix(b"[")?;
    let human = tuple((
        take_while_m_n(3, 3, |c: u8| c.is_ascii_alphabetic()),
        char(' '),
        month,
        char(' '),
        opt(char(' ')),
        day,
        char(' '),
        hms,
        char(' '),
        digits_n(4),
        tag("] "),
    ))(body);
    if let Ok((msg, (_, _, mon, _, _, d, _, t, _, y, _))) = human {
        let stamp = abs(i64::from(y), u32::from(mon), d, t);
        return Some(wrap(msg, Wrapper::Dmesg, Some(stamp), None));
    }
    let close = memchr::memchr(b']', &body[..body.len().min(24)])?;
    let secs = body[..close].trim_ascii_start();
    let dot = memchr::memchr(b'.', secs)?;
    if dot == 0
        || !secs[..dot].iter().all(u8::is_ascii_digit)
        || !secs[dot + 1..].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let msg = body[close + 1..].strip_prefix(b" ")?;
    let whole: i64 = num(&secs[..dot])?;
    let frac = &secs[dot + 1..];
    let ms = (0..3).fold(0i64, |a, k| {
        a * 10 + frac.get(k).map_or(0, |c| i64::from(c - b'0'))
    });
    let stamp = Stamp::SinceBoot(whole.checked_mul(1000)?.checked_add(ms)?);
    Some(wrap(msg, Wrapper::Dmesg, Some(stamp), None))
}

/// `service-1  | <line>`: a name, padding, `| `.
fn compose(i: &[u8]) -> Option<LogLine<'_>> {
    let bar = memchr::memchr(b'|', &i[..i.len().min(80)])?;
    let (name, rest) = (&i[..bar], &i[bar + 1..]);
    let name_t = name.trim_ascii_end();
    if name_t.is_empty()
        || !name_t
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
        || name_t.len() == name.len()
    {
        return None;
    }
    let inner = rest.strip_prefix(b" ")?;
    let l = parse_native(inner)?;
    Some(LogLine {
        wrapper: Wrapper::Compose,
        ..l
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Every line of every `.log` file under `testdata/logs`.
    pub(in crate::logs) fn bundled_lines() -> Vec<Vec<u8>> {
        fn walk(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "log") {
                    let bytes = std::fs::read(&p).unwrap_or_default();
                    out.extend(bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/logs"),
            &mut out,
        );
        out
    }

    /// The fast reading of the native prefix gives what the combinators
    /// give on every line it accepts: the bundled logs, and each of their
    /// native lines cut short and with each prefix byte replaced.
    #[test]
    fn fast_prefix_agrees_with_the_combinators() {
        let lines = bundled_lines();
        let mut variants = Vec::new();
        for l in lines.iter().filter(|l| nom_pid_role(l).is_ok()).take(400) {
            for cut in 0..l.len().min(40) {
                variants.push(l[..cut].to_vec());
            }
            for k in 0..l.len().min(36) {
                for b in [b' ', b'9', b'0', b'x', b'.', b':', b',', b'M', b'#'] {
                    let mut v = l.clone();
                    v[k] = b;
                    variants.push(v);
                }
            }
        }
        let (mut fast, mut total) = (0, 0);
        for l in lines.iter().chain(&variants) {
            total += 1;
            if let Some(got) = fast_pid_role(l) {
                fast += 1;
                let want = nom_pid_role(l).ok().map(|(_, x)| x);
                assert_eq!(Some(got), want, "{}", String::from_utf8_lossy(l));
            }
        }
        assert!(
            fast > 10_000 && fast < total,
            "{fast} of {total} lines read fast"
        );
    }
}
