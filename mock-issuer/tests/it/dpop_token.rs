//! DPoP at the token endpoint: bound tokens (`cnf.jkt`, `token_type` DPoP), invalid proofs, refresh tokens bound to the key.
