//! Input sources: one type that hands out the whole input as `&[u8]`.
//!
//! Plain files are memory-mapped, so a 50 GB dump costs page cache, not heap.
//! Compressed inputs (`.gz`, `.lz4` frame, `.zst`) and standard input (`-`)
//! are streamed through a fixed buffer into an unlinked temporary file, which
//! is then mapped the same way: the RDB reader needs random access to the
//! whole stream (salvage resynchronises forwards, the checksum runs on its
//! own thread, cited log lines are read back), and a spooled map gives it
//! that with memory bounded by the pager's window instead of a heap copy of
//! the decompressed size. This is the first stage of the data flow:
//! `source → framer → analyzers → render`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// How an input was compressed, judged by its magic bytes first and its file
/// name second (a `.gz` that is really plain text is read as plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (RFC 1952), possibly several concatenated members.
    Gzip,
    /// LZ4 frame format.
    Lz4,
    /// Zstandard frame format.
    Zstd,
}

impl Compression {
    /// Detects the compression from the first bytes of the input.
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x04, 0x22, 0x4d, 0x18, ..] => Compression::Lz4,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// How an input's path is shown in reports and messages: as given, except
/// standard input (`-`), which is `<stdin>`.
pub fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// A compression recognised by its magic bytes but not read: xz and bzip2
/// inputs would otherwise be judged as corrupt dumps or as files without a
/// log line.
pub fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some("xz"),
        [b'B', b'Z', b'h', b'1'..=b'9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, ..] => Some("bzip2"),
        // An empty bzip2 stream: header then the end-of-stream marker.
        [b'B', b'Z', b'h', b'1'..=b'9', 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, ..] => Some("bzip2"),
        _ => None,
    }
}

fn refuse_unsupported(head: &[u8]) -> io::Result<()> {
    match unsupported_compression(head) {
        None => Ok(()),
        Some(name) => {
            let tool = if name == "xz" { "xz" } else { "bzip2" };
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{name}-compressed input is not supported (gzip, LZ4 frame and zstd are); \
                     decompress it first, e.g. `{tool} -dc FILE | redsleuth SUBCOMMAND -`"
                ),
            ))
        }
    }
}

/// Copies standard input to an unlinked temporary file, reporting the bytes
/// read so far (the size is not known in advance, so progress is a count,
/// not a fraction). The copy goes through a 1 MiB buffer: a dump piped in
/// costs disk in `$TMPDIR`, not memory.
fn spool_stdin(progress: &dyn Fn(u64)) -> io::Result<File> {
    let mut file = tempfile::tempfile()?;
    copy_counted(&mut io::stdin().lock(), &mut file, progress)?;
    io::Seek::rewind(&mut file)?;
    Ok(file)
}

/// Copies `r` to `w` through a 1 MiB buffer, reporting the bytes copied so
/// far after each read; returns the total.
pub fn copy_counted(
    r: &mut dyn Read,
    w: &mut dyn io::Write,
    progress: &dyn Fn(u64),
) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
        progress(total);
    }
}

/// A reader decompressing `raw`.
fn decoder<'r>(raw: impl Read + 'r, compression: Compression) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match compression {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(raw)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
    })
}

enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

/// A whole input held as bytes, either mapped or owned.
pub struct Source {
    path: PathBuf,
    bytes: Bytes,
    compression: Compression,
    on_disk: u64,
}

/// An error opening or decompressing an input, with the path it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", shown(path))]
pub struct SourceError {
    /// The input's path as given.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: io::Error,
}

impl Source {
    /// Opens `path` (`-` is standard input), decompressing it when its magic
    /// bytes say it is gzip, LZ4 frame or zstd.
    pub fn open(path: &Path) -> Result<Source, SourceError> {
        Source::open_with_progress(path, &|_| {})
    }

    /// [`Source::open`], reporting the bytes read so far when the input is
    /// standard input (the one input read before any walk starts).
    pub fn open_with_progress(path: &Path, progress: &dyn Fn(u64)) -> Result<Source, SourceError> {
        let wrap = |source: io::Error| SourceError {
            path: path.to_path_buf(),
            source,
        };
        let file = if path == Path::new("-") {
            spool_stdin(progress).map_err(wrap)?
        } else {
            File::open(path).map_err(wrap)?
        };
        let on_disk = file.metadata().map_err(wrap)?.len();
        let mapped = if on_disk == 0 {
            None
        } else {
            // SAFETY: the map is read-only and lives as long as `Source`. The
            // contract we cannot enforce is that no other process truncates
            // the file while it is mapped; if one does, reads of the vanished
            // pages raise SIGBUS. This is the accepted trade of every
            // mmap-based reader (ripgrep documents the same): dumps and logs
            // under analysis are finished files, not ones being written.
            #[allow(unsafe_code)]
            let map = unsafe { Mmap::map(&file) };
            map.ok()
        };
        let map = match mapped {
            Some(map) => map,
            None => {
                // mmap can fail on special files (pipes, some network file
                // systems); a plain read gives the same bytes.
                let mut raw = Vec::new();
                (&file).read_to_end(&mut raw).map_err(wrap)?;
                return Source::from_vec(path.to_path_buf(), raw).map_err(wrap);
            }
        };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        refuse_unsupported(&map).map_err(wrap)?;
        let compression = Compression::sniff(&map);
        if compression == Compression::None {
            return Ok(Source {
                path: path.to_path_buf(),
                bytes: Bytes::Mapped(map),
                compression,
                on_disk,
            });
        }
        // Decompressed through read(), not from the map: a map read whole
        // would stay resident (as large as the compressed file) until the end.
        drop(map);
        let mut file = file;
        io::Seek::rewind(&mut file).map_err(wrap)?;
        let mut r =
            decoder(io::BufReader::with_capacity(1 << 20, file), compression).map_err(wrap)?;
        Source::spooled(path, &mut *r, compression, on_disk).map_err(wrap)
    }

    /// Copies a (decompressing) stream into an unlinked temporary file in
    /// `$TMPDIR` and maps it. The copy goes through a 1 MiB buffer, so
    /// memory does not grow with the stream; the file vanishes with the map.
    fn spooled(
        path: &Path,
        r: &mut dyn Read,
        compression: Compression,
        on_disk: u64,
    ) -> io::Result<Source> {
        let mut file = tempfile::tempfile()?;
        let mut w = io::BufWriter::with_capacity(1 << 20, &mut file);
        let copied = io::copy(r, &mut w)?;
        w.into_inner().map_err(io::IntoInnerError::into_error)?;
        let bytes = if copied == 0 {
            Bytes::Owned(Vec::new())
        } else {
            // SAFETY: as for plain files above; the file is private to this
            // process (unlinked at creation), so nothing else can truncate it.
            #[allow(unsafe_code)]
            let map = unsafe { Mmap::map(&file)? };
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            Bytes::Mapped(map)
        };
        Ok(Source {
            path: path.to_path_buf(),
            bytes,
            compression,
            on_disk,
        })
    }

    /// Wraps bytes already in memory, decompressing them if their magic says so.
    pub fn from_vec(path: PathBuf, raw: Vec<u8>) -> io::Result<Source> {
        let on_disk = raw.len() as u64;
        refuse_unsupported(&raw)?;
        let compression = Compression::sniff(&raw);
        let bytes = if compression == Compression::None {
            raw
        } else {
            decompress(&raw, compression)?
        };
        Ok(Source {
            path,
            bytes: Bytes::Owned(bytes),
            compression,
            on_disk,
        })
    }

    /// The input's bytes, decompressed.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }

    /// A pager that releases this input's mapped pages behind its readers
    /// (a no-op for inputs held in memory).
    pub fn pager(&self) -> crate::pages::Pager<'_> {
        crate::pages::Pager::new(match &self.bytes {
            Bytes::Mapped(m) => Some(m),
            Bytes::Owned(_) => None,
        })
    }

    /// The path as given on the command line.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The compression the input arrived in.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Size of the input as stored (compressed size for archives).
    pub fn stored_len(&self) -> u64 {
        self.on_disk
    }
}

/// Decompresses a whole buffer.
pub fn decompress(raw: &[u8], compression: Compression) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(1 << 30));
    match compression {
        Compression::None => out.extend_from_slice(raw),
        Compression::Gzip => {
            flate2::read::MultiGzDecoder::new(raw).read_to_end(&mut out)?;
        }
        Compression::Lz4 => {
            lz4_flex::frame::FrameDecoder::new(raw).read_to_end(&mut out)?;
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::new(raw)?.read_to_end(&mut out)?;
        }
    }
    Ok(out)
}

/// Opens a reader that yields decompressed bytes as a stream, for inputs too
/// large to hold in memory (logs are processed chunk by chunk this way).
pub fn open_stream(path: &Path) -> Result<(Box<dyn Read + Send>, Compression), SourceError> {
    open_stream_counted(path, Box::new(|_| {}))
}

/// A reader that reports how many bytes were read through it.
struct Counted<'c, R> {
    inner: R,
    count: Box<dyn Fn(u64) + Send + 'c>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.count)(n as u64);
        Ok(n)
    }
}

/// [`open_stream`], calling `count(n)` as each `n` bytes of the input as
/// stored (compressed) are read, so progress is over the size on disk.
pub fn open_stream_counted<'c>(
    path: &Path,
    count: Box<dyn Fn(u64) + Send + 'c>,
) -> Result<(Box<dyn Read + Send + 'c>, Compression), SourceError> {
    let wrap = |source: io::Error| SourceError {
        path: path.to_path_buf(),
        source,
    };
    let file: Box<dyn Read + Send> = if path == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(wrap)?)
    };
    let mut file: Box<dyn Read + Send + 'c> = Box::new(Counted { inner: file, count });
    let mut head = [0u8; 10];
    let mut got = 0;
    while got < head.len() {
        let n = file.read(&mut head[got..]).map_err(wrap)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    refuse_unsupported(&head[..got]).map_err(wrap)?;
    let compression = Compression::sniff(&head[..got]);
    let chained: Box<dyn Read + Send + 'c> =
        Box::new(io::Cursor::new(head[..got].to_vec()).chain(file));
    let reader: Box<dyn Read + Send + 'c> = match compression {
        Compression::None => chained,
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(chained)),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(chained)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(chained).map_err(wrap)?),
    };
    Ok((reader, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sniffs_each_compression_by_magic() {
        assert_eq!(Compression::sniff(b"REDIS0011"), Compression::None);
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x04, 0x22, 0x4d, 0x18]),
            Compression::Lz4
        );
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(&[]), Compression::None);
    }

    #[test]
    fn every_compression_round_trips() {
        let text = b"1:M 01 Jan 2024 00:00:00.000 * Ready to accept connections\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(&text).unwrap();
        let lz = lz.finish().unwrap();
        let zs = zstd::stream::encode_all(&text[..], 1).unwrap();
        for (raw, c) in [
            (gz, Compression::Gzip),
            (lz, Compression::Lz4),
            (zs, Compression::Zstd),
        ] {
            let src = Source::from_vec("x".into(), raw).unwrap();
            assert_eq!(src.compression(), c);
            assert_eq!(src.bytes(), &text[..]);
        }
    }

    #[test]
    fn xz_and_bzip2_say_which_compression_is_unsupported() {
        // `printf '' | xz | od`, `printf 'x' | bzip2 | od`.
        let xz = [0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4, 0xe6, 0xd6];
        let bz = *b"BZh91AY&SY\x00";
        for (raw, name) in [(&xz[..], "xz-compressed"), (&bz[..], "bzip2-compressed")] {
            let e = Source::from_vec("x".into(), raw.to_vec()).err().unwrap();
            assert!(e.to_string().contains(name), "{e}");
        }
        // A text that merely starts with `BZh` is text.
        assert!(Source::from_vec("x".into(), b"BZh is a word".to_vec()).is_ok());
        assert_eq!(shown(Path::new("-")), "<stdin>");
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[7u8; 10_000]).unwrap();
        let gz = gz.finish().unwrap();
        assert!(Source::from_vec("x".into(), gz[..gz.len() / 2].to_vec()).is_err());
    }
}
