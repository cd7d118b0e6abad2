//! The one integration test binary; each area of the product is a module.

mod sandbox;
