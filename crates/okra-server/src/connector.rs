//! HTTP bank connector (being written).
