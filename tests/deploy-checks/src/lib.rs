//! Offline checks of the Azure deployment: Bicep, ARM template, Marketplace package, az CLI scripts.
//!
//! The library holds what several test files share: where the repository and the shared ARM
//! schemas are ([`repo`]), a reading of Bicep files through the tree-sitter grammar ([`bicep`]),
//! the external tools the tests call ([`tools`]), and arm-ttk's API version age rule
//! ([`api_versions`]). The checks themselves are the files in
//! `tests/`.

pub mod api_versions;
pub mod bicep;
pub mod repo;
pub mod schemas;
pub mod tools;
