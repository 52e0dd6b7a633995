//! orgform's integration tests: whole CLI runs on real files in temp dirs.

mod malformed;
mod schemas;
mod util;
mod validate_output;
mod validate_rules;
