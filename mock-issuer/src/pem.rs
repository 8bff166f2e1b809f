//! PEM `PRIVATE KEY` blocks (RFC 7468 §10): unencrypted PKCS#8, for the key ring file and the
//! DPoP key file.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

/// The PEM label of a PKCS#8 private key.
const LABEL: &str = "PRIVATE KEY";

/// `der` as a PEM `PRIVATE KEY` block, 64 characters a line, ending with a newline.
pub(crate) fn encode_private_key(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {LABEL}-----\n");
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {LABEL}-----\n"));
    pem
}

/// The DER inside the first `PRIVATE KEY` block of `pem`.
///
/// # Errors
/// [`Error::Key`] if there is no such block or it is not base64.
pub(crate) fn decode_private_key(pem: &str) -> Result<Vec<u8>, Error> {
    let begin = format!("-----BEGIN {LABEL}-----");
    let end = format!("-----END {LABEL}-----");
    let body = pem
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| Error::Key(format!("no `{begin}` block")))?;
    let base64: String = body.split_whitespace().collect();
    STANDARD
        .decode(base64)
        .map_err(|e| Error::Key(format!("the PEM block is not base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_round_trips_with_short_lines() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode_private_key(&der);
        assert!(pem.lines().all(|line| line.len() <= 64), "{pem}");
        assert_eq!(decode_private_key(&pem).expect("a block"), der);
        assert!(decode_private_key("nothing").is_err());
    }
}
