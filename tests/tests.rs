//! orgform's integration tests: whole CLI runs on real files in temp dirs.

mod apply_cli;
mod cli_contract;
mod encord_provider;
mod export_ready;
mod fuzz;
mod gitops;
mod harness;
mod malformed;
mod onboarding;
mod plan_cli;
mod plan_impact;
mod plan_properties;
mod plan_rules;
mod plan_source;
mod render_safety;
mod root_cause;
mod safety_cli;
mod safety_properties;
mod sandbox_serve;
mod sandbox_store;
mod schemas;
mod synth_org;
mod util;
mod validate_output;
mod validate_rules;
mod workflows;
