//! `scam_cue`: phrases that name a social-engineering trick, from the
//! phrase lists in `data/scam_cues.txt` (English, German, French, Spanish;
//! matched case-, accent- and space-insensitively on whole words).
//!
//! Job: [`from_hits`] turns the lexicon's cue hits into findings, merging
//! overlapping hits of the same cue into one span; `detail` (`cue` on the
//! wire) is `credential_request`, `remote_access`, `payment_redirect` or
//! `pressure`. The explanation names the trick in one sentence, for the
//! *receiving* side. The masked form is the text itself (a cue is a
//! warning, not a secret).
//!
//! Non-goals: judging intent (a cue is a hint shown to the reader, never
//! a verdict on the sender), languages without a list.

use crate::detect::Ctx;
use crate::detect::lexicon::{Cue, Tag};
use crate::finding::Kind;

/// The sentence shown to the reader of a message with this cue.
pub fn explanation(cue: Cue) -> &'static str {
    match cue {
        Cue::CredentialRequest => {
            "This message asks for a password or a one-time code; genuine support staff never need them."
        }
        Cue::RemoteAccess => {
            "This message asks you to install remote-access software or share your screen, a common way scammers take control of a device."
        }
        Cue::PaymentRedirect => {
            "This message asks for payment by gift card, cryptocurrency or to a new bank account, typical of payment fraud."
        }
        Cue::Pressure => {
            "This message puts you under pressure with urgency or threats, a common manipulation tactic."
        }
    }
}

/// Reports every cue hit, overlapping hits of one cue merged.
pub(crate) fn from_hits(ctx: &mut Ctx<'_>) {
    let mut cues: Vec<(Cue, usize, usize)> = ctx
        .hits
        .iter()
        .filter_map(|h| match h.tag {
            Tag::Cue(c) => Some((c, h.start, h.end)),
            _ => None,
        })
        .collect();
    cues.sort_unstable();
    let mut merged: Vec<(Cue, usize, usize)> = Vec::with_capacity(cues.len());
    for (cue, s, e) in cues {
        match merged.last_mut() {
            Some((c, _, le)) if *c == cue && s <= *le => *le = (*le).max(e),
            _ => merged.push((cue, s, e)),
        }
    }
    for (cue, s, e) in merged {
        let text = ctx.slice(s..e).to_owned();
        ctx.push(
            Kind::ScamCue,
            s..e,
            Some(cue.as_str()),
            explanation(cue).to_owned(),
            text,
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::finding::Kind;
    use crate::scan::{ScanOptions, scan};

    fn cues(text: &str) -> Vec<(String, &'static str)> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::ScamCue)
            .map(|f| (f.text, f.detail.unwrap()))
            .collect()
    }

    #[test]
    fn each_cue_in_each_language() {
        for (text, cue) in [
            (
                "Please tell me your password so I can check.",
                "credential_request",
            ),
            ("Lesen Sie mir den Code vor, bitte", "credential_request"),
            (
                "Donnez-moi le code de vérification reçu",
                "credential_request",
            ),
            (
                "Dígame el código que acaba de recibir",
                "credential_request",
            ),
            ("Please install AnyDesk now", "remote_access"),
            ("Bitte teilen Sie Ihren Bildschirm", "remote_access"),
            ("Partagez votre écran svp", "remote_access"),
            ("Instale TeamViewer por favor", "remote_access"),
            (
                "You can pay with Google Play gift cards",
                "payment_redirect",
            ),
            ("Unsere neue Bankverbindung lautet", "payment_redirect"),
            ("Payez en bitcoin uniquement", "payment_redirect"),
            ("Hemos cambiado de cuenta bancaria", "payment_redirect"),
            ("Your account will be suspended today", "pressure"),
            ("Letzte Warnung!", "pressure"),
            ("Votre compte sera bloqué", "pressure"),
            ("Su cuenta será cancelada", "pressure"),
        ] {
            let found = cues(text);
            assert!(found.iter().any(|(_, c)| *c == cue), "{text}: {found:?}");
        }
    }

    #[test]
    fn ordinary_support_talk_is_not_a_cue() {
        for t in [
            "I forgot my password, can you help?",
            "You can reset your password from the login page.",
            "Your order will be shipped today.",
            "Ich habe mein Passwort vergessen.",
            "Le code promo ne marche pas.",
            "Mi cuenta no funciona.",
        ] {
            assert!(cues(t).is_empty(), "{t}: {:?}", cues(t));
        }
    }
}
