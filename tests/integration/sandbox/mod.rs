//! Integration tests of the sandbox, driven through the real AWS SDK clients (and, in `awscli`,
//! the real AWS CLI) against an in-process sandbox on an ephemeral port.

mod adapters;
mod awscli;
mod copy;
mod errors;
mod faults;
pub mod helpers;
mod pagination;
mod persistence;
mod policies;
mod rekognition;
mod robustness;
mod seedfile;
mod sts;
mod wire;
