//! The message journal: every FSPIOP request and callback, appended for audit (ledger store or Cosmos DB).
