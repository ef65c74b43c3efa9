//! The server's own keys in managed mode: the organisation root key and the
//! server's rotating device, as passphrase-encrypted key files
//! (docs/protocol.md §4.3) in `<data>/keys/`.
//!
//! Managed mode means *the server holds the root key*: whoever controls the
//! server can certify devices (docs/threat-model.md). The files are
//! encrypted under `CONFIDE_KEY_PASSPHRASE` when it is set; otherwise under a
//! random passphrase kept beside them, which only protects against reading
//! the database alone. Strict mode (root key offline) comes later.

use confide_protocol::keyfile::{self, KeyFileParams};
use confide_protocol::{DeviceSecretKey, RootSecretKey};
use getrandom::SysRng;
use rand_core::UnwrapErr;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The managed-mode keys.
pub struct ServerKeys {
    /// The organisation root key.
    pub root: RootSecretKey,
    /// The server's device, a member with the admin role that rotates generations.
    pub device: DeviceSecretKey,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("root", &self.root)
            .field("device", &self.device)
            .finish()
    }
}

/// A key-file problem, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be opened with the passphrase.
    #[error("{path}: {source}")]
    Protocol {
        /// The file.
        path: PathBuf,
        /// Why.
        source: confide_protocol::Error,
    },
}

fn keys_dir(data: &Path) -> PathBuf {
    data.join("keys")
}

/// The system CSPRNG.
pub fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

fn passphrase(data: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if let Ok(p) = std::env::var("CONFIDE_KEY_PASSPHRASE")
        && !p.is_empty()
    {
        return Ok(Zeroizing::new(p.into_bytes()));
    }
    let path = keys_dir(data).join("passphrase");
    match std::fs::read(&path) {
        Ok(p) => Ok(Zeroizing::new(p)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut raw = [0u8; 32];
            rand_core::Rng::fill_bytes(&mut os_rng(), &mut raw);
            let p = Zeroizing::new(hex::encode(raw).into_bytes());
            write_private(&path, &p)?;
            Ok(p)
        }
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

impl ServerKeys {
    /// Generates new keys and writes them; fails if key files already exist.
    pub fn create(data: &Path) -> Result<Self, KeyError> {
        let dir = keys_dir(data);
        std::fs::create_dir_all(&dir).map_err(|source| KeyError::Io {
            path: dir.clone(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| KeyError::Io {
                    path: dir.clone(),
                    source,
                },
            )?;
        }
        let pass = passphrase(data)?;
        let mut rng = os_rng();
        let root = RootSecretKey::generate(&mut rng);
        let device = DeviceSecretKey::generate(&mut rng);
        let params = KeyFileParams::default();
        let root_path = dir.join("root.managed.key");
        let root_file =
            keyfile::seal_root_key(&root, &pass, params, &mut rng).map_err(|source| {
                KeyError::Protocol {
                    path: root_path.clone(),
                    source,
                }
            })?;
        write_private(&root_path, &root_file)?;
        let dev_path = dir.join("server-device.key");
        let dev_file =
            keyfile::seal_device_key(&device, &pass, params, &mut rng).map_err(|source| {
                KeyError::Protocol {
                    path: dev_path.clone(),
                    source,
                }
            })?;
        write_private(&dev_path, &dev_file)?;
        Ok(Self { root, device })
    }

    /// Loads the keys written by [`ServerKeys::create`].
    pub fn load(data: &Path) -> Result<Self, KeyError> {
        let dir = keys_dir(data);
        let pass = passphrase(data)?;
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map(|b| (path.clone(), b))
                .map_err(|source| KeyError::Io { path, source })
        };
        let (path, bytes) = read("root.managed.key")?;
        let root = keyfile::open_root_key(&bytes, &pass)
            .map_err(|source| KeyError::Protocol { path, source })?;
        let (path, bytes) = read("server-device.key")?;
        let device = keyfile::open_device_key(&bytes, &pass)
            .map_err(|source| KeyError::Protocol { path, source })?;
        Ok(Self { root, device })
    }
}
