//! True values (with valid checks) and near misses for the corpus.

use super::Rng;

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const REGISTRY: &str = include_str!("../../data/iban_registry.txt");

fn luhn_digit(body: &str) -> u8 {
    let mut sum = 0;
    for (i, c) in body.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    ((10 - sum % 10) % 10) as u8
}

/// A Luhn-valid card number of a major network, formatted like people do.
pub fn card(rng: &mut Rng) -> String {
    let (prefix, len): (String, usize) = match rng.below(10) {
        0..=2 => ("4".into(), *rng.pick(&[16, 16, 16, 13, 19])),
        3 => (rng.range(51, 55).to_string(), 16),
        4 => (rng.range(2221, 2720).to_string(), 16),
        5 => (rng.pick(&["34", "37"]).to_string(), 15),
        6 => (rng.pick(&["6011", "65", "644"]).to_string(), 16),
        7 => (rng.range(3528, 3589).to_string(), 16),
        8 => (rng.pick(&["36", "300", "38"]).to_string(), 14),
        _ => (rng.pick(&["62", "5018", "6759", "2200"]).to_string(), 16),
    };
    let mut body = prefix;
    let fill = len - 1 - body.len();
    body.push_str(&rng.digits(fill));
    body.push(char::from(b'0' + luhn_digit(&body)));
    format_card(rng, &body)
}

/// A card number whose last digit breaks Luhn.
pub fn card_bad_luhn(rng: &mut Rng) -> String {
    let good = card(rng);
    let mut b = good.into_bytes();
    let last = b.len() - 1;
    b[last] = b'0' + (b[last] - b'0' + 1 + rng.below(8) as u8) % 10;
    String::from_utf8(b).unwrap()
}

fn format_card(rng: &mut Rng, d: &str) -> String {
    let sep = match rng.below(4) {
        0 => "",
        1 | 2 => " ",
        _ => "-",
    };
    if sep.is_empty() {
        return d.to_string();
    }
    let groups: Vec<usize> = if d.len() == 15 {
        vec![4, 6, 5]
    } else if d.len() == 14 {
        vec![4, 6, 4]
    } else {
        let mut g = vec![4; d.len() / 4];
        if !d.len().is_multiple_of(4) {
            g.push(d.len() % 4);
        }
        g
    };
    let mut out = Vec::new();
    let mut at = 0;
    for g in groups {
        out.push(&d[at..at + g]);
        at += g;
    }
    out.join(sep)
}

fn registry(rng: &mut Rng) -> (String, Vec<(usize, u8)>) {
    let lines: Vec<&str> = REGISTRY
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let line = rng.pick(&lines);
    let mut parts = line.split_whitespace();
    let cc = parts.next().unwrap().to_string();
    let _len = parts.next();
    let mut runs = Vec::new();
    let mut n = 0;
    for c in parts.next().unwrap().bytes() {
        if c.is_ascii_digit() {
            n = n * 10 + usize::from(c - b'0');
        } else {
            runs.push((n, c));
            n = 0;
        }
    }
    (cc, runs)
}

fn iban_check(cc: &str, bban: &str) -> u32 {
    let s = format!("{bban}{cc}00");
    let mut r = 0u32;
    for c in s.bytes() {
        if c.is_ascii_digit() {
            r = (r * 10 + u32::from(c - b'0')) % 97;
        } else {
            r = (r * 100 + u32::from(c - b'A') + 10) % 97;
        }
    }
    98 - r
}

/// A valid IBAN of a random registry country, compact or in groups of 4.
pub fn iban(rng: &mut Rng) -> String {
    let (cc, runs) = registry(rng);
    let mut bban = String::new();
    for (n, class) in runs {
        bban.push_str(&match class {
            b'n' => rng.digits(n),
            b'a' => rng.chars(n, UPPER),
            _ => rng.chars(n, UPPER_DIGITS),
        });
    }
    let compact = format!("{cc}{:02}{bban}", iban_check(&cc, &bban));
    if rng.chance(0.35) {
        compact
    } else {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An IBAN with wrong check digits.
pub fn iban_bad(rng: &mut Rng) -> String {
    let good = iban(rng);
    let mut b = good.into_bytes();
    b[3] = b'0' + (b[3] - b'0' + 1 + rng.below(8) as u8) % 10;
    String::from_utf8(b).unwrap()
}

/// A possible SSN, `ddd-dd-dddd` or `ddd dd dddd`.
pub fn ssn(rng: &mut Rng) -> String {
    let mut area = rng.range(1, 899);
    if area == 666 {
        area = 667;
    }
    let sep = if rng.chance(0.8) { "-" } else { " " };
    format!(
        "{area:03}{sep}{:02}{sep}{:04}",
        rng.range(1, 99),
        rng.range(1, 9999)
    )
}

/// An SSN in an invalid range.
pub fn ssn_bad(rng: &mut Rng) -> String {
    let (a, g, s) = match rng.below(4) {
        0 => (666, rng.range(1, 99), rng.range(1, 9999)),
        1 => (rng.range(900, 999), rng.range(1, 99), rng.range(1, 9999)),
        2 => (rng.range(1, 899), 0, rng.range(1, 9999)),
        _ => (0, rng.range(1, 99), rng.range(1, 9999)),
    };
    format!("{a:03}-{g:02}-{s:04}")
}

/// A well-formed NINO.
pub fn nino(rng: &mut Rng) -> String {
    let first = b"ABCEGHJKLMNOPRSTWXYZ";
    let second = b"ABCEGHJKLMNPRSTWXYZ";
    let (a, b) = loop {
        let a = *rng.pick(first);
        let b = *rng.pick(second);
        if ![*b"BG", *b"GB", *b"KN", *b"NK", *b"NT", *b"TN", *b"ZZ"].contains(&[a, b]) {
            break (a, b);
        }
    };
    let d = rng.digits(6);
    let s = *rng.pick(b"ABCD");
    if rng.chance(0.5) {
        format!("{}{}{d}{}", a as char, b as char, s as char)
    } else {
        format!(
            "{}{} {} {} {} {}",
            a as char,
            b as char,
            &d[0..2],
            &d[2..4],
            &d[4..6],
            s as char
        )
    }
}

/// A NINO with a forbidden prefix.
pub fn nino_bad(rng: &mut Rng) -> String {
    let p = rng.pick(&["QQ", "GB", "DA", "FO", "BG", "ZZ"]);
    format!("{p}{}{}", rng.digits(6), *rng.pick(&["A", "B", "C"]))
}

const DNI: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// A DNI with its letter.
pub fn dni(rng: &mut Rng) -> String {
    let n = rng.range(1_000_000, 99_999_999);
    let l = DNI[(n % 23) as usize] as char;
    if rng.chance(0.7) {
        format!("{n:08}{l}")
    } else {
        format!("{n:08}-{l}")
    }
}

/// A DNI with a wrong letter.
pub fn dni_bad(rng: &mut Rng) -> String {
    let n = rng.range(10_000_000, 99_999_999);
    let l = DNI[((n + 1 + rng.range(0, 20)) % 23) as usize] as char;
    format!("{n:08}{l}")
}

/// An NIE.
pub fn nie(rng: &mut Rng) -> String {
    let p = rng.below(3) as u64;
    let n = rng.range(0, 9_999_999);
    let l = DNI[((p * 10_000_000 + n) % 23) as usize] as char;
    format!("{}{n:07}{l}", ['X', 'Y', 'Z'][p as usize])
}

/// A French NIR (15 digits, key included).
pub fn nir(rng: &mut Rng) -> String {
    let body = format!(
        "{}{:02}{:02}{:02}{:03}{:03}",
        rng.range(1, 2),
        rng.range(0, 99),
        rng.range(1, 12),
        rng.range(1, 95),
        rng.range(1, 999),
        rng.range(1, 999)
    );
    let key = 97 - body.parse::<u64>().unwrap() % 97;
    let d = format!("{body}{key:02}");
    if rng.chance(0.5) {
        d
    } else {
        format!(
            "{} {} {} {} {} {} {}",
            &d[0..1],
            &d[1..3],
            &d[3..5],
            &d[5..7],
            &d[7..10],
            &d[10..13],
            &d[13..15]
        )
    }
}

/// An Italian codice fiscale.
pub fn codice_fiscale(rng: &mut Rng) -> String {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let consonants = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut s = rng.chars(6, consonants);
    s.push_str(&format!("{:02}", rng.range(40, 99)));
    s.push(*rng.pick(&['A', 'B', 'C', 'D', 'E', 'H', 'L', 'M', 'P', 'R', 'S', 'T']));
    let day = rng.range(1, 28) + if rng.chance(0.5) { 40 } else { 0 };
    s.push_str(&format!("{day:02}"));
    s.push(*rng.pick(&['A', 'B', 'F', 'H', 'L', 'M']));
    s.push_str(&rng.digits(3));
    let mut sum = 0;
    for (i, c) in s.bytes().enumerate() {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A')
        };
        sum += if i % 2 == 0 { ODD[v as usize] } else { v };
    }
    s.push(char::from(b'A' + (sum % 26) as u8));
    s
}

/// A BSN passing the 11-check.
pub fn bsn(rng: &mut Rng) -> String {
    loop {
        let d = format!("{}{}", rng.range(1, 9), rng.digits(8));
        let sum: i64 = d
            .bytes()
            .zip([9i64, 8, 7, 6, 5, 4, 3, 2, -1])
            .map(|(c, w)| i64::from(c - b'0') * w)
            .sum();
        if sum != 0 && sum % 11 == 0 {
            return d;
        }
    }
}

/// A German tax id (one digit twice, check digit).
pub fn steuer_id(rng: &mut Rng) -> String {
    loop {
        let mut digits: Vec<u8> = (0..10).collect();
        for i in (1..10).rev() {
            let j = rng.below(i + 1);
            digits.swap(i, j);
        }
        digits.truncate(9);
        let dup = digits[rng.below(9)];
        digits.insert(rng.below(10), dup);
        if digits[0] == 0 {
            continue;
        }
        let mut product = 10u32;
        for &c in &digits {
            let mut sum = (u32::from(c) + product) % 10;
            if sum == 0 {
                sum = 10;
            }
            product = (sum * 2) % 11;
        }
        let check = (11 - product) % 10;
        return digits
            .iter()
            .map(|d| char::from(b'0' + d))
            .chain(std::iter::once(char::from(b'0' + check as u8)))
            .collect();
    }
}

/// A valid phone number of one of eight countries, international or
/// national form; `national` says which (national ones need context).
pub fn phone(rng: &mut Rng) -> (String, bool) {
    loop {
        let (intl, national) = match rng.below(8) {
            0 => {
                let (a, b, c) = (
                    rng.pick(&["201", "212", "312", "415", "617", "646", "702", "213"])
                        .to_string(),
                    rng.range(200, 999),
                    rng.digits(4),
                );
                (format!("+1 {a} {b} {c}"), format!("({a}) {b}-{c}"))
            }
            1 => {
                let m = format!(
                    "{}{}",
                    rng.pick(&["151", "160", "170", "176"]),
                    rng.digits(8)
                );
                (
                    format!("+49 {} {}", &m[..3], &m[3..]),
                    format!("0{} {}", &m[..3], &m[3..]),
                )
            }
            2 => {
                let m = format!("{}{}", rng.pick(&["30", "89", "40", "221"]), rng.digits(7));
                (format!("+49 {m}"), format!("0{m}"))
            }
            3 => {
                let d = format!("{}{}", rng.pick(&["6", "7"]), rng.digits(8));
                let pairs = format!("{} {} {} {}", &d[1..3], &d[3..5], &d[5..7], &d[7..9]);
                (
                    format!("+33 {} {pairs}", &d[0..1]),
                    format!("0{} {pairs}", &d[0..1]),
                )
            }
            4 => {
                let d = format!(
                    "7{}{}",
                    rng.pick(&["400", "700", "911", "507"]),
                    rng.digits(6)
                );
                (
                    format!("+44 {} {}", &d[..4], &d[4..]),
                    format!("0{} {}", &d[..4], &d[4..]),
                )
            }
            5 => {
                let d = format!("{}{}", rng.pick(&["6", "7"]), rng.digits(8));
                (
                    format!("+34 {} {} {}", &d[..3], &d[3..6], &d[6..]),
                    format!("{} {} {} {}", &d[..3], &d[3..5], &d[5..7], &d[7..]),
                )
            }
            6 => {
                let d = format!("3{}{}", rng.pick(&["20", "47", "33", "93"]), rng.digits(7));
                (
                    format!("+39 {} {} {}", &d[..3], &d[3..6], &d[6..]),
                    format!("{} {} {}", &d[..3], &d[3..6], &d[6..]),
                )
            }
            _ => {
                let d = format!("6{}", rng.digits(8));
                (
                    format!("+31 {} {}", &d[..1], &d[1..]),
                    format!("0{} {}", &d[..1], &d[1..]),
                )
            }
        };
        let ok = phonenumber::parse(None, &intl).is_ok_and(|n| phonenumber::is_valid(&n));
        if ok {
            return if rng.chance(0.5) {
                (intl, false)
            } else {
                (national, true)
            };
        }
    }
}

/// An e-mail address, sometimes internationalised.
pub fn email(rng: &mut Rng) -> String {
    let first = rng.pick(&[
        "anna",
        "john",
        "marie",
        "jose",
        "lukas",
        "sofia",
        "li",
        "omar",
        "claire",
        "pablo",
        "josé",
        "müller",
        "zoë",
        "françois",
        "ángel",
    ]);
    let last = rng.pick(&[
        "smith", "schmidt", "dupont", "garcia", "rossi", "nguyen", "kowalski", "martín", "bäcker",
        "lefèvre",
    ]);
    let local = match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}_{last}{}", rng.range(1, 99)),
        2 => format!("{first}{}", rng.range(70, 2005)),
        3 => format!("{first}+{}", rng.pick(&["shop", "news", "orders"])),
        _ => format!("{}{last}", first.chars().next().unwrap()),
    };
    let domain = rng.pick(&[
        "gmail.com",
        "outlook.com",
        "yahoo.fr",
        "web.de",
        "gmx.net",
        "hotmail.es",
        "proton.me",
        "example.org",
        "mail.example.co.uk",
        "bücher.de",
        "café-paris.fr",
        "mañana.es",
        "uni-köln.de",
        "company.io",
    ]);
    format!("{local}@{domain}")
}

/// A credential of a random type, and its type.
pub fn credential(rng: &mut Rng) -> (String, &'static str) {
    match rng.below(13) {
        0 => (
            format!("AKIA{}", rng.chars(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
            "aws_access_key_id",
        ),
        1 => (
            format!(
                "{}{}",
                rng.pick(&["ghp_", "gho_", "ghs_"]),
                rng.chars(36, ALNUM)
            ),
            "github_token",
        ),
        2 => (
            format!(
                "github_pat_{}_{}",
                rng.chars(22, ALNUM),
                rng.chars(59, ALNUM)
            ),
            "github_token",
        ),
        3 => (format!("glpat-{}", rng.chars(20, ALNUM)), "gitlab_token"),
        4 => (
            format!(
                "xoxb-{}-{}-{}",
                rng.digits(12),
                rng.digits(13),
                rng.chars(24, ALNUM)
            ),
            "slack_token",
        ),
        5 => (
            format!(
                "{}{}",
                rng.pick(&["sk_live_", "rk_live_", "sk_test_"]),
                rng.chars(24, ALNUM)
            ),
            "stripe_key",
        ),
        6 => (
            format!(
                "AIza{}",
                rng.chars(
                    35,
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                )
            ),
            "google_api_key",
        ),
        7 => (format!("SK{}", rng.chars(32, HEX)), "twilio_api_key"),
        8 => (
            format!("SG.{}.{}", rng.chars(22, ALNUM), rng.chars(43, ALNUM)),
            "sendgrid_api_key",
        ),
        9 => (format!("npm_{}", rng.chars(36, ALNUM)), "npm_token"),
        10 => (
            format!("pypi-AgEIcHlwaS5vcmc{}", rng.chars(60, ALNUM)),
            "pypi_token",
        ),
        11 => (jwt(rng), "jwt"),
        _ => (pem(rng), "private_key"),
    }
}

fn b64url(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn jwt(rng: &mut Rng) -> String {
    let alg = rng.pick(&["HS256", "RS256", "ES256"]);
    let header = b64url(format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}").as_bytes());
    let payload = b64url(
        format!(
            "{{\"sub\":\"{}\",\"iat\":{}}}",
            rng.digits(8),
            rng.range(1_600_000_000, 1_800_000_000)
        )
        .as_bytes(),
    );
    format!(
        "{header}.{payload}.{}",
        rng.chars(
            43,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
    )
}

fn pem(rng: &mut Rng) -> String {
    let label = rng.pick(&[
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ]);
    format!(
        "-----BEGIN {label}----- {} {} -----END {label}-----",
        rng.chars(64, B64),
        rng.chars(40, B64)
    )
}

/// A password value (the disclosed part only).
pub fn password(rng: &mut Rng) -> String {
    let word = rng.pick(&[
        "Sommer", "Winter", "Chaton", "Gato", "Dragon", "Sunshine", "Bonjour", "Hola", "Passe",
        "Monkey",
    ]);
    match rng.below(4) {
        0 => format!("{word}{}", rng.range(1, 2026)),
        1 => format!("{word}{}!", rng.range(10, 99)),
        2 => format!(
            "{}{}#{}",
            word.to_lowercase(),
            rng.range(1, 9),
            rng.chars(3, ALNUM)
        ),
        _ => rng.chars(
            12,
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789%$&",
        ),
    }
}

/// An IPv4 or IPv6 address.
pub fn ip(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("192.168.{}.{}", rng.range(0, 255), rng.range(1, 254)),
        1 => format!(
            "10.{}.{}.{}",
            rng.range(0, 255),
            rng.range(0, 255),
            rng.range(1, 254)
        ),
        2 => format!(
            "{}.{}.{}.{}",
            rng.range(11, 223),
            rng.range(0, 255),
            rng.range(0, 255),
            rng.range(1, 254)
        ),
        3 => format!(
            "2001:db8:{:x}:{:x}::{:x}",
            rng.range(1, 0xffff),
            rng.range(0, 0xffff),
            rng.range(1, 0xffff)
        ),
        _ => format!(
            "fe80::{:x}:{:x}ff:fe{:x}:{:x}",
            rng.range(1, 0xffff),
            rng.range(0, 0xff),
            rng.range(0, 0xff),
            rng.range(1, 0xffff)
        ),
    }
}

/// Ordinary numbers that must not be flagged.
pub fn near_miss(rng: &mut Rng) -> String {
    match rng.below(22) {
        0 => card_bad_luhn(rng),
        1 => iban_bad(rng),
        2 => ssn_bad(rng),
        3 => dni_bad(rng),
        4 => nino_bad(rng),
        5 => format!("#{}", rng.range(10_000, 99_999_999)),
        6 => format!("1Z{}{}", rng.chars(6, UPPER_DIGITS), rng.digits(10)),
        7 => {
            let d = format!("9400{}", rng.digits(18));
            d.as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" ")
        }
        8 => format!("€{},{:02}", rng.range(1, 999), rng.range(0, 99)),
        9 => format!("${}.{:02}", rng.range(1, 9_999), rng.range(0, 99)),
        10 => format!(
            "{:02}/{:02}/{}",
            rng.range(1, 28),
            rng.range(1, 12),
            rng.range(2019, 2026)
        ),
        11 => format!(
            "{}-{:02}-{:02}",
            rng.range(2019, 2026),
            rng.range(1, 12),
            rng.range(1, 28)
        ),
        12 => format!(
            "{:02}.{:02}.{}",
            rng.range(1, 28),
            rng.range(1, 12),
            rng.range(2019, 2026)
        ),
        13 => format!("{:02}:{:02}", rng.range(0, 23), rng.range(0, 59)),
        14 => format!(
            "v{}.{}.{}",
            rng.range(1, 20),
            rng.range(0, 30),
            rng.range(0, 99)
        ),
        15 => format!("INV-{}-{:05}", rng.range(2019, 2026), rng.range(1, 99_999)),
        16 => format!(
            "{}T{:02}:{:02}:{:02}Z",
            format_args!(
                "{}-{:02}-{:02}",
                rng.range(2019, 2026),
                rng.range(1, 12),
                rng.range(1, 28)
            ),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(0, 59)
        ),
        17 => format!(
            "{} {}",
            rng.range(1, 99),
            rng.pick(&["items", "Stück", "articles", "unidades"])
        ),
        18 => format!("JJD{}", rng.digits(18)),
        19 => format!("{}%", rng.range(1, 100)),
        20 => format!(
            "{}{}",
            rng.pick(&["AB", "CD", "RR", "LX"]),
            format_args!("{}GB", rng.digits(9))
        ),
        _ => format!(
            "{} {} {}",
            rng.range(1, 12),
            rng.pick(&["x", "×"]),
            rng.range(1, 500)
        ),
    }
}
