//! Owner-only storage for the key ring: a data dir no other user can write (else they could
//! replace the keys) and files no other user can read (they hold private keys), whatever the
//! process's umask.
//!
//! An existing directory or file that is more open is refused, not repaired: someone may
//! already have replaced or read the keys, and only the operator can judge that.

use std::path::Path;

use crate::Error;

/// The data dir's mode: owner only.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// A key file's mode: owner read and write only.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Makes `dir` (and any missing parent) with mode 0700, or checks that the existing `dir` is a
/// directory neither group nor others can write.
///
/// # Errors
/// [`Error::Io`] if it cannot be read or created, [`Error::Exposed`] if others can write it.
pub(crate) fn create_or_check_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        )),
        Ok(meta) => check_dir_mode(dir, &meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_dir(dir),
        Err(e) => Err(Error::io(dir, e)),
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| Error::io(dir, e))?;
    // The umask may have taken bits from the mode; set it exactly.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
        .map_err(|e| Error::io(dir, e))
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

#[cfg(unix)]
fn check_dir_mode(dir: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 == 0 {
        return Ok(());
    }
    Err(Error::Exposed {
        path: dir.to_path_buf(),
        reason: format!(
            "the data dir has mode {mode:o}: other users can write it, and so replace its key \
             ring; run `chmod 700 {}` (or choose another data dir)",
            dir.display()
        ),
    })
}

#[cfg(not(unix))]
fn check_dir_mode(_dir: &Path, _meta: &std::fs::Metadata) -> Result<(), Error> {
    Ok(())
}

/// Checks that the existing key file `path` can be read by its owner only.
///
/// # Errors
/// [`Error::Io`] if it cannot be read, [`Error::Exposed`] if others can read or write it.
#[cfg(unix)]
pub(crate) fn check_file(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(Error::Exposed {
        path: path.to_path_buf(),
        reason: format!(
            "the key ring has mode {mode:o}: other users can read its private keys and sign \
             tokens with them; run `chmod 600 {}`, or delete it to make new keys",
            path.display()
        ),
    })
}

#[cfg(not(unix))]
pub(crate) fn check_file(_path: &Path) -> Result<(), Error> {
    Ok(())
}

/// Writes `bytes` to a new file `path` with mode 0600, replacing a leftover one (whose mode
/// could be anything), and syncs it.
///
/// # Errors
/// [`Error::Io`] naming `path`.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    let mut options = std::fs::OpenOptions::new();
    // `create_new`: never write through a file (or a link) someone put there since.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(FILE_MODE);
    }
    let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
            .map_err(|e| Error::io(path, e))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))
}
