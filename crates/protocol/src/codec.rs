//! The one canonical binary encoding (docs/protocol.md §3).
//!
//! Every untrusted byte string enters through [`Reader`]: integers are
//! big-endian and fixed-width, variable-length fields carry a 1-, 2- or
//! 4-byte length prefix, booleans and option tags are exactly `0` or `1`,
//! and [`Reader::finish`] rejects trailing bytes. There is exactly one
//! encoding of every value, so equal values hash and sign identically.
//!
//! Non-goal: self-description. The reader always knows which structure it
//! is decoding; nothing is tagged with a schema.

use crate::error::{Error, Result, Structure};
use alloc::string::String;
use alloc::vec::Vec;

/// Builds an encoding. Writing cannot fail; length limits are checked by
/// the builders of each structure before they write.
#[derive(Default, Debug)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends `0` or `1`.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// Appends raw bytes (a fixed-size field).
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// Appends `opaque8`: a 1-byte length, then the bytes. Callers keep
    /// `v.len() <= 255` (checked by the structure's builder); longer input
    /// is truncated to keep the encoding well-formed.
    pub fn opaque8(&mut self, v: &[u8]) {
        let n = v.len().min(u8::MAX as usize);
        self.u8(n as u8);
        self.raw(v.get(..n).unwrap_or_default());
    }

    /// Appends `opaque16`: a 2-byte length, then the bytes (see [`Writer::opaque8`]).
    pub fn opaque16(&mut self, v: &[u8]) {
        let n = v.len().min(u16::MAX as usize);
        self.u16(n as u16);
        self.raw(v.get(..n).unwrap_or_default());
    }

    /// Appends `opaque32`: a 4-byte length, then the bytes (see [`Writer::opaque8`]).
    pub fn opaque32(&mut self, v: &[u8]) {
        let n = v.len().min(u32::MAX as usize);
        self.u32(n as u32);
        self.raw(v.get(..n).unwrap_or_default());
    }

    /// Appends a 2-byte item count (lists are written as count, then items).
    pub fn count16(&mut self, n: usize) {
        self.u16(n.min(u16::MAX as usize) as u16);
    }

    /// The bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Ends the writer.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads one structure from untrusted bytes. Every method returns
/// [`Error::Truncated`] instead of panicking when input runs out.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    structure: Structure,
}

impl<'a> Reader<'a> {
    /// Starts reading `bytes` as a `structure` (named in errors).
    pub fn new(bytes: &'a [u8], structure: Structure) -> Self {
        Self {
            rest: bytes,
            structure,
        }
    }

    /// The structure being read.
    pub fn structure(&self) -> Structure {
        self.structure
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(Error::Truncated(self.structure));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a boolean: exactly `0` or `1`.
    pub fn bool(&mut self, field: &'static str) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.invalid(field)),
        }
    }

    /// Reads `opaque8` of at most `max` bytes.
    pub fn opaque8(&mut self, field: &'static str, max: usize) -> Result<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.bounded(n, field, max)
    }

    /// Reads `opaque16` of at most `max` bytes.
    pub fn opaque16(&mut self, field: &'static str, max: usize) -> Result<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.bounded(n, field, max)
    }

    /// Reads `opaque32` of at most `max` bytes.
    pub fn opaque32(&mut self, field: &'static str, max: usize) -> Result<&'a [u8]> {
        let n = usize::try_from(self.u32()?).map_err(|_| self.too_large(field))?;
        self.bounded(n, field, max)
    }

    /// Reads a UTF-8 string in `opaque8` of at most `max` bytes.
    pub fn string8(&mut self, field: &'static str, max: usize) -> Result<String> {
        let bytes = self.opaque8(field, max)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| self.invalid(field))
    }

    /// Reads a UTF-8 string in `opaque32` of at most `max` bytes.
    pub fn string32(&mut self, field: &'static str, max: usize) -> Result<String> {
        let bytes = self.opaque32(field, max)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| self.invalid(field))
    }

    /// Reads a 2-byte item count of at most `max`.
    pub fn count16(&mut self, field: &'static str, max: usize) -> Result<usize> {
        let n = usize::from(self.u16()?);
        if n > max {
            return Err(self.too_large(field));
        }
        Ok(n)
    }

    /// Reads an option tag (`0` absent, `1` present).
    pub fn option_tag(&mut self, field: &'static str) -> Result<bool> {
        self.bool(field)
    }

    /// Ends reading: any byte left over is an error.
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes(self.structure))
        }
    }

    /// An [`Error::InvalidField`] for this structure.
    pub fn invalid(&self, field: &'static str) -> Error {
        Error::InvalidField {
            structure: self.structure,
            field,
        }
    }

    /// An [`Error::TooLarge`] for this structure.
    pub fn too_large(&self, field: &'static str) -> Error {
        Error::TooLarge {
            structure: self.structure,
            field,
        }
    }

    /// An [`Error::NotCanonical`] for this structure.
    pub fn not_canonical(&self, field: &'static str) -> Error {
        Error::NotCanonical {
            structure: self.structure,
            field,
        }
    }

    fn bounded(&mut self, n: usize, field: &'static str, max: usize) -> Result<&'a [u8]> {
        if n > max {
            return Err(self.too_large(field));
        }
        self.take(n)
    }
}

/// Checks that `keys` is strictly increasing (sorted, no duplicates): the
/// canonical form of every set in the protocol.
pub fn strictly_sorted<K: Ord>(keys: impl IntoIterator<Item = K>) -> bool {
    let mut prev: Option<K> = None;
    for k in keys {
        if let Some(p) = &prev
            && *p >= k
        {
            return false;
        }
        prev = Some(k);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian_and_round_trip() {
        let mut w = Writer::new();
        w.u8(1);
        w.u16(0x0203);
        w.u32(0x0405_0607);
        w.u64(0x0809_0a0b_0c0d_0e0f);
        w.opaque8(b"ab");
        let bytes = w.into_vec();
        assert_eq!(
            bytes,
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2, b'a', b'b'
            ]
        );
        let mut r = Reader::new(&bytes, Structure::Envelope);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        assert_eq!(r.u32(), Ok(0x0405_0607));
        assert_eq!(r.u64(), Ok(0x0809_0a0b_0c0d_0e0f));
        assert_eq!(r.opaque8("x", 2), Ok(&b"ab"[..]));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn truncation_trailing_and_limits_are_errors() {
        let mut r = Reader::new(&[0, 5, 1], Structure::Body);
        assert_eq!(
            r.opaque16("text", 10),
            Err(Error::Truncated(Structure::Body))
        );
        let r = Reader::new(&[0], Structure::Body);
        assert_eq!(r.finish(), Err(Error::TrailingBytes(Structure::Body)));
        let mut r = Reader::new(&[3, 1, 2, 3], Structure::Body);
        assert!(matches!(
            r.opaque8("f", 2),
            Err(Error::TooLarge { field: "f", .. })
        ));
        let mut r = Reader::new(&[2], Structure::Body);
        assert!(matches!(r.bool("b"), Err(Error::InvalidField { .. })));
    }

    #[test]
    fn strictly_sorted_rejects_duplicates() {
        assert!(strictly_sorted([1, 2, 3]));
        assert!(!strictly_sorted([1, 1, 3]));
        assert!(!strictly_sorted([2, 1]));
        assert!(strictly_sorted(core::iter::empty::<u8>()));
    }
}
