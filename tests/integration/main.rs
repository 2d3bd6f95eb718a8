//! Integration tests: evq run as a binary, one module per feature.

mod common;

mod aggregate;
mod auto;
mod checks;
mod config;
mod corpus;
mod discover;
mod engine;
mod errors;
mod events;
mod exit_codes;
mod faults;
mod fidelity;
mod fold;
mod follow;
mod golden;
mod groups;
mod guidance;
mod guidance_more;
mod input_reach;
mod inputs;
mod kill;
mod lang;
mod lang_reach;
mod mismatch_more;
#[cfg(feature = "nats")]
mod nats;
mod output;
mod output_reach;
mod outputs_golden;
mod parsing;
mod patterns;
mod patterns_ordered;
mod props;
mod route;
mod segments;
mod sorting;
mod stages;
mod text;
mod topics;
mod ux;
mod values;
mod windows_reach;
