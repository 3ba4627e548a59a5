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
#[error("{}: {source}", path.display())]
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
        let wrap = |source: io::Error| SourceError {
            path: path.to_path_buf(),
            source,
        };
        if path == Path::new("-") {
            let (mut r, compression) = open_stream(path)?;
            return Source::spooled(path, &mut *r, compression, None).map_err(wrap);
        }
        let file = File::open(path).map_err(wrap)?;
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
                File::open(path)
                    .and_then(|mut f| f.read_to_end(&mut raw))
                    .map_err(wrap)?;
                return Source::from_vec(path.to_path_buf(), raw).map_err(wrap);
            }
        };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        let compression = Compression::sniff(&map);
        if compression == Compression::None {
            return Ok(Source {
                path: path.to_path_buf(),
                bytes: Bytes::Mapped(map),
                compression,
                on_disk,
            });
        }
        drop(map);
        let (mut r, compression) = open_stream(path)?;
        Source::spooled(path, &mut *r, compression, Some(on_disk)).map_err(wrap)
    }

    /// Copies a (decompressing) stream into an unlinked temporary file in
    /// `$TMPDIR` and maps it. The copy goes through a 1 MiB buffer, so
    /// memory does not grow with the stream; the file vanishes with the map.
    fn spooled(
        path: &Path,
        r: &mut dyn Read,
        compression: Compression,
        on_disk: Option<u64>,
    ) -> io::Result<Source> {
        let mut file = tempfile::tempfile()?;
        let mut w = io::BufWriter::with_capacity(1 << 20, &mut file);
        let copied = io::copy(r, &mut w)?;
        w.into_inner().map_err(io::IntoInnerError::into_error)?;
        let on_disk = on_disk.unwrap_or(copied);
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
    let wrap = |source: io::Error| SourceError {
        path: path.to_path_buf(),
        source,
    };
    let mut file: Box<dyn Read + Send> = if path == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(wrap)?)
    };
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        let n = file.read(&mut head[got..]).map_err(wrap)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let compression = Compression::sniff(&head[..got]);
    let chained: Box<dyn Read + Send> = Box::new(io::Cursor::new(head[..got].to_vec()).chain(file));
    let reader: Box<dyn Read + Send> = match compression {
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
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[7u8; 10_000]).unwrap();
        let gz = gz.finish().unwrap();
        assert!(Source::from_vec("x".into(), gz[..gz.len() / 2].to_vec()).is_err());
    }
}
