//! orgform's integration tests: whole CLI runs on real files in temp dirs.

mod apply_cli;
mod harness;
mod malformed;
mod plan_cli;
mod plan_properties;
mod plan_rules;
mod safety_cli;
mod schemas;
mod util;
mod validate_output;
mod validate_rules;
