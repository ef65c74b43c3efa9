//! What the guard reports: one [`Finding`] per risky span of a message.
//!
//! The shape is shared by every detector and by the link analyser, and is
//! what `confide guard scan --json` prints (one object per finding).

use core::ops::Range;

/// The kind of a finding; the `snake_case` names are the stable wire names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A payment card number (Luhn-valid, issuer range of a major network).
    PaymentCard,
    /// An IBAN (country length and structure, mod-97 check).
    Iban,
    /// A national identity number; see [`Finding::detail`] for its scheme.
    NationalId,
    /// A phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A secret: private key block, cloud/SaaS token, JWT, "password: …".
    Credential,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A URL or bare domain; see [`Finding::link`] for its verdict.
    Link,
    /// A social-engineering cue; see [`Finding::detail`] for the cue.
    ScamCue,
}

impl Kind {
    /// Every kind, in wire order.
    pub const ALL: [Kind; 9] = [
        Kind::PaymentCard,
        Kind::Iban,
        Kind::NationalId,
        Kind::Phone,
        Kind::Email,
        Kind::Credential,
        Kind::IpAddress,
        Kind::Link,
        Kind::ScamCue,
    ];

    /// The stable wire name (`payment_card`, `iban`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PaymentCard => "payment_card",
            Kind::Iban => "iban",
            Kind::NationalId => "national_id",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::Credential => "credential",
            Kind::IpAddress => "ip_address",
            Kind::Link => "link",
            Kind::ScamCue => "scam_cue",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// How safe a link looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Nothing suspicious (or one of the organisation's own domains).
    Safe,
    /// Something unusual; the user should look before opening.
    Caution,
    /// A known trick (homograph, look-alike, user-info, dangerous scheme …).
    Danger,
}

impl Verdict {
    /// The stable wire name (`safe`, `caution`, `danger`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Caution => "caution",
            Verdict::Danger => "danger",
        }
    }
}

/// The link-specific part of a [`Kind::Link`] finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    /// The verdict.
    pub verdict: Verdict,
    /// Stable machine-readable reason codes (e.g. `homograph`, `lookalike_org`,
    /// `raw_ip`, `userinfo`, `shortener`, `dangerous_scheme`, `plain_http`,
    /// `executable_download`, `lookalike_brand`, `punycode`).
    pub reasons: Vec<&'static str>,
    /// The host as the browser would resolve it (IDNA ASCII form), if any.
    pub host: Option<String>,
}

/// One risky span of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// Byte range in the scanned text; always on `char` boundaries.
    pub span: Range<usize>,
    /// The matched text (`&text[span]`).
    pub text: String,
    /// A sub-kind: the national-id `scheme` (`us_ssn`, `uk_nino`, `es_dni`, …),
    /// the scam `cue` (`credential_request`, `remote_access`,
    /// `payment_redirect`, `pressure`), the credential type, or the card network.
    pub detail: Option<&'static str>,
    /// One sentence for the user: why this is risky.
    pub explanation: String,
    /// What masking would replace the span with (e.g. `•••• •••• •••• 4242`).
    pub masked: String,
    /// Link verdict and reasons, for [`Kind::Link`] only.
    pub link: Option<LinkInfo>,
}
