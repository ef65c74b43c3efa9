//! Padmé length padding (docs/protocol.md §8.3, §11.2).
//!
//! Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
//! and Communication with PURBs", PETS 2019) rounds a length `L` up so that
//! at most `O(log log L)` bits of it remain, leaking at most ~12 % overhead.
//! Message bodies are padded to at least [`MIN_BODY_PADDED`] bytes.

/// Minimum padded size of a message body: short messages all look alike.
pub const MIN_BODY_PADDED: u64 = 256;

/// Padmé: the smallest "padmé-representable" length ≥ `len`.
///
/// `E = floor(log2 L)`, `S = floor(log2 E) + 1`, the low `E − S` bits are
/// cleared by rounding up. Lengths 0 and 1 stay as they are.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2 len)
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2 e) + 1
    let last_bits = e.saturating_sub(s);
    let mask = (1u64 << last_bits) - 1;
    len.checked_add(mask).map_or(u64::MAX, |v| v & !mask)
}

/// The padded size of a message body of `len` bytes: `padme(max(len, 256))`.
pub fn body_padded_len(len: u64) -> u64 {
    padme(len.max(MIN_BODY_PADDED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // From the PURBs paper's definition, checked by hand.
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1), 1);
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(256), 256);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1025), 1088);
        assert_eq!(padme(65_536), 65_536);
        assert_eq!(padme(1_000_000), 1_015_808);
        assert_eq!(body_padded_len(5), 256);
    }

    #[test]
    fn padme_is_monotone_and_bounded() {
        let mut prev = 0;
        for len in 0..20_000u64 {
            let p = padme(len);
            assert!(p >= len && p >= prev);
            assert!(p - len <= len / 8 + 1, "overhead too large at {len}");
            // Idempotent: a padded length pads to itself.
            assert_eq!(padme(p), p);
            prev = p;
        }
    }
}
