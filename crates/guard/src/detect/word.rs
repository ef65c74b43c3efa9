//! Words: the entry point of the single pass at a letter that starts a
//! word. Most words are ordinary and cost one scan of their letters; the
//! few that could start an IBAN, a letter-led national id or a token are
//! handed to those detectors.
//!
//! Non-goals: anything inside a word (a digit glued to letters belongs to
//! the word).

use crate::detect::{Ctx, credential, iban, national_id};
use crate::text::byte;

/// Handles the word starting at `i`; returns where the pass continues.
pub(crate) fn at(ctx: &mut Ctx<'_>, i: usize) -> usize {
    let b = ctx.bytes;
    let mut word = i;
    let mut upper = 0usize;
    let mut digits = 0usize;
    while let Some(&c) = b.get(word) {
        if c.is_ascii_lowercase() {
        } else if c.is_ascii_uppercase() {
            upper += 1;
        } else if c.is_ascii_digit() {
            digits += 1;
        } else {
            break;
        }
        word += 1;
    }
    let len = word - i;
    let next = byte(b, word);
    // ordinary lower-case words: nothing to do
    if upper == 0 && digits == 0 && len < 16 && !matches!(next, b'_' | b'-' | b'.') {
        return word;
    }
    if (digits > 0 || len == 2)
        && let Some(end) = iban::at_word(ctx, i)
    {
        return end.max(word);
    }
    if upper > 0
        && matches!(len, 1 | 2 | 9 | 16)
        && let Some(end) = national_id::at_word(ctx, i, word)
    {
        return end.max(i + 1);
    }
    if let Some(end) = credential::token_at(ctx, i, word) {
        return end.max(i + 1);
    }
    word
}
