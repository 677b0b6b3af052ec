//! Every row the server writes, recorded by the database itself: triggers on every table append
//! `(table, operation)` to `test_writes`, on SQLite and PostgreSQL alike. A test counts what one
//! request wrote without trusting the server's own account of it.

use latchkey_server::AppState;
use sqlx::Row;

/// Installs the recording triggers on every table of `state`'s database (once per database).
pub async fn record_writes(state: &AppState) {
    let pool = &state.db.pool;
    let postgres = state.config.database_url.starts_with("postgres");
    sqlx::query("CREATE TABLE test_writes (tbl TEXT NOT NULL, op TEXT NOT NULL)").execute(pool).await.unwrap();
    let tables_sql = if postgres {
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    };
    let tables: Vec<String> = sqlx::query(tables_sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("name"))
        .filter(|name| name != "test_writes" && !name.starts_with("_sqlx"))
        .collect();
    assert!(tables.iter().any(|t| t == "sessions"), "{tables:?}");
    if postgres {
        sqlx::query(
            "CREATE FUNCTION test_write() RETURNS trigger AS $$ BEGIN \
             INSERT INTO test_writes VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$ LANGUAGE plpgsql",
        )
        .execute(pool)
        .await
        .unwrap();
    }
    for table in &tables {
        if postgres {
            let sql = format!(
                "CREATE TRIGGER test_write_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION test_write()"
            );
            sqlx::query(&sql).execute(pool).await.unwrap();
            continue;
        }
        for (op, name) in [("INSERT", "insert"), ("UPDATE", "update"), ("DELETE", "delete")] {
            let sql = format!(
                "CREATE TRIGGER test_write_{table}_{name} AFTER {op} ON {table} \
                 BEGIN INSERT INTO test_writes VALUES ('{table}', '{op}'); END"
            );
            sqlx::query(&sql).execute(pool).await.unwrap();
        }
    }
}

/// The rows written since the last call, as `table OPERATION`, in order; the record starts again.
pub async fn writes_since(state: &AppState) -> Vec<String> {
    let pool = &state.db.pool;
    let rows = sqlx::query("SELECT tbl, op FROM test_writes").fetch_all(pool).await.unwrap();
    sqlx::query("DELETE FROM test_writes").execute(pool).await.unwrap();
    rows.iter().map(|row| format!("{} {}", row.get::<String, _>("tbl"), row.get::<String, _>("op"))).collect()
}
