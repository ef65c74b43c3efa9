//! `ip_address`: IPv4 addresses in dotted-decimal and IPv6 addresses
//! (RFC 4291 text forms, embedded IPv4 included), validated by the
//! standard library's parsers.
//!
//! Job: [`v4_in_run`] accepts a digit run whose first four groups are
//! dot-separated octets 0–255 without leading zeros; [`v6_at`] is entered
//! at a `:` and reads hex groups and colons around it.
//!
//! Version numbers are not addresses: a run glued to a word (`v1.2.3.4`,
//! `build-1.2.3.4`) never starts (see `number`), a fifth dotted group
//! (`1.2.3.4.5`) disqualifies it, and a version/build/release/model word
//! right before it ("version 10.0.19041.1", "firmware 2.1.0.4") rejects
//! it. Times (`12:30:45`) and MAC addresses are not valid IPv6.
//!
//! Non-goals: IPv4 in hex, octal or integer form (the link analyser
//! catches those inside URLs), CIDR suffixes (the span is the address).

use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::detect::Ctx;
use crate::detect::lexicon::Tag;
use crate::detect::number::Run;
use crate::finding::Kind;
use crate::text::{MASK, alnum_at, alnum_before, byte, byte_before};

const EXPLANATION: &str =
    "This is an IP address, which can reveal a location or a device on a private network.";

/// An IPv4 address made of the first four groups of `run`.
pub(crate) fn v4_in_run(ctx: &mut Ctx<'_>, run: &Run) -> Option<usize> {
    if run.plus || run.n < 4 || (1..4).any(|k| run.sep(k) != b'.') || run.sep(4) == b'.' {
        return None;
    }
    for k in 0..4 {
        let (s, e) = run.group(k);
        let g = ctx.bytes.get(s..e)?;
        if g.len() > 3 || (g.len() > 1 && g.first() == Some(&b'0')) || crate::detect::value(g) > 255
        {
            return Some(run.end);
        }
    }
    let span = run.span(0, 4);
    if ctx.context_before(span.start, 12, Tag::NotPersonal) {
        return Some(run.end);
    }
    let text = ctx.slice(span.clone());
    let mut parts = text.splitn(3, '.');
    let masked = format!(
        "{}.{}.{MASK}.{MASK}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    );
    ctx.push(
        Kind::IpAddress,
        span.clone(),
        Some("ipv4"),
        EXPLANATION.to_owned(),
        masked,
    );
    Some(span.end)
}

/// An IPv6 address around the `:` at `colon`; returns where the pass
/// continues.
pub(crate) fn v6_at(ctx: &mut Ctx<'_>, colon: usize) -> usize {
    let b = ctx.bytes;
    let is_hex = |c: u8| c.is_ascii_hexdigit();
    let mut start = colon;
    while start > 0
        && (is_hex(byte_before(b, start)) || byte_before(b, start) == b':')
        && colon - start < 40
    {
        start -= 1;
    }
    if alnum_before(ctx.text, start) || byte_before(b, start) == b'.' {
        return colon + 1;
    }
    let mut end = colon;
    while (is_hex(byte(b, end)) || matches!(byte(b, end), b':' | b'.')) && end - start < 46 {
        end += 1;
    }
    while matches!(byte_before(b, end), b'.' | b':') && !ctx.slice(start..end).ends_with("::") {
        end -= 1;
    }
    if alnum_at(ctx.text, end) {
        return end.max(colon + 1);
    }
    let text = ctx.slice(start..end);
    let colons = text.bytes().filter(|&c| c == b':').count();
    if colons < 2 || !text.bytes().any(is_hex) || Ipv6Addr::from_str(text).is_err() {
        return colon + 1;
    }
    let head = text.split(':').next().unwrap_or_default();
    let masked = format!("{head}:{MASK}{MASK}{MASK}");
    ctx.push(
        Kind::IpAddress,
        start..end,
        Some("ipv6"),
        EXPLANATION.to_owned(),
        masked,
    );
    end
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn ips(text: &str) -> Vec<String> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::IpAddress)
            .map(|f| f.text)
            .collect()
    }

    #[test]
    fn v4_and_v6() {
        assert_eq!(ips("my ip is 192.168.1.20."), ["192.168.1.20"]);
        assert_eq!(ips("dns 8.8.8.8, fine"), ["8.8.8.8"]);
        assert_eq!(
            ips("from 2001:db8::8a2e:370:7334 today"),
            ["2001:db8::8a2e:370:7334"]
        );
        assert_eq!(ips("local fe80::1 and ::1"), ["fe80::1", "::1"]);
        assert_eq!(ips("mapped ::ffff:192.0.2.1"), ["::ffff:192.0.2.1"]);
        assert_eq!(ips("mask 255.255.255.0 ok"), ["255.255.255.0"]);
    }

    #[test]
    fn versions_times_and_macs_are_not_addresses() {
        for t in [
            "v1.2.3.4",
            "version 10.0.19041.1",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.02.03.04",
            "at 12:30:45",
            "mac 00:1a:2b:3c:4d:5e",
            "std::vector",
        ] {
            assert!(ips(t).is_empty(), "{t}");
        }
    }
}
