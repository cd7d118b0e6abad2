//! The one integration test binary of reko-promote: each module tests one part end to end.
//! Helpers shared by the modules live in `support`.

mod action;
mod apply;
mod apply_progress;
mod cli;
mod constraints_oracle;
mod fuzz;
mod gitops;
mod hardening;
mod lanes;
mod lifecycle;
mod managed_policies;
mod manifests;
mod oracle;
/// The benchmark suite's organisations (`benches/support/org.rs`): seeds and manifests of N
/// destination accounts.
#[path = "../../benches/support/org.rs"]
#[allow(dead_code)]
mod org;
mod plan_live;
mod plan_logic;
mod policy_agreement;
mod policy_pack;
mod reference_model;
mod render_budget;
mod sandbox;
mod serving;
mod support;
