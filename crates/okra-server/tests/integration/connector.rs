//! The HTTP connector against a fake adapter (being written).
