//! `sandbox load` (being written).
