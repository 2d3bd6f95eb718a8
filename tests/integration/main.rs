//! Integration tests: evq run as a binary, one module per feature.

mod common;

mod aggregate;
mod corpus;
mod engine;
mod exit_codes;
mod faults;
mod fidelity;
mod golden;
mod lang;
mod output;
mod parsing;
mod props;
mod route;
mod stages;
mod text;
mod ux;
