//! Policy: what happens to each kind of finding, per direction and side,
//! and the decision for one message.
//!
//! Job: a [`Policy`] maps (direction, side, kind) to an [`Action`]
//! (`Allow` < `Warn` < `Mask` < `Block`; links by verdict) and holds the
//! organisation's contact allow-list. [`Policy::evaluate`] decides for a
//! message about to be *sent*, [`Policy::evaluate_received`] for one just
//! *received* (scam cues and risky links warn the reader);
//! [`apply_masking`] replaces findings by their masked forms (the
//! "one-click masking" of a warning). A policy serialises to canonical
//! JSON ([`Policy::to_canonical_json`]: fields in declaration order, lists
//! sorted and de-duplicated, no white space) so it can travel in the signed
//! inbox membership's policy blob and verify byte for byte.
//!
//! Defaults ([`Policy::default`]):
//! - visitor → organisation: card, IBAN, national id **warn** (masking
//!   offered); credentials **block**; the receiving agent's console masks
//!   card numbers and is warned of scam cues and risky links;
//! - agent → visitor: phone numbers and e-mail addresses not on the
//!   allow-list **block** ("never give out personal contact information");
//!   credentials **block**; card, IBAN, national id warn; dangerous links
//!   warn; the receiving visitor is warned of scam cues and risky links;
//! - internal note: credentials **block**, the rest is allowed.
//!
//! Non-goals: who may change the policy (the signed membership decides),
//! enforcement on the server (it cannot read messages).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::finding::{Finding, Kind, Verdict};

/// The policy format version this build reads and writes.
pub const POLICY_VERSION: u32 = 1;

/// What to do about a finding; ordered by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing.
    Allow,
    /// Show the explanation; the sender may go on or mask.
    Warn,
    /// Replace the span by its masked form before sending (or showing).
    Mask,
    /// Refuse to send.
    Block,
}

/// Who writes to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A visitor writing to the organisation.
    VisitorToOrg,
    /// An agent writing to a visitor.
    AgentToVisitor,
    /// An internal note between staff, never shown to the visitor.
    InternalNote,
}

impl Direction {
    /// Parses a wire name (`visitor_to_org`, `agent_to_visitor`,
    /// `internal_note`).
    pub fn from_name(name: &str) -> Result<Direction, Error> {
        match name {
            "visitor_to_org" => Ok(Direction::VisitorToOrg),
            "agent_to_visitor" => Ok(Direction::AgentToVisitor),
            "internal_note" => Ok(Direction::InternalNote),
            other => Err(Error::UnknownDirection(other.to_owned())),
        }
    }
}

/// Actions for links, by verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkActions {
    /// For `safe` links.
    pub safe: Action,
    /// For `caution` links.
    pub caution: Action,
    /// For `danger` links.
    pub danger: Action,
}

/// One action per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindActions {
    /// Payment cards.
    pub payment_card: Action,
    /// IBANs.
    pub iban: Action,
    /// National ids.
    pub national_id: Action,
    /// Phone numbers not on the allow-list.
    pub phone: Action,
    /// E-mail addresses not on the allow-list.
    pub email: Action,
    /// Credentials.
    pub credential: Action,
    /// IP addresses.
    pub ip_address: Action,
    /// Links, by verdict.
    pub link: LinkActions,
    /// Scam cues.
    pub scam_cue: Action,
}

impl KindActions {
    const ALLOW_ALL: KindActions = KindActions {
        payment_card: Action::Allow,
        iban: Action::Allow,
        national_id: Action::Allow,
        phone: Action::Allow,
        email: Action::Allow,
        credential: Action::Allow,
        ip_address: Action::Allow,
        link: LinkActions {
            safe: Action::Allow,
            caution: Action::Allow,
            danger: Action::Allow,
        },
        scam_cue: Action::Allow,
    };

    /// The action for one finding (before the allow-list).
    pub fn for_finding(&self, f: &Finding) -> Action {
        match f.kind {
            Kind::PaymentCard => self.payment_card,
            Kind::Iban => self.iban,
            Kind::NationalId => self.national_id,
            Kind::Phone => self.phone,
            Kind::Email => self.email,
            Kind::Credential => self.credential,
            Kind::IpAddress => self.ip_address,
            Kind::Link => match f.link.as_ref().map_or(Verdict::Caution, |l| l.verdict) {
                Verdict::Safe => self.link.safe,
                Verdict::Caution => self.link.caution,
                Verdict::Danger => self.link.danger,
            },
            Kind::ScamCue => self.scam_cue,
        }
    }
}

/// The rules of one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectionRules {
    /// Checked on the sender's device before encrypting.
    pub send: KindActions,
    /// Applied on the reader's device when showing a received message.
    pub receive: KindActions,
}

/// Contact details the organisation's staff may give out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactAllowList {
    /// E-mail domains (`acme.com`; its subdomains too).
    pub email_domains: Vec<String>,
    /// Exact e-mail addresses.
    pub emails: Vec<String>,
    /// Phone numbers (compared by their digits).
    pub phones: Vec<String>,
}

/// A complete policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version ([`POLICY_VERSION`]).
    pub version: u32,
    /// Visitor → organisation.
    pub visitor_to_org: DirectionRules,
    /// Agent → visitor.
    pub agent_to_visitor: DirectionRules,
    /// Internal notes.
    pub internal_note: DirectionRules,
    /// Contact details staff may give out.
    pub contact_allow_list: ContactAllowList,
}

impl Default for Policy {
    fn default() -> Self {
        use Action::{Allow, Block, Mask, Warn};
        let risky_links = LinkActions {
            safe: Allow,
            caution: Warn,
            danger: Warn,
        };
        let receive = KindActions {
            link: risky_links,
            scam_cue: Warn,
            ..KindActions::ALLOW_ALL
        };
        Policy {
            version: POLICY_VERSION,
            visitor_to_org: DirectionRules {
                send: KindActions {
                    payment_card: Warn,
                    iban: Warn,
                    national_id: Warn,
                    credential: Block,
                    ..KindActions::ALLOW_ALL
                },
                receive: KindActions {
                    payment_card: Mask,
                    ..receive
                },
            },
            agent_to_visitor: DirectionRules {
                send: KindActions {
                    payment_card: Warn,
                    iban: Warn,
                    national_id: Warn,
                    phone: Block,
                    email: Block,
                    credential: Block,
                    link: LinkActions {
                        safe: Allow,
                        caution: Allow,
                        danger: Warn,
                    },
                    ..KindActions::ALLOW_ALL
                },
                receive,
            },
            internal_note: DirectionRules {
                send: KindActions {
                    credential: Block,
                    ..KindActions::ALLOW_ALL
                },
                receive: KindActions::ALLOW_ALL,
            },
            contact_allow_list: ContactAllowList::default(),
        }
    }
}

/// The action on one finding and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingAction {
    /// Index into the evaluated findings.
    pub index: usize,
    /// Wire name of its kind.
    pub kind: String,
    /// The action.
    pub action: Action,
    /// One sentence for the user.
    pub reason: String,
}

/// The decision for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The overall action: the most severe per-finding action.
    pub action: Action,
    /// One entry per finding that is not allowed.
    pub findings: Vec<FindingAction>,
    /// What to tell the user (empty when everything is allowed).
    pub message: String,
    /// Whether masking the warned findings would make the message clean
    /// (the "mask and send" button).
    pub can_mask: bool,
}

impl Policy {
    /// The rules of a direction.
    pub fn rules(&self, direction: Direction) -> &DirectionRules {
        match direction {
            Direction::VisitorToOrg => &self.visitor_to_org,
            Direction::AgentToVisitor => &self.agent_to_visitor,
            Direction::InternalNote => &self.internal_note,
        }
    }

    /// The decision for a message about to be sent in `direction`.
    pub fn evaluate(&self, direction: Direction, findings: &[Finding]) -> Decision {
        let contact = direction == Direction::AgentToVisitor;
        self.decide(&self.rules(direction).send, findings, contact, true)
    }

    /// The decision for showing a message received in `direction`.
    pub fn evaluate_received(&self, direction: Direction, findings: &[Finding]) -> Decision {
        self.decide(&self.rules(direction).receive, findings, false, false)
    }

    fn decide(
        &self,
        rules: &KindActions,
        findings: &[Finding],
        contact: bool,
        sending: bool,
    ) -> Decision {
        let mut out = Vec::new();
        for (index, f) in findings.iter().enumerate() {
            let mut action = rules.for_finding(f);
            if matches!(f.kind, Kind::Phone | Kind::Email) && self.allowed_contact(f) {
                action = Action::Allow;
            }
            if action == Action::Allow {
                continue;
            }
            let reason = if contact
                && matches!(f.kind, Kind::Phone | Kind::Email)
                && action == Action::Block
            {
                "Never give out personal contact information: use the organisation's official contact details."
                    .to_owned()
            } else {
                f.explanation.clone()
            };
            out.push(FindingAction {
                index,
                kind: f.kind.as_str().to_owned(),
                action,
                reason,
            });
        }
        let action = out.iter().map(|a| a.action).max().unwrap_or(Action::Allow);
        let can_mask = action != Action::Block
            && out.iter().any(|a| a.action == Action::Warn)
            && out.iter().all(|a| {
                findings
                    .get(a.index)
                    .is_some_and(|f| !matches!(f.kind, Kind::ScamCue | Kind::Link))
            });
        let first = |wanted: Action| {
            out.iter()
                .find(|a| a.action == wanted)
                .map(|a| a.reason.as_str())
        };
        let message = match (action, sending) {
            (Action::Allow, _) => String::new(),
            (Action::Block, _) => format!(
                "This message can't be sent. {}",
                first(Action::Block).unwrap_or_default()
            ),
            (Action::Mask, true) => format!(
                "Some details will be masked before sending. {}",
                first(Action::Mask).unwrap_or_default()
            ),
            (Action::Mask, false) => format!(
                "Some details are hidden. {}",
                first(Action::Mask).unwrap_or_default()
            ),
            (Action::Warn, true) => format!(
                "Check before sending. {}",
                first(Action::Warn).unwrap_or_default()
            ),
            (Action::Warn, false) => {
                format!("Be careful. {}", first(Action::Warn).unwrap_or_default())
            }
        };
        Decision {
            action,
            findings: out,
            message,
            can_mask,
        }
    }

    fn allowed_contact(&self, f: &Finding) -> bool {
        let list = &self.contact_allow_list;
        match f.kind {
            Kind::Email => {
                let addr = f.text.to_lowercase();
                let domain = addr.rsplit('@').next().unwrap_or_default();
                list.emails.iter().any(|e| e.to_lowercase() == addr)
                    || list.email_domains.iter().any(|d| {
                        let d = d.to_lowercase();
                        domain == d || domain.ends_with(&format!(".{d}"))
                    })
            }
            Kind::Phone => {
                let digits = digits_of(&f.text);
                list.phones.iter().any(|p| {
                    let allowed = digits_of(p);
                    let n = allowed.len().min(digits.len()).min(9);
                    n >= 7 && allowed.get(allowed.len() - n..) == digits.get(digits.len() - n..)
                })
            }
            _ => false,
        }
    }

    /// Canonical JSON: fields in declaration order, allow-lists lower-cased
    /// (e-mail), sorted and de-duplicated, no white space.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        let normal = self.clone().normalized();
        serde_json::to_vec(&normal).unwrap_or_default()
    }

    /// Parses a policy (any field order and spacing; unknown fields and
    /// versions are refused) and normalises its lists.
    pub fn from_json(bytes: &[u8]) -> Result<Policy, Error> {
        let policy: Policy = serde_json::from_slice(bytes)?;
        if policy.version != POLICY_VERSION {
            return Err(Error::PolicyVersion(policy.version));
        }
        Ok(policy.normalized())
    }

    fn normalized(mut self) -> Policy {
        let l = &mut self.contact_allow_list;
        for list in [&mut l.email_domains, &mut l.emails] {
            for e in list.iter_mut() {
                *e = e.trim().to_lowercase();
            }
        }
        for list in [&mut l.email_domains, &mut l.emails, &mut l.phones] {
            list.retain(|s| !s.trim().is_empty());
            list.sort();
            list.dedup();
        }
        self
    }
}

fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).collect()
}

/// `text` with every finding's span replaced by its masked form (findings
/// must not overlap, as [`crate::scan`] returns them; an overlapping or
/// out-of-range one is skipped).
pub fn apply_masking(text: &str, findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.kind != Kind::ScamCue)
        .collect();
    sorted.sort_by_key(|f| f.span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in sorted {
        let (Some(before), true) = (
            text.get(at..f.span.start),
            text.get(f.span.clone()).is_some(),
        ) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&f.masked);
        at = f.span.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// The findings a decision asks to mask: `Mask` ones, and `Warn` ones too
/// when the user chose "mask and send".
pub fn to_mask(findings: &[Finding], decision: &Decision, include_warned: bool) -> Vec<Finding> {
    decision
        .findings
        .iter()
        .filter(|a| a.action == Action::Mask || (include_warned && a.action == Action::Warn))
        .filter_map(|a| findings.get(a.index))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
