//! An offline Auth0 tenant for development and tests (see issue 3).
