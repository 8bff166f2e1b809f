//! Fuzzing seeds from the catalogue: every case's token, as each fuzz target reads its input.

use std::io;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_issuer::MockIssuer;

use crate::catalogue::Case;
use crate::forge::Forge;

/// The `request` target's input: `[route, selector, header length (2 bytes, big-endian),
/// Authorization header…, body…]`; see `fuzz/fuzz_targets/request.rs`.
pub fn request_input(route: u8, selector: u8, header: &[u8], body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(header.len()).unwrap_or(u16::MAX);
    let mut input = vec![route, selector];
    input.extend_from_slice(&length.to_be_bytes());
    input.extend_from_slice(&header[..usize::from(length)]);
    input.extend_from_slice(body);
    input
}

/// Writes seeds under `dir/verify_jws`, `dir/request`, `dir/claims`, `dir/jwks` and
/// `dir/metadata`, and returns how many files were written.
pub async fn write(
    dir: &Path,
    issuer: &MockIssuer,
    forge: &Forge<'_>,
    cases: &[Case],
) -> io::Result<usize> {
    let mut written = 0;
    let mut put = |target: &str, name: &str, bytes: &[u8]| -> io::Result<()> {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name.replace('/', "_")), bytes)?;
        written += 1;
        Ok(())
    };
    for case in cases {
        let token = forge.token(&case.recipe);
        put("verify_jws", &case.name, token.as_bytes())?;
        let header = format!("Bearer {token}");
        put(
            "request",
            &case.name,
            &request_input(1, 0, header.as_bytes(), b""),
        )?;
        let form = format!("access_token={token}");
        put(
            "request",
            &format!("{}-form", case.name),
            &request_input(2, 3, b"", form.as_bytes()),
        )?;
        if let Some(payload) = token
            .split('.')
            .nth(1)
            .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
        {
            put("claims", &case.name, &payload)?;
        }
    }
    put(
        "jwks",
        "issuer",
        issuer.state().jwks().to_string().as_bytes(),
    )?;
    let discovery = reqwest::get(format!("{}.well-known/openid-configuration", issuer.url()))
        .await
        .map_err(io::Error::other)?
        .bytes()
        .await
        .map_err(io::Error::other)?;
    put("metadata", "openid-configuration", &discovery)?;
    Ok(written)
}
