//! DPoP proofs checked one rule at a time, with real keys of every allowed algorithm.
