//! The conformance suite for resource servers that speak the quickstart's contract (see issue 4).
