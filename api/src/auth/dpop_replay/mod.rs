//! Remembering the DPoP proofs already used, so each is accepted once: in memory for one process, in Redis for several replicas.
