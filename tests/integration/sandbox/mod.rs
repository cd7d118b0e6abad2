//! Integration tests of the sandbox, driven through the real AWS SDK clients (and, in `awscli`,
//! the real AWS CLI) against an in-process sandbox on an ephemeral port.

mod adapters;
mod awscli;
mod copy;
mod errors;
mod faults;
mod fuzz;
mod hardening;
pub mod helpers;
mod netfaults;
mod pagination;
mod persistence;
mod policies;
pub mod rawsig;
mod rekognition;
mod robustness;
mod seedfile;
mod serving;
mod sts;
mod wire;
