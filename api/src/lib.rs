//! The quickstart API and its authentication core.
