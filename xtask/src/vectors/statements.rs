//! `statements.json`: membership, key-generation and root-rotation chains
//! verified by `InboxState::sync` from a trust anchor and an optional
//! checkpoint, and generation keys unsealed from them (§5, §6).
//!
//! Statements the safe builders refuse (seals to the wrong devices, a seal
//! holding the wrong key) are re-encoded with the crate's body encoders and
//! sealed and signed with [`super::raw`].

use super::case::{Case, Ctx, SUCCESS, VectorFile, hx, obj};
use super::fixture::{
    INBOX, NOW, ORG, Parties, VALIDITY, add_generation, anchor_json, chain_json,
    last_membership_hash, resign_generation, sync,
};
use super::raw;
use confide_protocol::generation::{GenerationBody, KeySeal};
use confide_protocol::membership::Role;
use confide_protocol::rand_core::SeedableRng;
use confide_protocol::root::RootRotationBody;
use confide_protocol::state::{Chain, Checkpoint, TrustAnchor};
use confide_protocol::{DeviceSecretKey, Generation, InboxId, StatementHash, Timestamp};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

/// Builds the file.
pub fn generate() -> Result<VectorFile, String> {
    let p = Parties::new(0x5701);
    let mut rng = ChaCha20Rng::seed_from_u64(0x5702);
    let anchor = p.anchor();
    let members = p.standard_members();
    let without_scanner: Vec<_> = members
        .iter()
        .copied()
        .filter(|(_, r, _)| *r != Role::Scanner)
        .collect();

    let mut f = VectorFile::new(
        "statements.json",
        "Membership, key-generation and root-rotation chains (docs/protocol.md §5, §6): \
         verify the chain from the anchor (and checkpoint) at `now`; optionally unseal a \
         generation key with a member device.",
    );
    f.shared("keys", p.keys_json());

    // The base chain: M0, G0, M1 (scanner removed), G1; all by the admin device.
    let m0 = p.membership(0, StatementHash::GENESIS, 0, &members);
    let mut c0 = Chain::default();
    c0.memberships.push(m0.sign(&p.root).ctx("m0")?);
    let _g0_secret = add_generation(anchor, &mut c0, &p.admin, &mut rng)?;
    let cp0 = checkpoint(anchor, &c0)?;
    let m1 = p.membership(1, last_membership_hash(&c0), 0, &without_scanner);
    let mut full = c0.clone();
    full.memberships.push(m1.sign(&p.root).ctx("m1")?);
    let _g1_secret = add_generation(anchor, &mut full, &p.admin, &mut rng)?;
    let cp_full = checkpoint(anchor, &full)?;

    let sync_case =
        |name: &str,
         desc: &str,
         chain: &Chain,
         cp: Option<&Checkpoint>,
         now: u64,
         expected: &str| { statement_case(name, desc, anchor, chain, cp, now, expected) };

    f.push(sync_case(
        "valid_chain",
        "Two memberships and two generations, no checkpoint.",
        &full,
        None,
        NOW.0,
        SUCCESS,
    )?);
    f.push(sync_case(
        "valid_chain_through_checkpoint",
        "The same chain verified by a client whose checkpoint is membership 0 / generation 0.",
        &full,
        Some(&cp0),
        NOW.0,
        SUCCESS,
    )?);
    f.push(sync_case(
        "valid_chain_at_checkpoint",
        "The same chain verified by a client whose checkpoint is its head.",
        &full,
        Some(&cp_full),
        NOW.0,
        SUCCESS,
    )?);
    f.push(sync_case(
        "membership_expired",
        "The valid chain verified one second after the head membership's not_after.",
        &full,
        None,
        NOW.0 + VALIDITY + 1,
        "membership_expired",
    )?);

    // Wrong membership signer.
    let mut c = Chain::default();
    c.memberships
        .push(m0.sign(&p.impostor_root).ctx("impostor m0")?);
    f.push(sync_case(
        "membership_wrong_signer",
        "Membership 0 signed by a key that is not the pinned root.",
        &c,
        None,
        NOW.0,
        "bad_signature",
    )?);

    // Membership of another inbox.
    let mut other = m0.clone();
    other.inbox = InboxId([0xee; 16]);
    let mut c = Chain::default();
    c.memberships.push(other.sign(&p.root).ctx("other inbox")?);
    f.push(sync_case(
        "membership_wrong_inbox",
        "A root-signed membership of another inbox of the organisation.",
        &c,
        None,
        NOW.0,
        "wrong_scope",
    )?);

    // Generation signers.
    for (name, desc, signer, expected) in [
        (
            "generation_signed_by_non_member",
            "Generation 0 signed by a device that is no member of the inbox.",
            &p.outsider,
            "wrong_signer",
        ),
        (
            "generation_signed_by_agent",
            "Generation 0 signed by an agent, a member whose role may not rotate keys.",
            &p.agent,
            "rotation_not_allowed",
        ),
        (
            "generation_signed_by_scanner",
            "Generation 0 signed by the scanner, whose role may not rotate keys.",
            &p.scanner,
            "rotation_not_allowed",
        ),
        (
            "generation_signed_by_supervisor",
            "Generation 0 signed by a supervisor, whose role may rotate keys.",
            &p.supervisor,
            SUCCESS,
        ),
    ] {
        let mut c = Chain::default();
        c.memberships.push(m0.sign(&p.root).ctx("m0")?);
        add_generation(anchor, &mut c, signer, &mut rng)?;
        f.push(sync_case(name, desc, &c, None, NOW.0, expected)?);
    }

    // Broken membership chain.
    let mut c = c0.clone();
    c.memberships.push(
        p.membership(1, StatementHash([0x42; 32]), 0, &without_scanner)
            .sign(&p.root)
            .ctx("m1 bad prev")?,
    );
    f.push(sync_case(
        "membership_broken_prev_hash",
        "Membership 1's prev_hash is not the hash of membership 0 (properly signed by the root).",
        &c,
        None,
        NOW.0,
        "broken_chain",
    )?);
    let mut c = c0.clone();
    c.memberships.push(
        p.membership(2, last_membership_hash(&c0), 0, &without_scanner)
            .sign(&p.root)
            .ctx("m2")?,
    );
    f.push(sync_case(
        "membership_sequence_gap",
        "Membership 0 followed by a membership numbered 2.",
        &c,
        None,
        NOW.0,
        "broken_chain",
    )?);

    // Broken generation chain: generation 1 whose prev is not generation 0's hash.
    let mut c = full.clone();
    c.generations.pop();
    let s = sync(anchor, &c, NOW)?;
    let (g1_bad, _) = GenerationBody::issue(
        s.head_membership().ctx("head")?,
        Some((Generation(0), StatementHash([0x43; 32]))),
        &p.admin,
        NOW,
        &mut rng,
    )
    .ctx("issue g1")?;
    c.generations.push(g1_bad);
    f.push(sync_case(
        "generation_broken_prev_hash",
        "Generation 1's prev_hash is not the hash of generation 0.",
        &c,
        None,
        NOW.0,
        "broken_chain",
    )?);

    // A generation for a membership the client was not served.
    let mut c = full.clone();
    c.memberships.pop();
    f.push(sync_case(
        "generation_for_unknown_membership",
        "Generation 1 names membership 1, which the chain does not contain.",
        &c,
        None,
        NOW.0,
        "unknown_statement",
    )?);

    // Forks and rollbacks against the full checkpoint.
    let mut forked = without_scanner.clone();
    forked.retain(|(_, r, _)| *r != Role::Supervisor);
    let mut c = c0.clone();
    c.memberships.push(
        p.membership(1, last_membership_hash(&c0), 0, &forked)
            .sign(&p.root)
            .ctx("m1 fork")?,
    );
    f.push(sync_case(
        "membership_fork_at_checkpoint",
        "The client's checkpoint is membership 1; the server serves a different, validly signed membership 1.",
        &c, Some(&cp_full), NOW.0, "fork",
    )?);
    let mut c = full.clone();
    c.generations.pop();
    add_generation(anchor, &mut c, &p.supervisor, &mut rng)?;
    f.push(sync_case(
        "generation_fork_at_checkpoint",
        "The client's checkpoint is generation 1; the server serves a different, validly signed generation 1.",
        &c, Some(&cp_full), NOW.0, "fork",
    )?);
    f.push(sync_case(
        "membership_rollback",
        "The client's checkpoint is membership 1; the server serves only membership 0 and generation 0.",
        &c0, Some(&cp_full), NOW.0, "rollback",
    )?);
    let mut c = full.clone();
    c.generations.pop();
    f.push(sync_case(
        "generation_rollback",
        "The client's checkpoint is generation 1; the server serves both memberships but only generation 0.",
        &c, Some(&cp_full), NOW.0, "rollback",
    )?);

    // Seals to the wrong devices.
    let g0 = c0.generations.first().ctx("g0")?.body().clone();
    let mut missing = g0.clone();
    let supervisor_id = p.supervisor.device_id();
    missing.seals.retain(|s| s.device != supervisor_id);
    let mut c = c0.clone();
    c.generations = vec![resign_generation(&missing, &p.admin)?];
    f.push(sync_case(
        "generation_seal_missing",
        "Generation 0 signed by the admin but not sealed to the supervisor.",
        &c,
        None,
        NOW.0,
        "wrong_seal_recipients",
    )?);
    let mut extra = g0.clone();
    let admin_id = p.admin.device_id();
    let sealed = raw::hpke_seal(
        &p.admin.public().hpke.0,
        &raw::generation_seal_info(&ORG.0, &INBOX.0, 0, &admin_id.0),
        &g0.public_key.0,
        &[0x11; 32],
        &mut rng,
    )?;
    extra.seals.push(KeySeal {
        device: admin_id,
        sealed: sealed.try_into().map_err(|_| "seal length".to_string())?,
    });
    extra.seals.sort_by_key(|s| s.device);
    let mut c = c0.clone();
    c.generations = vec![resign_generation(&extra, &p.admin)?];
    f.push(sync_case(
        "generation_sealed_to_admin",
        "Generation 0 also sealed to the admin device, which does not read the inbox.",
        &c,
        None,
        NOW.0,
        "wrong_seal_recipients",
    )?);

    // Root rotation.
    let rotation = RootRotationBody {
        org: ORG,
        epoch: 1,
        prev: StatementHash::GENESIS,
        old_root: p.root.public(),
        new_root: p.new_root.public(),
        issued_at: NOW,
    };
    let rotated_chain =
        |rot, m1_signer: &confide_protocol::RootSecretKey, epoch: u64, rng: &mut ChaCha20Rng| {
            let mut c = c0.clone();
            c.rotations.push(rot);
            c.memberships.push(
                p.membership(1, last_membership_hash(&c0), epoch, &without_scanner)
                    .sign(m1_signer)
                    .ctx("m1 rotated")?,
            );
            if let Ok(s) = sync(anchor, &c, NOW) {
                let m = s.head_membership().ctx("head")?;
                let prev = s.head_generation().map(|g| (g.body().generation, g.hash()));
                let (g, _) = GenerationBody::issue(m, prev, &p.admin, NOW, rng).ctx("g1")?;
                c.generations.push(g);
            }
            Ok::<_, String>(c)
        };
    let c = rotated_chain(
        rotation.sign(&p.root, &p.new_root),
        &p.new_root,
        1,
        &mut rng,
    )?;
    f.push(sync_case(
        "root_rotation_valid",
        "The root rotates to a new key at epoch 1; membership 1 is signed by the new root.",
        &c,
        Some(&cp0),
        NOW.0,
        SUCCESS,
    )?);
    let cp_rotated = checkpoint(anchor, &c)?;
    // The old root signs a second epoch-1 rotation to a key of the attacker's,
    // which re-signs the very same membership-1 body (same hash) and then adds
    // an eavesdropping agent; the generations are replayed unchanged.
    let forked_rotation = RootRotationBody {
        new_root: p.impostor_root.public(),
        ..rotation.clone()
    };
    let mut forked = c.clone();
    forked.rotations = vec![forked_rotation.sign(&p.root, &p.impostor_root)];
    let m1_body = forked.memberships.get(1).ctx("m1")?.body().clone();
    *forked.memberships.get_mut(1).ctx("m1")? =
        m1_body.sign(&p.impostor_root).ctx("m1 re-signed")?;
    let mut eavesdropped = without_scanner.clone();
    eavesdropped.push((&p.outsider, Role::Agent, "Agent 2"));
    let m2 = p.membership(2, m1_body_hash(&forked)?, 1, &eavesdropped);
    forked
        .memberships
        .push(m2.sign(&p.impostor_root).ctx("m2 forked")?);
    f.push(sync_case(
        "root_rotation_fork_at_checkpoint",
        "The client's checkpoint is root epoch 1. The server serves another epoch-1 rotation, signed by \
         the old root (e.g. after its compromise), to an attacker's key, which re-signs the same \
         membership-1 body and adds membership 2 with an eavesdropping agent.",
        &forked, Some(&cp_rotated), NOW.0, "fork",
    )?);
    let c = rotated_chain(
        rotation.sign(&p.impostor_root, &p.new_root),
        &p.new_root,
        1,
        &mut rng,
    )?;
    f.push(sync_case(
        "root_rotation_bad_old_signature",
        "The rotation names the pinned root as old root, but its old-root signature is by another key.",
        &c, None, NOW.0, "bad_signature",
    )?);
    let c = rotated_chain(
        rotation.sign(&p.root, &p.impostor_root),
        &p.new_root,
        1,
        &mut rng,
    )?;
    f.push(sync_case(
        "root_rotation_bad_new_signature",
        "The rotation's proof of possession is not signed by the new root.",
        &c,
        None,
        NOW.0,
        "bad_signature",
    )?);
    let wrong_old = RootRotationBody {
        old_root: p.impostor_root.public(),
        ..rotation.clone()
    };
    let c = rotated_chain(
        wrong_old.sign(&p.impostor_root, &p.new_root),
        &p.new_root,
        1,
        &mut rng,
    )?;
    f.push(sync_case(
        "root_rotation_wrong_old_root",
        "The rotation replaces a key that is not the current root.",
        &c,
        None,
        NOW.0,
        "wrong_signer",
    )?);
    let c = rotated_chain(rotation.sign(&p.root, &p.new_root), &p.root, 1, &mut rng)?;
    f.push(sync_case(
        "membership_epoch1_signed_by_old_root",
        "After the rotation, membership 1 claims root epoch 1 but is signed by the old root.",
        &c,
        None,
        NOW.0,
        "bad_signature",
    )?);
    let c = rotated_chain(rotation.sign(&p.root, &p.new_root), &p.root, 0, &mut rng)?;
    f.push(sync_case(
        "head_membership_still_at_epoch_0",
        "After the rotation, the head membership is still signed by the epoch-0 root.",
        &c,
        None,
        NOW.0,
        "wrong_signer",
    )?);

    // Unsealing generation keys.
    let unseal =
        |name: &str,
         desc: &str,
         chain: &Chain,
         g: u64,
         device: &DeviceSecretKey,
         expected: &str| { unseal_case(name, desc, anchor, chain, g, device, expected) };
    f.push(unseal(
        "unseal_agent",
        "The agent unseals generation 1.",
        &full,
        1,
        &p.agent,
        SUCCESS,
    )?);
    f.push(unseal(
        "unseal_supervisor",
        "The supervisor unseals generation 0.",
        &full,
        0,
        &p.supervisor,
        SUCCESS,
    )?);
    f.push(unseal(
        "unseal_admin",
        "The admin device (which does not read the inbox) has no seal.",
        &full,
        1,
        &p.admin,
        "not_a_generation_recipient",
    )?);
    f.push(unseal(
        "unseal_scanner",
        "The scanner never receives generation keys.",
        &full,
        0,
        &p.scanner,
        "not_a_generation_recipient",
    )?);

    // A generation whose agent seal holds another key; the supervisor's seal
    // is made independently with the right key.
    let g0_secret = {
        let s = sync(anchor, &c0, NOW)?;
        let g = s.generation(Generation(0)).ctx("g0")?;
        g.unseal(&p.supervisor).ctx("unseal g0")?
    };
    let mut crafted = g0.clone();
    let agent_id = p.agent.device_id();
    for s in &mut crafted.seals {
        let device = if s.device == agent_id {
            &p.agent
        } else if s.device == supervisor_id {
            &p.supervisor
        } else {
            continue;
        };
        let secret: [u8; 32] = if s.device == agent_id {
            [0x24; 32]
        } else {
            *g0_secret.dangerous_expose_bytes()
        };
        let sealed = raw::hpke_seal(
            &device.public().hpke.0,
            &raw::generation_seal_info(&ORG.0, &INBOX.0, 0, &s.device.0),
            &g0.public_key.0,
            &secret,
            &mut rng,
        )?;
        s.sealed = sealed.try_into().map_err(|_| "seal length".to_string())?;
    }
    let mut c = c0.clone();
    c.generations = vec![resign_generation(&crafted, &p.admin)?];
    f.push(unseal(
        "unseal_key_mismatch",
        "The agent's seal holds a key that does not match the generation's public key.",
        &c,
        0,
        &p.agent,
        "generation_key_mismatch",
    )?);
    f.push(unseal(
        "unseal_independent_seal",
        "The supervisor's seal in the same statement, made independently from the layout, unseals.",
        &c,
        0,
        &p.supervisor,
        SUCCESS,
    )?);
    let mut moved = g0.clone();
    let sup_seal = moved
        .seals
        .iter()
        .find(|s| s.device == supervisor_id)
        .map(|s| s.sealed)
        .ctx("supervisor seal")?;
    for s in &mut moved.seals {
        if s.device == agent_id {
            s.sealed = sup_seal;
        }
    }
    let mut c = c0.clone();
    c.generations = vec![resign_generation(&moved, &p.admin)?];
    f.push(unseal(
        "unseal_seal_of_other_device",
        "The agent's seal is a copy of the supervisor's seal: it does not open with the agent's key.",
        &c, 0, &p.agent, "decryption_failed",
    )?);
    Ok(f)
}

fn m1_body_hash(c: &Chain) -> Result<StatementHash, String> {
    Ok(c.memberships.get(1).ctx("m1")?.hash())
}

fn checkpoint(anchor: TrustAnchor, chain: &Chain) -> Result<Checkpoint, String> {
    sync(anchor, chain, NOW)?.checkpoint().ctx("checkpoint")
}

fn base_case(
    name: &str,
    description: &str,
    anchor: TrustAnchor,
    chain: &Chain,
    cp: Option<&Checkpoint>,
    now: u64,
    expected: &str,
) -> Case {
    Case::new(name, description, expected)
        .with("anchor", anchor_json(&anchor))
        .with("checkpoint", cp.map_or(Value::Null, |c| hx(c.encode())))
        .with("chain", chain_json(chain))
        .with("now", now)
}

fn statement_case(
    name: &str,
    description: &str,
    anchor: TrustAnchor,
    chain: &Chain,
    cp: Option<&Checkpoint>,
    now: u64,
    expected: &str,
) -> Result<Case, String> {
    let mut c =
        base_case(name, description, anchor, chain, cp, now, expected).with("operation", "sync");
    if expected == SUCCESS {
        let mut s = match cp {
            Some(cp) => {
                confide_protocol::state::InboxState::with_checkpoint(anchor, *cp).ctx(name)?
            }
            None => confide_protocol::state::InboxState::new(anchor),
        };
        s.sync(chain, Timestamp(now)).ctx(name)?;
        let m = s.head_membership().ctx("head")?;
        let g = s.head_generation();
        c = c.with(
            "result",
            obj([
                ("root_epoch", s.root_epoch().into()),
                ("membership_seq", m.body().seq.0.into()),
                ("membership_hash", hx(m.hash().0)),
                (
                    "generation",
                    g.map_or(Value::Null, |g| g.body().generation.0.into()),
                ),
                ("generation_hash", g.map_or(Value::Null, |g| hx(g.hash().0))),
                ("checkpoint", hx(s.checkpoint().ctx("checkpoint")?.encode())),
            ]),
        );
    }
    Ok(c)
}

fn unseal_case(
    name: &str,
    description: &str,
    anchor: TrustAnchor,
    chain: &Chain,
    generation: u64,
    device: &DeviceSecretKey,
    expected: &str,
) -> Result<Case, String> {
    let mut c = base_case(name, description, anchor, chain, None, NOW.0, expected)
        .with("operation", "sync_then_unseal")
        .with("generation", generation)
        .hex("device_secret", device.dangerous_expose_bytes().as_ref());
    if expected == SUCCESS {
        let s = sync(anchor, chain, NOW)?;
        let g = s.generation(Generation(generation)).ctx("generation")?;
        let secret = g.unseal(device).ctx(name)?;
        c = c.with(
            "result",
            obj([
                ("generation_secret", hx(secret.dangerous_expose_bytes())),
                ("generation_public_key", hx(g.body().public_key.0)),
            ]),
        );
    }
    Ok(c)
}
