//! staged-rollout (manual written below once the engine lands).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod action;
pub mod api;
mod config;
mod engine;
mod gocompat;
mod wake;
mod world;

pub use action::{Action, NewApprovalRequest, ObjectRef};
pub use config::{ApprovalNaming, Config};
pub use engine::{EngineError, Outcome, reconcile};
pub use wake::{Wake, WakeReason};
pub use world::{ClusterOverrides, ObservedApproval, World};
