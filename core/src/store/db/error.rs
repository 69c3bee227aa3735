//! Why a repository call failed, and what that means for a retry and for the client.

use crate::problem::{ErrorCode, Problem, Recovery, insufficient_storage, internal};

/// Why a repository call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl DbError {
    /// Whether the database may answer the same statement later: it is unreachable, out
    /// of resources, shutting down, busy (SQLite) or chose this transaction as a
    /// serialization or deadlock victim. Constraint violations, corrupt rows and failed
    /// migrations are not.
    pub(crate) fn is_transient(&self) -> bool {
        let DbError::Sqlx(error) = self else { return false };
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(error) => error.code().is_some_and(|code| transient_code(&code)),
            _ => false,
        }
    }

    /// Whether the database has no room left: Postgres `disk_full` (53100), SQLite
    /// `SQLITE_FULL` (13).
    pub(crate) fn is_full(&self) -> bool {
        let DbError::Sqlx(sqlx::Error::Database(error)) = self else { return false };
        error.code().is_some_and(|code| code == "53100" || sqlite_primary(&code) == Some(13))
    }
}

/// Whether a database error code names a passing condition: a Postgres SQLSTATE of class
/// 08 (connection), 40 (transaction rollback), 53 (insufficient resources), 57 (operator
/// intervention) or 58 (system), or SQLite's BUSY and LOCKED.
fn transient_code(code: &str) -> bool {
    match sqlite_primary(code) {
        Some(primary) => matches!(primary, 5 | 6),
        None => ["08", "40", "53", "57", "58"].iter().any(|class| code.starts_with(class)),
    }
}

/// SQLite's primary result code of a numeric code (extended ones have at most four digits);
/// `None` for a Postgres SQLSTATE, which always has five characters.
fn sqlite_primary(code: &str) -> Option<u32> {
    if code.len() >= 5 {
        return None;
    }
    code.parse::<u32>().ok().map(|code| code & 0xff)
}

impl From<&DbError> for Problem {
    fn from(error: &DbError) -> Problem {
        if error.is_full() {
            insufficient_storage(error)
        } else if error.is_transient() {
            Problem::new(ErrorCode::Unavailable, "the database is unavailable")
                .with_cause(error)
                .with_recovery(Recovery::Transient)
        } else {
            internal(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_database_conditions_are_transient() {
        for code in ["08006", "40001", "40P01", "53300", "57P01", "57P03", "58030", "5", "517", "6"]
        {
            assert!(transient_code(code), "{code}");
        }
        for code in ["23505", "42P01", "P0001", "19", "2067", "1"] {
            assert!(!transient_code(code), "{code}");
        }
        assert!(DbError::Sqlx(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!DbError::Corrupt("x".into()).is_transient());
        assert!(!DbError::Sqlx(sqlx::Error::RowNotFound).is_transient());
    }
}
