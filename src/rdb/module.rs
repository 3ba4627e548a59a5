//! Module values (type 7), MODULE_AUX records and Redis key metadata: all are
//! an opcode stream that can be walked without the module that wrote it
//! (`rdbLoadCheckModuleValue` does the same), so a dump from Redis Stack reads
//! on a machine that has no modules.

use nom::number::complete::{le_u32, le_u64};

use super::primitives::{parse_len, parse_string, skip_string, PError, PResult, RdbString};

/// Module opcode stream markers (module.c / rdb.h `RDB_MODULE_OPCODE_*`).
const MOD_EOF: u64 = 0;
const MOD_SINT: u64 = 1;
const MOD_UINT: u64 = 2;
const MOD_FLOAT: u64 = 3;
const MOD_DOUBLE: u64 = 4;
const MOD_STRING: u64 = 5;

/// Charset of module type names: 9 characters × 6 bits in the type id.
const MODULE_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Decodes the 9-character module type name and encoding version packed in a
/// 64-bit module id (module.c `moduleTypeNameByID`).
pub fn module_name(id: u64) -> ([u8; 9], u32) {
    let encver = (id & 1023) as u32;
    let mut x = id >> 10;
    let mut name = [0u8; 9];
    for j in (0..9).rev() {
        name[j] = MODULE_CHARSET[(x & 63) as usize];
        x >>= 6;
    }
    (name, encver)
}

/// Walks an opcode stream up to and including its EOF marker; returns the
/// number of opcodes read.
pub fn skip_opcodes(mut i: &[u8]) -> PResult<'_, u64> {
    let mut n = 0u64;
    loop {
        let at = i;
        let (rest, op) = parse_len(i)?;
        i = match op {
            MOD_EOF => return Ok((rest, n)),
            MOD_SINT | MOD_UINT => parse_len(rest)?.0,
            MOD_FLOAT => le_u32(rest)?.0,
            MOD_DOUBLE => le_u64(rest)?.0,
            MOD_STRING => skip_string(rest)?.0,
            _ => return Err(PError::corrupt(at, "module opcode")),
        };
        n += 1;
    }
}

/// Parses a type-7 module value: the module id, then its opcode stream.
pub fn parse_module_value(i: &[u8]) -> PResult<'_, u64> {
    let (rest, id) = parse_len(i)?;
    let (rest, _) = skip_opcodes(rest)?;
    Ok((rest, id))
}

/// A MODULE_AUX record's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleAux {
    /// The module type id.
    pub module_id: u64,
    /// 1 = written before the keys, 2 = after.
    pub when: u64,
}

/// The first `N` unsigned opcodes of a module value's stream, where present:
/// enough to read the headers modules commonly save first (a vector set's
/// dimension and element count).
pub fn leading_uints<const N: usize>(value: &[u8]) -> Option<[u64; N]> {
    let (mut i, _id) = parse_len(value).ok()?;
    let mut out = [0u64; N];
    for slot in out.iter_mut() {
        let (r, op) = parse_len(i).ok()?;
        if op != MOD_UINT {
            return None;
        }
        let (r, v) = parse_len(r).ok()?;
        *slot = v;
        i = r;
    }
    Some(out)
}

/// One operand of a module value's opcode stream, in the order the module's
/// `rdb_save` wrote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModuleOp<'a> {
    /// `RedisModule_SaveUnsigned` or `RedisModule_SaveSigned` (opcode 2;
    /// a signed value travels as its two's-complement bits), or opcode 1.
    Uint(u64),
    /// `RedisModule_SaveFloat`.
    Float(f32),
    /// `RedisModule_SaveDouble`.
    Double(f64),
    /// `RedisModule_SaveString`/`SaveStringBuffer` (and `SaveLongDouble`,
    /// as hex text), as stored: possibly an integer or LZF encoding.
    String(RdbString<'a>),
}

impl ModuleOp<'_> {
    /// The value of an unsigned opcode.
    pub fn uint(&self) -> Option<u64> {
        match self {
            ModuleOp::Uint(v) => Some(*v),
            _ => None,
        }
    }

    /// The decoded length of a string opcode.
    pub fn string_len(&self) -> Option<u64> {
        match self {
            ModuleOp::String(s) => Some(s.len()),
            _ => None,
        }
    }
}

/// The operands of a type-7 module value after its module id, up to the
/// EOF marker; iteration stops early at a malformed opcode. Lets a reader
/// that knows a module's `rdb_save` layout pick out the fields it needs
/// without the module.
#[derive(Debug, Clone)]
pub struct ModuleOps<'a> {
    rest: &'a [u8],
    id: u64,
}

impl<'a> ModuleOps<'a> {
    /// The operands of `value`, a module value starting with its module id.
    pub fn new(value: &'a [u8]) -> Option<ModuleOps<'a>> {
        let (rest, id) = parse_len(value).ok()?;
        Some(ModuleOps { rest, id })
    }

    /// The encoding version the module saved with (the low 10 bits of the
    /// module id), which `rdb_load` receives as `encver`.
    pub fn encver(&self) -> u32 {
        module_name(self.id).1
    }
}

impl<'a> Iterator for ModuleOps<'a> {
    type Item = ModuleOp<'a>;

    fn next(&mut self) -> Option<ModuleOp<'a>> {
        let (rest, op) = parse_len(self.rest).ok()?;
        let parsed = match op {
            MOD_SINT | MOD_UINT => parse_len(rest).map(|(r, v)| (r, ModuleOp::Uint(v))),
            MOD_FLOAT => le_u32(rest).map(|(r, v)| (r, ModuleOp::Float(f32::from_bits(v)))),
            MOD_DOUBLE => le_u64(rest).map(|(r, v)| (r, ModuleOp::Double(f64::from_bits(v)))),
            MOD_STRING => parse_string(rest).map(|(r, s)| (r, ModuleOp::String(s))),
            _ => return None,
        };
        match parsed {
            Ok((r, item)) => {
                self.rest = r;
                Some(item)
            }
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// Parses a MODULE_AUX record body (after the 0xF7 opcode).
pub fn parse_module_aux(i: &[u8]) -> PResult<'_, ModuleAux> {
    let (rest, module_id) = parse_len(i)?;
    let at = rest;
    let (rest, when_op) = parse_len(rest)?;
    if when_op != MOD_UINT {
        return Err(PError::corrupt(at, "module aux 'when' opcode"));
    }
    let (rest, when) = parse_len(rest)?;
    let (rest, _) = skip_opcodes(rest)?;
    Ok((rest, ModuleAux { module_id, when }))
}

/// Parses Redis KEY_META (after the 0xF3 opcode, `REDIS` magic): class count,
/// then per class a raw 4-byte spec and an opcode stream. Returns the class
/// count.
pub fn parse_key_meta(i: &[u8]) -> PResult<'_, u64> {
    let (mut rest, n) = parse_len(i)?;
    // keymeta.c allows at most 7 classes per key.
    if n > 7 {
        return Err(PError::corrupt(i, "key metadata class count"));
    }
    for _ in 0..n {
        let (r, _spec) = le_u32(rest)?;
        let (r, _) = skip_opcodes(r)?;
        rest = r;
    }
    Ok((rest, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rejson_module_name() {
        // "ReJSON-RL" with encoding version 3, packed as module.c does.
        let mut id: u64 = 0;
        for c in b"ReJSON-RL" {
            let idx = MODULE_CHARSET.iter().position(|x| x == c).unwrap() as u64;
            id = (id << 6) | idx;
        }
        id = (id << 10) | 3;
        let (name, ver) = module_name(id);
        assert_eq!(&name, b"ReJSON-RL");
        assert_eq!(ver, 3);
    }

    #[test]
    fn lists_operands_in_order() {
        let mut v = vec![0x05]; // module id
        v.extend_from_slice(&[0x02, 0x07]); // UINT 7
        v.extend_from_slice(&[0x03, 0, 0, 0x80, 0x3f]); // FLOAT 1.0
        v.push(0x04);
        v.extend_from_slice(&2.5f64.to_le_bytes()); // DOUBLE
        v.extend_from_slice(&[0x05, 0x02, b'h', b'i']); // STRING "hi"
        v.push(0x00); // EOF
        assert_eq!(ModuleOps::new(&v).unwrap().encver(), 5);
        let ops: Vec<_> = ModuleOps::new(&v).unwrap().collect();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[0].uint(), Some(7));
        assert_eq!(ops[1], ModuleOp::Float(1.0));
        assert_eq!(ops[2], ModuleOp::Double(2.5));
        assert_eq!(ops[3].string_len(), Some(2));
        // A cut stream ends the iteration instead of failing.
        assert_eq!(ModuleOps::new(&v[..4]).unwrap().count(), 1);
    }

    #[test]
    fn walks_every_opcode_kind() {
        let mut v = vec![0x02, 0x05]; // UINT 5
        v.extend_from_slice(&[0x03, 0, 0, 0x80, 0x3f]); // FLOAT 1.0
        v.push(0x04);
        v.extend_from_slice(&1.5f64.to_le_bytes()); // DOUBLE
        v.extend_from_slice(&[0x05, 0x02, b'h', b'i']); // STRING "hi"
        v.push(0x00); // EOF
        let (rest, n) = skip_opcodes(&v).unwrap();
        assert!(rest.is_empty());
        assert_eq!(n, 4);
        for cut in 0..v.len() {
            assert!(skip_opcodes(&v[..cut]).is_err());
        }
        assert!(skip_opcodes(&[0x09]).is_err());
    }
}
