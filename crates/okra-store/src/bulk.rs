//! Multi-row inserts for bulk loads (being written).
