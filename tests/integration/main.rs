//! The one integration test binary of reko-promote: each module tests one part end to end.
//! Helpers shared by the modules live in `support`.

mod apply;
mod cli;
mod fuzz;
mod gitops;
mod hardening;
mod manifests;
mod plan_live;
mod plan_logic;
mod sandbox;
mod support;
