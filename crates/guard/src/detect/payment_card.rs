//! `payment_card`: 12–19 digits, plain or grouped with spaces or dashes,
//! that pass the Luhn check and fall in an issuer range of a major network.
//!
//! Job: [`network`] names the network of a digit string (Visa, Mastercard,
//! American Express, Discover, Diners Club, JCB, UnionPay, Maestro, Mir)
//! from its prefix and length; [`in_run`] finds a card in a digit run:
//! the whole run, or its start when what follows is at most four digits
//! (an expiry date or a CVC typed after the number) or another number of
//! twelve digits or more. The
//! separators inside a card are all the same (a space or a dash), groups
//! have at least three digits (the last may be shorter). The finding's
//! `detail` is the network; the masked form is `•••• •••• •••• 4242`.
//!
//! Non-goals: BIN databases (which bank issued it), private-label cards
//! outside the networks above, card numbers split across messages.

use crate::detect::number::Run;
use crate::detect::{Ctx, luhn, value};
use crate::finding::Kind;

/// The network of a card number (ASCII digits), if its prefix and length
/// belong to one and it passes Luhn.
pub fn network(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    if !(12..=19).contains(&len) || !luhn(digits) {
        return None;
    }
    let p = |n: usize| value(digits.get(..n).unwrap_or_default());
    let (p1, p2, p3, p4, p6) = (p(1), p(2), p(3), p(4), p(6));
    let net = if p1 == 4 && matches!(len, 13 | 16 | 19) {
        "visa"
    } else if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        "mastercard"
    } else if matches!(p2, 34 | 37) && len == 15 {
        "amex"
    } else if (2200..=2204).contains(&p4) && len >= 16 {
        "mir"
    } else if (p4 == 6011
        || (644..=649).contains(&p3)
        || p2 == 65
        || (622_126..=622_925).contains(&p6))
        && len >= 16
    {
        "discover"
    } else if (3528..=3589).contains(&p4) && len >= 16 {
        "jcb"
    } else if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && len >= 14 {
        "diners"
    } else if p2 == 62 && len >= 16 {
        "unionpay"
    } else if matches!(
        p4,
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
    ) {
        "maestro"
    } else {
        return None;
    };
    Some(net)
}

/// Finds a card in `run`; reports it and returns its end.
pub(crate) fn in_run(ctx: &mut Ctx<'_>, run: &Run) -> Option<usize> {
    let total = run.count(0, run.n);
    if total < 12 {
        return None;
    }
    // the whole run, then the run without trailing groups when what is
    // left is short (an expiry date, a CVC) or another long number
    let a = 0;
    {
        for b in (a + 1..=run.n).rev() {
            if run.count(b, run.n) > 4 && run.len(b) < 12 {
                continue;
            }
            let n = run.count(a, b);
            if !(12..=19).contains(&n) || !well_grouped(run, a, b) {
                continue;
            }
            let digits = run.digits(ctx.bytes, a, b);
            if let Some(net) = network(&digits) {
                let span = run.span(a, b);
                let span = if a == 0 && run.plus {
                    span.start + 1..span.end
                } else {
                    span
                };
                let last4 = digits.get(digits.len() - 4..).unwrap_or_default();
                let masked = format!("•••• •••• •••• {}", String::from_utf8_lossy(last4));
                ctx.push(
                    Kind::PaymentCard,
                    span.clone(),
                    Some(net),
                    "This looks like a payment card number; anyone who sees it can use it for fraud."
                        .to_owned(),
                    masked,
                );
                return Some(span.end);
            }
        }
    }
    None
}

/// Same separator throughout (space or dash), groups of ≥ 3 digits but the
/// last.
fn well_grouped(run: &Run, a: usize, b: usize) -> bool {
    if b - a == 1 {
        return true;
    }
    let sep = run.sep(a + 1);
    if !matches!(sep, b' ' | b'-') {
        return false;
    }
    (a + 1..b).all(|k| run.sep(k) == sep) && (a..b - 1).all(|k| run.len(k) >= 3)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn cards(text: &str) -> Vec<(String, &'static str)> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::PaymentCard)
            .map(|f| (f.text, f.detail.unwrap()))
            .collect()
    }

    #[test]
    fn networks() {
        for (n, net) in [
            ("4111111111111111", "visa"),
            ("4222222222222", "visa"),
            ("5555555555554444", "mastercard"),
            ("2223003122003222", "mastercard"),
            ("378282246310005", "amex"),
            ("6011111111111117", "discover"),
            ("3530111333300000", "jcb"),
            ("30569309025904", "diners"),
            ("6200000000000005", "unionpay"),
            ("2200000000000004", "mir"),
            ("6759649826438453", "maestro"),
        ] {
            assert_eq!(network(n.as_bytes()), Some(net), "{n}");
        }
        assert_eq!(network(b"4111111111111112"), None, "Luhn");
        assert_eq!(network(b"9111111111111111"), None, "no network");
        assert_eq!(
            network(b"411111111111111"),
            None,
            "Visa has no 15-digit numbers"
        );
    }

    #[test]
    fn finds_grouped_cards_with_trailing_expiry() {
        assert_eq!(
            cards("card 4111 1111 1111 1111 exp 12/27"),
            [("4111 1111 1111 1111".into(), "visa")]
        );
        assert_eq!(
            cards("4111-1111-1111-1111 123"),
            [("4111-1111-1111-1111".into(), "visa")]
        );
        assert_eq!(
            cards("amex 3782 822463 10005."),
            [("3782 822463 10005".into(), "amex")]
        );
        assert!(cards("tracking 9400 1111 1111 1111 1111 11").is_empty());
        assert!(cards("4111-1111 1111-1111").is_empty(), "mixed separators");
        assert!(cards("INV-4111111111111111").is_empty(), "glued");
    }

    #[test]
    fn masks_to_last_four() {
        let f = scan("pay with 4242 4242 4242 4242 ok", &ScanOptions::default());
        assert_eq!(f[0].masked, "•••• •••• •••• 4242");
    }
}
