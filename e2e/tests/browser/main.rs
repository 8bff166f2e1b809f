//! Browser tests, one file per surface, each in headless Chromium.

mod console;
mod demo_app;
mod login;
mod spa_js;
