//! Reading cited lines back from the inputs.
//!
//! Events and citations keep a byte offset instead of their text, which is
//! what keeps memory flat on large archives. Only what is rendered (a few
//! dozen evidence lines, the listed events) is read back here: by a
//! positioned read of the few KiB at each offset for plain files, and by
//! decompressing again, up to the last wanted offset, for compressed ones.
//!
//! Plain files are not mapped for this: ten thousand offsets spread over a
//! large file would fault in (and keep resident) a readahead window around
//! each, which on a 0.5 GB archive is most of the file.

use std::collections::HashMap;
use std::io::Read;

use super::chunk::{text_of, MAX_TEXT};
use super::timeline::FileInfo;
use crate::source;

/// Cited line texts by (file index, byte offset).
#[derive(Debug, Default)]
pub struct Texts {
    map: HashMap<(usize, u64), Box<str>>,
}

impl Texts {
    /// The text of the line of `file` starting at byte `at` ("" when the
    /// input could not be read again).
    pub fn get(&self, file: usize, at: u64) -> &str {
        self.map.get(&(file, at)).map_or("", |s| s)
    }
}

/// The line starting at `buf[0]`, as evidence text: whole up to
/// [`MAX_TEXT`] bytes, cut with `…` beyond.
fn line_text(buf: &[u8]) -> Box<str> {
    let end = memchr::memchr(b'\n', &buf[..buf.len().min(MAX_TEXT + 2)]);
    match end {
        Some(p) => text_of(&buf[..p]),
        None if buf.len() <= MAX_TEXT + 1 => text_of(buf),
        None => {
            let mut s = String::from_utf8_lossy(&buf[..MAX_TEXT]).into_owned();
            s.push('…');
            s.into()
        }
    }
}

/// Reads the lines at `wanted` (file index, byte offset) back from `files`.
pub fn read_back(files: &[FileInfo], wanted: impl IntoIterator<Item = (usize, u64)>) -> Texts {
    let mut per_file: HashMap<usize, Vec<u64>> = HashMap::new();
    for (f, at) in wanted {
        per_file.entry(f).or_default().push(at);
    }
    let mut out = Texts::default();
    for (f, mut offs) in per_file {
        let Some(info) = files.get(f) else { continue };
        offs.sort_unstable();
        offs.dedup();
        if info.plain {
            if let Ok(file) = std::fs::File::open(&info.source) {
                read_at_offsets(&file, f, &offs, &mut out);
            }
        } else if let Ok((mut r, _)) = source::open_stream(&info.source) {
            read_stream(&mut r, f, &offs, &mut out);
        }
    }
    out
}

/// Reads the line at each of `offs` with one positioned read of up to
/// [`MAX_TEXT`] + 2 bytes (enough for [`line_text`] to cut it).
fn read_at_offsets(file: &std::fs::File, f: usize, offs: &[u64], out: &mut Texts) {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; MAX_TEXT + 2];
    for &at in offs {
        let mut got = 0;
        while got < buf.len() {
            match file.read_at(&mut buf[got..], at + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if got > 0 {
            out.map.insert((f, at), line_text(&buf[..got]));
        }
    }
}

/// One pass over a decompressed stream, picking the lines at `offs`
/// (sorted) and stopping after the last.
fn read_stream(r: &mut dyn Read, f: usize, offs: &[u64], out: &mut Texts) {
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0u64; // offset of buf[0]
    let mut eof = false;
    let mut fill = |buf: &mut Vec<u8>, eof: &mut bool| {
        let mut tmp = vec![0u8; 1 << 20];
        loop {
            match r.read(&mut tmp) {
                Ok(0) => *eof = true,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => *eof = true,
            }
            return;
        }
    };
    for &at in offs {
        // Skip to `at`.
        while !eof && pos + buf.len() as u64 <= at {
            pos += buf.len() as u64;
            buf.clear();
            fill(&mut buf, &mut eof);
        }
        if at < pos || at >= pos + buf.len() as u64 {
            continue;
        }
        buf.drain(..(at - pos) as usize);
        pos = at;
        // Enough of the line to render it.
        while !eof && buf.len() <= MAX_TEXT + 1 && memchr::memchr(b'\n', &buf).is_none() {
            fill(&mut buf, &mut eof);
        }
        out.map.insert((f, at), line_text(&buf));
    }
}
