//! Offline checks of the Azure deployment: Bicep, ARM template, Marketplace package, az CLI scripts.
