//! The dependency direction inside okra-store, read from the sources: no module but the crate
//! root names a table module other than its own, a table module names only helpers, and each
//! table's INSERT statements live in the module that owns the table — so adding a column means
//! editing one module. A new module fails here until it is given a layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Modules that know no table: what every table may use.
const HELPERS: &[&str] = &[
    "admin",
    "blind",
    "counters",
    "crypto",
    "db",
    "error",
    "loader",
    "multirow",
    "read",
    "sequences",
];

/// Table modules and the tables each one owns (writes with INSERT).
const TABLES: &[(&str, &[&str])] = &[
    ("accounts", &["accounts"]),
    ("balances", &["balances", "balance_refreshes"]),
    ("banks", &["banks"]),
    ("customers", &["customers"]),
    ("ephemeral", &["ephemeral"]),
    ("faults", &["sandbox_faults"]),
    ("identities", &["identities", "identity_accounts"]),
    ("idempotency", &["idempotency_keys"]),
    ("jobs", &["jobs"]),
    ("key_fingerprints", &["key_fingerprints"]),
    ("keys", &["api_keys"]),
    ("link_sessions", &["link_sessions"]),
    ("owners", &["owners", "wallets"]),
    ("receipts", &["receipts"]),
    ("records", &["records", "record_options"]),
    (
        "webhooks",
        &["webhook_messages", "webhook_attempts", "webhook_settings"],
    ),
];

/// Tables owned by a helper: named counters and row counts are infrastructure, like the
/// connection pool (row counts, and balances counted by amount bucket, hold numbers per tenant,
/// never a tenant's data).
const HELPER_TABLES: &[(&str, &str)] = &[
    ("sequences", "sequences"),
    ("counters", "row_counts"),
    ("counters", "daily_row_counts"),
    ("counters", "balance_amount_counts"),
];

/// Operations no table uses, which may use helpers and, like helpers, name no table: data-key
/// rotation (over the crate root's list of sealed columns).
const OPERATIONS: &[&str] = &["rekey"];

/// The crate root declares every module: the one place that may name any of them.
const ROOT: &str = "lib";

/// Every `.rs` file under `src`, by the top-level module it belongs to.
fn modules() -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&src).unwrap();
                let first = rel.components().next().unwrap().as_os_str();
                let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                out.entry(module)
                    .or_default()
                    .push((rel.to_path_buf(), text));
            }
        }
    }
    out
}

/// The crate modules a source text names (`crate::x::…`, `crate::{x, y::…}`).
fn named_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                names.push(ident(item.trim()));
            }
        } else {
            names.push(ident(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The tables of the `INSERT INTO` statements of a text, outside its unit tests (prose such as
/// `INSERT INTO <table>` names none).
fn inserted_tables(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    code.match_indices("INSERT INTO ")
        .map(|(at, m)| ident(&code[at + m.len()..]))
        .filter(|table| !table.is_empty())
        .collect()
}

fn is_table(module: &str) -> bool {
    TABLES.iter().any(|(m, _)| *m == module)
}

#[test]
fn every_module_has_a_layer() {
    for module in modules().keys() {
        let known = HELPERS.contains(&module.as_str())
            || is_table(module)
            || OPERATIONS.contains(&module.as_str())
            || module == ROOT;
        assert!(
            known,
            "src/{module}: add it to HELPERS, TABLES or OPERATIONS in tests/layers.rs"
        );
    }
}

#[test]
fn no_module_but_the_root_names_another_table_and_tables_name_only_helpers() {
    let mut wrong = Vec::new();
    for (module, files) in modules() {
        if module == ROOT {
            continue;
        }
        for (path, text) in files {
            for named in named_modules(&text) {
                let other_table = is_table(&named) && named != module;
                let above_helpers = is_table(&module)
                    && named != module
                    && !HELPERS.contains(&named.as_str())
                    && named != "Tenant";
                if other_table || above_helpers {
                    wrong.push(format!("src/{} names crate::{named}", path.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn each_table_is_inserted_only_by_its_own_module() {
    let owner = |table: &str| {
        TABLES
            .iter()
            .find(|(_, tables)| tables.contains(&table))
            .map(|(m, _)| *m)
            .or_else(|| {
                HELPER_TABLES
                    .iter()
                    .find(|(_, t)| *t == table)
                    .map(|(m, _)| *m)
            })
    };
    let mut wrong = Vec::new();
    for (module, files) in modules() {
        for (path, text) in files {
            for table in inserted_tables(&text) {
                if owner(&table) != Some(module.as_str()) {
                    wrong.push(format!("src/{} inserts into {table}", path.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_checks_see_imports_and_inserts() {
    assert_eq!(
        named_modules("use crate::customers::X;\nuse crate::{db::Db, error::Result};"),
        ["customers", "db", "error"]
    );
    assert_eq!(
        inserted_tables("\"INSERT INTO accounts (a)\"\n#[cfg(test)]\n\"INSERT INTO t\""),
        ["accounts"]
    );
}
