//! orgform: an Encord Organization as code.
//!
//! Data flows one way: [`manifest`] (YAML → spanned types) → [`validate`] (offline
//! checks) → plan → render / apply → provider. [`diagnostic`] carries every problem
//! with its file:line:column.

pub mod apply;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod drift;
pub mod encord;
pub mod export;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod provider;
pub mod render;
pub mod sandbox;
pub mod schema;
pub mod synth;
pub mod validate;
pub mod yaml;
