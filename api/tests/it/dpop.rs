//! DPoP through the whole api: the scheme, the proof header, binding, challenges, replay, configuration.
