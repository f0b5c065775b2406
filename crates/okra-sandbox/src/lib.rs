//! The simulated Nigerian bank network (issue 4): a deterministic population of people, banks,
//! accounts and balances generated from a seed. Only the crate boundary exists so far.
