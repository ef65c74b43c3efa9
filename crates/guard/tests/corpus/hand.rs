//! The hand-written corpus (`hand.txt`): `{{kind:text}}` marks a label.

use super::Line;

const HAND: &str = include_str!("hand.txt");

const KINDS: &[&str] = &[
    "payment_card",
    "iban",
    "national_id",
    "phone",
    "email",
    "credential",
    "ip_address",
    "link",
    "scam_cue",
];

/// The hand-written lines with their labels.
pub fn lines() -> Vec<Line> {
    HAND.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(parse)
        .collect()
}

fn parse(src: &str) -> Line {
    let mut line = Line {
        lang: "hand",
        ..Line::default()
    };
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        line.push(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").expect("unclosed label");
        let (kind, value) = after[..close].split_once(':').expect("label without kind");
        let kind = KINDS
            .iter()
            .copied()
            .find(|k| *k == kind)
            .expect("unknown kind");
        line.value(kind, value);
        rest = &after[close + 2..];
    }
    line.push(rest);
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_point_at_their_text() {
        for l in super::lines() {
            for lab in &l.labels {
                assert!(!l.text[lab.start..lab.end].contains("{{"));
            }
        }
    }
}
