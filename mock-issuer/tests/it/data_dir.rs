//! The data dir holds private keys: the binary makes it owner-only whatever the umask, and
//! refuses one that other users could write, or a key ring they could read.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::temp_dir;
use crate::served::{BIN, output, under_umask};

/// `mock-issuer --data-dir DIR ARGS…` under a umask that takes nothing away.
fn run_under_open_umask(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(dir)
        .args(["--seed", "7"])
        .args(args);
    output(under_umask("000", &command))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_new_data_dir_is_0700_and_its_key_ring_0600_even_under_umask_000() {
    // Arrange: the data dir and a parent of it do not exist yet.
    let root = temp_dir("data-dir-new");
    let parent = root.join("made");
    let dir = parent.join("keys");

    // Act
    let created = run_under_open_umask(&dir, &["jwks"]);
    let rotated = run_under_open_umask(&dir, &["rotate"]);

    // Assert
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&parent), 0o700);
    assert_eq!(mode(&dir.join("keyring.json")), 0o600);
}

#[test]
fn a_data_dir_other_users_can_write_is_refused_naming_its_path_mode_and_fix() {
    for open_mode in [0o777, 0o770, 0o702, 0o1777] {
        // Arrange
        let dir = temp_dir(&format!("data-dir-open-{open_mode:o}"));
        chmod(&dir, open_mode);

        // Act
        let refused = run_under_open_umask(&dir, &["jwks"]);

        // Assert
        let message = stderr(&refused);
        assert!(!refused.status.success(), "{open_mode:o}: {message}");
        assert!(message.contains(&dir.display().to_string()), "{message}");
        assert!(
            message.contains(&format!("mode {open_mode:o}")),
            "{message}"
        );
        assert!(
            message.contains(&format!("chmod 700 {}", dir.display())),
            "{message}"
        );
        assert!(!dir.join("keyring.json").exists(), "keys were written");
    }
}

#[test]
fn a_key_ring_other_users_can_read_is_refused() {
    // Arrange
    let dir = temp_dir("data-dir-readable-ring");
    let ring = dir.join("keyring.json");
    assert!(run_under_open_umask(&dir, &["jwks"]).status.success());
    chmod(&ring, 0o644);

    // Act
    let refused = run_under_open_umask(&dir, &["jwks"]);

    // Assert
    let message = stderr(&refused);
    assert!(!refused.status.success(), "{message}");
    assert!(
        message.contains(&format!("chmod 600 {}", ring.display())),
        "{message}"
    );
}

#[test]
fn a_leftover_temporary_file_does_not_lend_its_mode_to_the_key_ring() {
    // Arrange: a world-readable temporary file, as an interrupted save could leave.
    let dir = temp_dir("data-dir-leftover");
    assert!(run_under_open_umask(&dir, &["jwks"]).status.success());
    let leftover = dir.join("keyring.json.tmp");
    std::fs::write(&leftover, "{}").expect("written");
    chmod(&leftover, 0o666);

    // Act
    let rotated = run_under_open_umask(&dir, &["rotate"]);

    // Assert
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert_eq!(mode(&dir.join("keyring.json")), 0o600);
}
