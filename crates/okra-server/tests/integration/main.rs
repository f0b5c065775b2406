//! The integration suite: the real server on 127.0.0.1:0, spoken to over HTTP, on SQLite and (when
//! `OKRA_TEST_POSTGRES_URL` is set) PostgreSQL. One test binary so the server links once.

mod common;

mod atomic_writes;
mod auth;
mod auth_hygiene;
mod availability;
mod balance;
mod balance_refresh;
mod banks;
mod binary;
mod cli;
mod clients;
mod concurrent_writers;
mod connections;
mod connector;
mod counters;
mod customers;
mod docs_browser;
mod errors;
mod fault_counts;
mod faults;
mod identity;
mod job_claimers;
mod jobs;
mod linking;
mod load_and_kill;
mod logs;
mod metrics;
mod openapi;
mod operator;
mod pii_at_rest;
mod plans;
mod rotation;
mod sandbox_customers;
mod sandbox_load;
mod security;
mod statistics;
mod storage_faults;
mod widget;
mod widget_browser;
