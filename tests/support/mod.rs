//! Test support shared by several test modules (and the benchmarks).

pub mod serve;
