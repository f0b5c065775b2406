//! The plan of one statement as lines a test can check: SQLite's `EXPLAIN QUERY PLAN` details, or
//! one line per node of PostgreSQL's `EXPLAIN (FORMAT JSON)` (`<node type> <relation> <index>`),
//! for a custom plan (the parameters' values known) and for the generic plan a cached prepared
//! statement may switch to (only the types known).

use okra_store::db::Backend as Engine;
use okra_store::Db;
use serde_json::Value;
use sqlx::{Connection, Row};

/// A parameter of a checked statement.
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Int(i64),
}

impl Arg {
    fn literal(&self) -> String {
        match self {
            // Test values are ids and words: no quote to escape.
            Arg::Text(s) => format!("'{s}'"),
            Arg::Int(i) => i.to_string(),
        }
    }
}

/// The plans of `sql` with `args`: one for SQLite; for PostgreSQL the custom plan and, unless the
/// statement is planned per call (`replanned`: run unnamed, `Db::query_replanned`), the generic
/// plan a kept prepared statement may switch to.
pub async fn plans(
    db: &Db,
    url: &str,
    sql: &str,
    args: &[Arg],
    replanned: bool,
) -> Vec<Vec<String>> {
    match db.backend() {
        Engine::Sqlite => {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut query = sqlx::query(&explain);
            for arg in args {
                query = match arg {
                    Arg::Text(s) => query.bind(s.clone()),
                    Arg::Int(i) => query.bind(*i),
                };
            }
            // A fresh connection: SQLite reads `sqlite_stat1` when a connection opens.
            let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
            let rows = query.fetch_all(&mut conn).await.unwrap();
            vec![rows
                .iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap())
                .collect()]
        }
        Engine::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let prepare = format!("PREPARE checked AS {sql}");
            sqlx::raw_sql(&prepare).execute(&mut conn).await.unwrap();
            let literals: Vec<String> = args.iter().map(Arg::literal).collect();
            let mut out = Vec::new();
            let modes: &[&str] = if replanned {
                &["force_custom_plan"]
            } else {
                &["force_custom_plan", "force_generic_plan"]
            };
            for mode in modes {
                let set = format!("SET plan_cache_mode = {mode}");
                sqlx::raw_sql(&set).execute(&mut conn).await.unwrap();
                let explain = format!(
                    "EXPLAIN (FORMAT JSON) EXECUTE checked({})",
                    literals.join(", ")
                );
                let row = sqlx::query(&explain).fetch_one(&mut conn).await.unwrap();
                let json: String = row.try_get_unchecked(0).unwrap();
                let value: Value = serde_json::from_str(&json).unwrap();
                let mut lines = vec![format!("[{mode}]")];
                walk(&value[0]["Plan"], &mut lines);
                out.push(lines);
            }
            out
        }
    }
}

fn walk(node: &Value, lines: &mut Vec<String>) {
    let field = |k: &str| node[k].as_str().unwrap_or("").to_string();
    lines.push(
        format!(
            "{} {} {}",
            field("Node Type"),
            field("Relation Name"),
            field("Index Name")
        )
        .trim_end()
        .to_string(),
    );
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            walk(child, lines);
        }
    }
}
