//! Staff passwords: argon2id with OWASP parameters (m = 19 MiB, t = 2,
//! p = 1), PHC strings in the database, constant-time verification by the
//! `argon2` crate; one-time passwords from the system CSPRNG.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Result<Argon2<'static>, String> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` into a PHC string with a random salt.
pub fn hash(password: &str) -> Result<String, String> {
    hasher()?
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A random one-time password: 20 characters from an unambiguous alphabet (~100 bits).
pub fn generate_one_time() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = crate::keys::os_rng();
    (0..20)
        .map(|_| {
            // Rejection sampling keeps the choice uniform.
            loop {
                let b = rand_core::Rng::next_u32(&mut rng) as u8;
                let limit = 256 - (256 % ALPHABET.len());
                if usize::from(b) < limit {
                    let i = usize::from(b) % ALPHABET.len();
                    return char::from(ALPHABET.get(i).copied().unwrap_or(b'a'));
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let p = generate_one_time();
        assert_eq!(p.len(), 20);
        let h = hash(&p).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&p, &h));
        assert!(!verify("wrong", &h));
        assert!(!verify(&p, "not a phc string"));
    }
}
