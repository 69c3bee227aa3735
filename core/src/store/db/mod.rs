//! The repository: every SQL statement lives here.
//!
//! One set of portable statements runs on SQLite (the embedded default) and on Postgres
//! (the distributed set-up) through sqlx's `Any` driver, and so does one set of
//! migrations (`migrations/`: types both backends share). Ids are stored as text, times
//! as RFC 3339 text with milliseconds, so both backends hold and sort them alike.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use uuid::Uuid;

use crate::format::ImageFormat;

mod error;
pub use error::DbError;
pub mod jobs;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Which database a repository talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A stored image (an original or a job output).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    pub id: Uuid,
    pub tenant: String,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256: String,
    pub filename: Option<String>,
    pub created_at: DateTime<Utc>,
    pub source_image_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
}

/// A stored variant of an image.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariantRecord {
    pub image_id: Uuid,
    pub variant_hash: String,
    pub format: ImageFormat,
    pub bytes: u64,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub created_at: DateTime<Utc>,
}

/// A durable queue task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskRecord {
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    pub attempts: u32,
}

/// The repository over a connection pool.
#[derive(Clone, Debug)]
pub struct Repository {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

/// Formats a time the way every row stores it.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The current time, truncated to the stored precision.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, DbError> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| DbError::Corrupt(format!("time {text:?}: {error}")))
}

pub(crate) fn parse_uuid(text: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(text).map_err(|error| DbError::Corrupt(format!("id {text:?}: {error}")))
}

fn parse_format(text: &str) -> Result<ImageFormat, DbError> {
    ImageFormat::from_name(text).ok_or_else(|| DbError::Corrupt(format!("format {text:?}")))
}

fn to_u32(value: i64) -> Result<u32, DbError> {
    u32::try_from(value).map_err(|_| DbError::Corrupt(format!("dimension {value}")))
}

pub(crate) fn image_from_row(row: &AnyRow) -> Result<ImageRecord, DbError> {
    let optional_uuid = |column: &str| -> Result<Option<Uuid>, DbError> {
        row.try_get::<Option<String>, _>(column)?.as_deref().map(parse_uuid).transpose()
    };
    Ok(ImageRecord {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        tenant: row.try_get("tenant")?,
        format: parse_format(&row.try_get::<String, _>("format")?)?,
        width: to_u32(row.try_get("width")?)?,
        height: to_u32(row.try_get("height")?)?,
        bytes: row.try_get::<i64, _>("bytes")?.max(0) as u64,
        sha256: row.try_get("sha256")?,
        filename: row.try_get("filename")?,
        created_at: parse_time(&row.try_get::<String, _>("created_at")?)?,
        source_image_id: optional_uuid("source_image_id")?,
        job_id: optional_uuid("job_id")?,
    })
}

fn variant_from_row(row: &AnyRow) -> Result<VariantRecord, DbError> {
    Ok(VariantRecord {
        image_id: parse_uuid(&row.try_get::<String, _>("image_id")?)?,
        variant_hash: row.try_get("variant_hash")?,
        format: parse_format(&row.try_get::<String, _>("format")?)?,
        bytes: row.try_get::<i64, _>("bytes")?.max(0) as u64,
        sha256: row.try_get("sha256")?,
        width: to_u32(row.try_get("width")?)?,
        height: to_u32(row.try_get("height")?)?,
        created_at: parse_time(&row.try_get::<String, _>("created_at")?)?,
    })
}

/// The columns of an image row, in the order `image_from_row` reads them.
macro_rules! image_columns {
    () => {
        "id, tenant, format, width, height, bytes, sha256, filename, created_at, \
         source_image_id, job_id"
    };
}
pub(crate) use image_columns;

impl Repository {
    /// Connects to `sqlite://…` or `postgres://…` and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Repository, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options = match backend {
            // A request waits at most 5 s for a connection: during an outage it gets a 503
            // (and a job item its retry) instead of hanging for sqlx's default 30 s.
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(std::time::Duration::from_secs(5)),
            // One writer at a time is SQLite's rule; WAL lets readers run beside it.
            // synchronous=FULL: an image acknowledged with 201 survives a power cut.
            Backend::Sqlite => {
                AnyPoolOptions::new().max_connections(8).after_connect(|connection, _meta| {
                    Box::pin(async move {
                        connection
                            .execute(
                                "pragma journal_mode = wal; pragma synchronous = full; \
                                 pragma busy_timeout = 10000;",
                            )
                            .await?;
                        Ok(())
                    })
                })
            }
        };
        let pool = options.connect(url).await?;
        MIGRATIONS.run(&pool).await?;
        Ok(Repository { pool, backend })
    }

    /// Starts a transaction that will write. SQLite's deferred transactions fail at once
    /// with "database is locked" when another connection commits between their first read
    /// and their first write, so they take the write lock up front there.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Proves the database answers (readiness).
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Records a stored image.
    pub(crate) async fn insert_image(&self, image: &ImageRecord) -> Result<(), DbError> {
        sqlx::query(
            "insert into images (id, tenant, format, content_type, width, height, bytes, \
             sha256, filename, created_at, source_image_id, job_id) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             on conflict (id) do nothing",
        )
        .bind(image.id.to_string())
        .bind(&image.tenant)
        .bind(image.format.name())
        .bind(image.format.content_type())
        .bind(i64::from(image.width))
        .bind(i64::from(image.height))
        .bind(image.bytes as i64)
        .bind(&image.sha256)
        .bind(image.filename.clone())
        .bind(format_time(image.created_at))
        .bind(image.source_image_id.map(|id| id.to_string()))
        .bind(image.job_id.map(|id| id.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One image of a tenant.
    pub(crate) async fn get_image(
        &self,
        tenant: &str,
        id: Uuid,
    ) -> Result<Option<ImageRecord>, DbError> {
        let row = sqlx::query(concat!(
            "select ",
            image_columns!(),
            " from images where id = $1 and tenant = $2"
        ))
        .bind(id.to_string())
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(image_from_row).transpose()
    }

    /// A tenant's images, newest first, after the cursor id (exclusive).
    pub async fn list_images(
        &self,
        tenant: &str,
        limit: u32,
        before: Option<Uuid>,
    ) -> Result<Vec<ImageRecord>, DbError> {
        let rows = match before {
            Some(before) => {
                sqlx::query(concat!(
                    "select ",
                    image_columns!(),
                    " from images where tenant = $1 and id < $2 order by id desc limit $3"
                ))
                .bind(tenant)
                .bind(before.to_string())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "select ",
                    image_columns!(),
                    " from images where tenant = $1 order by id desc limit $2"
                ))
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(image_from_row).collect()
    }

    /// Deletes an image row and its variant rows; `false` when it was not the tenant's.
    pub(crate) async fn delete_image(&self, tenant: &str, id: Uuid) -> Result<bool, DbError> {
        let mut transaction = self.begin_write().await?;
        let deleted = sqlx::query("delete from images where id = $1 and tenant = $2")
            .bind(id.to_string())
            .bind(tenant)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if deleted > 0 {
            sqlx::query("delete from variants where image_id = $1")
                .bind(id.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(deleted > 0)
    }

    /// A stored variant, if made.
    pub(crate) async fn get_variant(
        &self,
        image_id: Uuid,
        variant_hash: &str,
    ) -> Result<Option<VariantRecord>, DbError> {
        let row = sqlx::query(
            "select image_id, variant_hash, format, bytes, sha256, width, height, created_at \
             from variants where image_id = $1 and variant_hash = $2",
        )
        .bind(image_id.to_string())
        .bind(variant_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(variant_from_row).transpose()
    }

    /// Records a variant whose object is written; a second writer of the same variant is
    /// a no-op (the bytes are the same).
    pub(crate) async fn insert_variant(&self, variant: &VariantRecord) -> Result<(), DbError> {
        sqlx::query(
            "insert into variants (image_id, variant_hash, format, bytes, sha256, width, \
             height, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (image_id, variant_hash) do nothing",
        )
        .bind(variant.image_id.to_string())
        .bind(&variant.variant_hash)
        .bind(variant.format.name())
        .bind(variant.bytes as i64)
        .bind(&variant.sha256)
        .bind(i64::from(variant.width))
        .bind(i64::from(variant.height))
        .bind(format_time(variant.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many variants an image keeps.
    pub async fn count_variants(&self, image_id: Uuid) -> Result<u64, DbError> {
        let count: i64 = sqlx::query("select count(*) as n from variants where image_id = $1")
            .bind(image_id.to_string())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(count.max(0) as u64)
    }

    /// Forgets a variant row (its object is missing: evicted or lost).
    pub(crate) async fn delete_variant(
        &self,
        image_id: Uuid,
        variant_hash: &str,
    ) -> Result<(), DbError> {
        sqlx::query("delete from variants where image_id = $1 and variant_hash = $2")
            .bind(image_id.to_string())
            .bind(variant_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Adds a queued task.
    pub(crate) async fn insert_task(
        &self,
        id: Uuid,
        kind: &str,
        payload: &str,
    ) -> Result<(), DbError> {
        let now = format_time(now());
        sqlx::query(
            "insert into tasks (id, kind, payload, status, attempts, created_at, updated_at) \
             values ($1, $2, $3, 'queued', 0, $4, $5)",
        )
        .bind(id.to_string())
        .bind(kind)
        .bind(payload)
        .bind(&now)
        .bind(&now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a task running and counts the attempt; `None` when it is not pending
    /// (already done by another consumer, or gone).
    pub(crate) async fn start_task(&self, id: Uuid) -> Result<Option<TaskRecord>, DbError> {
        let row = sqlx::query(
            "update tasks set status = 'running', attempts = attempts + 1, updated_at = $1 \
             where id = $2 and status in ('queued', 'running') \
             returning id, kind, payload, attempts",
        )
        .bind(format_time(now()))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| -> Result<TaskRecord, DbError> {
            Ok(TaskRecord {
                id: parse_uuid(&row.try_get::<String, _>("id")?)?,
                kind: row.try_get("kind")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get::<i64, _>("attempts")?.clamp(0, i64::from(u32::MAX)) as u32,
            })
        })
        .transpose()
    }

    /// Ends a task (`done` or `failed`); finished rows are deleted, failures kept for
    /// inspection.
    pub(crate) async fn finish_task(&self, id: Uuid, succeeded: bool) -> Result<(), DbError> {
        if succeeded {
            sqlx::query("delete from tasks where id = $1")
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
        } else {
            sqlx::query("update tasks set status = 'failed', updated_at = $1 where id = $2")
                .bind(format_time(now()))
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Tasks not finished (queued, or running when the process stopped), oldest first.
    pub(crate) async fn pending_tasks(&self) -> Result<Vec<Uuid>, DbError> {
        let rows =
            sqlx::query("select id from tasks where status in ('queued', 'running') order by id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|row| parse_uuid(&row.try_get::<String, _>("id")?)).collect()
    }

    /// A service-wide setting.
    pub(crate) async fn get_setting(&self, name: &str) -> Result<Option<String>, DbError> {
        let row = sqlx::query("select value from settings where name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("value")).transpose()?)
    }

    /// Stores a setting unless one exists; returns the value that is stored (so racing
    /// processes agree on one value).
    pub(crate) async fn init_setting(&self, name: &str, value: &str) -> Result<String, DbError> {
        sqlx::query(
            "insert into settings (name, value) values ($1, $2) on conflict (name) do nothing",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        self.get_setting(name)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("setting {name} vanished")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tenant: &str) -> ImageRecord {
        ImageRecord {
            id: Uuid::now_v7(),
            tenant: tenant.into(),
            format: ImageFormat::Png,
            width: 3,
            height: 2,
            bytes: 42,
            sha256: "ab".repeat(32),
            filename: Some("a.png".into()),
            created_at: now(),
            source_image_id: None,
            job_id: None,
        }
    }

    #[tokio::test]
    async fn images_variants_tasks_and_settings_on_sqlite() {
        let path = std::env::temp_dir().join(format!("progimage-db-{}.sqlite", Uuid::now_v7()));
        let repository =
            Repository::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        let first = image("acme");
        let second = image("acme");
        repository.insert_image(&first).await.unwrap();
        repository.insert_image(&second).await.unwrap();
        repository.insert_image(&image("globex")).await.unwrap();

        assert_eq!(repository.get_image("acme", first.id).await.unwrap(), Some(first.clone()));
        assert_eq!(repository.get_image("globex", first.id).await.unwrap(), None);
        let listed = repository.list_images("acme", 10, None).await.unwrap();
        assert_eq!(listed.iter().map(|i| i.id).collect::<Vec<_>>(), vec![second.id, first.id]);
        let after = repository.list_images("acme", 10, Some(second.id)).await.unwrap();
        assert_eq!(after.iter().map(|i| i.id).collect::<Vec<_>>(), vec![first.id]);

        let variant = VariantRecord {
            image_id: first.id,
            variant_hash: "h".into(),
            format: ImageFormat::Webp,
            bytes: 7,
            sha256: "cd".repeat(32),
            width: 1,
            height: 1,
            created_at: now(),
        };
        repository.insert_variant(&variant).await.unwrap();
        repository.insert_variant(&variant).await.unwrap();
        assert_eq!(repository.count_variants(first.id).await.unwrap(), 1);
        assert_eq!(repository.get_variant(first.id, "h").await.unwrap(), Some(variant));
        assert!(!repository.delete_image("globex", first.id).await.unwrap());
        assert!(repository.delete_image("acme", first.id).await.unwrap());
        assert_eq!(repository.count_variants(first.id).await.unwrap(), 0);

        let task = Uuid::now_v7();
        repository.insert_task(task, "variant", "{}").await.unwrap();
        assert_eq!(repository.pending_tasks().await.unwrap(), vec![task]);
        assert_eq!(repository.start_task(task).await.unwrap().unwrap().attempts, 1);
        repository.finish_task(task, true).await.unwrap();
        assert!(repository.start_task(task).await.unwrap().is_none());

        assert_eq!(repository.init_setting("secret", "a").await.unwrap(), "a");
        assert_eq!(repository.init_setting("secret", "b").await.unwrap(), "a");
    }
}
