//! DPoP proofs (RFC 9449 §4.3): parsing and checking a proof, the key thumbprint it binds to (RFC 7638), and the `htu` URL normalisation.
