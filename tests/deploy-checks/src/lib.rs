//! Offline checks of the Azure deployment: Bicep, ARM template, Marketplace package, az CLI scripts.
//!
//! The library holds what several test files share: where the repository and the shared ARM
//! schemas are ([`repo`]), a reading of Bicep files through the tree-sitter grammar ([`bicep`]),
//! and the external tools the tests call ([`tools`]). The checks themselves are the files in
//! `tests/`.

pub mod bicep;
pub mod repo;
pub mod schemas;
pub mod tools;
