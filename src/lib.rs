//! staged-rollout (manual written below once the engine lands).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
mod gocompat;
