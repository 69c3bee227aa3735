//! Item rows: inserted with their job, claimed and ended by workers, and found again by the
//! sweeper and at start-up.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{JobRecord, count, finish_if_done};
use crate::db::{DbError, Repository, format_time, now, parse_uuid};
use crate::queue::Family;

/// An item's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl ItemStatus {
    /// The wire name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ItemStatus::Queued => "queued",
            ItemStatus::Running => "running",
            ItemStatus::Succeeded => "succeeded",
            ItemStatus::Failed => "failed",
            ItemStatus::Cancelled => "cancelled",
        }
    }

    fn from_name(name: &str) -> Result<ItemStatus, DbError> {
        Ok(match name {
            "queued" => ItemStatus::Queued,
            "running" => ItemStatus::Running,
            "succeeded" => ItemStatus::Succeeded,
            "failed" => ItemStatus::Failed,
            "cancelled" => ItemStatus::Cancelled,
            other => return Err(DbError::Corrupt(format!("item status {other:?}"))),
        })
    }
}

/// An item row.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub job_id: Uuid,
    pub index: u32,
    pub status: ItemStatus,
    pub source_image_id: Option<Uuid>,
    pub source_url: Option<String>,
    pub spec: String,
    pub family: Family,
    pub output_image_id: Uuid,
    pub error: Option<String>,
    pub attempts: u32,
}

/// An item to insert with its job.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub source_image_id: Option<Uuid>,
    pub source_url: Option<String>,
    pub spec: String,
    pub family: Family,
    pub output_image_id: Uuid,
}

/// How an item ended.
#[derive(Debug, Clone)]
pub enum ItemOutcome {
    Succeeded,
    /// The problem document, JSON.
    Failed(String),
}

macro_rules! item_columns {
    () => {
        "job_id, idx, status, source_image_id, source_url, spec, family, output_image_id, \
         error, attempts"
    };
}

fn item_from_row(row: &AnyRow) -> Result<ItemRecord, DbError> {
    let family: String = row.try_get("family")?;
    Ok(ItemRecord {
        job_id: parse_uuid(&row.try_get::<String, _>("job_id")?)?,
        index: count(row, "idx")?,
        status: ItemStatus::from_name(&row.try_get::<String, _>("status")?)?,
        source_image_id: row
            .try_get::<Option<String>, _>("source_image_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        source_url: row.try_get("source_url")?,
        spec: row.try_get("spec")?,
        family: Family::from_name(&family)
            .ok_or_else(|| DbError::Corrupt(format!("family {family:?}")))?,
        output_image_id: parse_uuid(&row.try_get::<String, _>("output_image_id")?)?,
        error: row.try_get("error")?,
        attempts: count(row, "attempts")?,
    })
}

/// Items inserted per statement (keeps every backend under its bind-parameter limit).
const ITEMS_PER_INSERT: usize = 500;

/// Inserts a new job's items, [`ITEMS_PER_INSERT`] rows a statement, as queued and not yet
/// published.
pub(super) async fn insert_items(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Uuid,
    items: &[NewItem],
    now: &str,
) -> Result<(), DbError> {
    for (chunk_index, chunk) in items.chunks(ITEMS_PER_INSERT).enumerate() {
        // `$n` placeholders written out: the Any driver's query builder emits `?`,
        // which Postgres does not take.
        const COLUMNS: usize = 9;
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let first = row * COLUMNS + 1;
                let placeholders: Vec<String> =
                    (first..first + COLUMNS).map(|n| format!("${n}")).collect();
                // Not yet published: the broker has not confirmed the message.
                format!("({}, 0)", placeholders.join(", "))
            })
            .collect();
        let sql = format!(
            "insert into job_items (job_id, idx, status, source_image_id, source_url, spec, \
             family, output_image_id, updated_at, published) values {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (offset, item) in chunk.iter().enumerate() {
            query = query
                .bind(job_id.to_string())
                .bind((chunk_index * ITEMS_PER_INSERT + offset) as i64)
                .bind("queued")
                .bind(item.source_image_id.map(|id| id.to_string()))
                .bind(item.source_url.clone())
                .bind(item.spec.clone())
                .bind(item.family.name())
                .bind(item.output_image_id.to_string())
                .bind(now.to_owned());
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

impl Repository {
    /// A job's items in index order.
    pub(crate) async fn job_items(&self, job_id: Uuid) -> Result<Vec<ItemRecord>, DbError> {
        let rows = sqlx::query(concat!(
            "select ",
            item_columns!(),
            " from job_items where job_id = $1 order by idx"
        ))
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    /// Marks an item running (counting the attempt) unless it has ended; a redelivered
    /// item that was running when its worker died is claimed again.
    pub(crate) async fn claim_item(
        &self,
        job_id: Uuid,
        index: u32,
    ) -> Result<Option<ItemRecord>, DbError> {
        let now = format_time(now());
        let row = sqlx::query(concat!(
            "update job_items set status = 'running', attempts = attempts + 1, updated_at = $1 \
             where job_id = $2 and idx = $3 and status in ('queued', 'running') returning ",
            item_columns!()
        ))
        .bind(&now)
        .bind(job_id.to_string())
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        let Some(item) = row.as_ref().map(item_from_row).transpose()? else {
            return Ok(None);
        };
        sqlx::query(
            "update jobs set status = 'running', updated_at = $1 where id = $2 and status = 'queued'",
        )
        .bind(&now)
        .bind(job_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(Some(item))
    }

    /// Ends a running item and counts it on its job; returns the job when this ended it.
    pub(crate) async fn finish_item(
        &self,
        job_id: Uuid,
        index: u32,
        outcome: &ItemOutcome,
    ) -> Result<Option<JobRecord>, DbError> {
        let now = format_time(now());
        let (status, error, counter) = match outcome {
            ItemOutcome::Succeeded => ("succeeded", None, "succeeded"),
            ItemOutcome::Failed(problem) => ("failed", Some(problem.clone()), "failed"),
        };
        let mut transaction = self.begin_write().await?;
        let changed = sqlx::query(
            "update job_items set status = $1, error = $2, updated_at = $3 \
             where job_id = $4 and idx = $5 and status = 'running'",
        )
        .bind(status)
        .bind(error)
        .bind(&now)
        .bind(job_id.to_string())
        .bind(i64::from(index))
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if changed == 0 {
            // Ended already (a duplicate delivery finished first): count nothing twice.
            transaction.rollback().await?;
            return Ok(None);
        }
        let increment = match counter {
            "succeeded" => {
                "update jobs set succeeded = succeeded + 1, updated_at = $1 where id = $2"
            }
            _ => "update jobs set failed = failed + 1, updated_at = $1 where id = $2",
        };
        sqlx::query(increment)
            .bind(&now)
            .bind(job_id.to_string())
            .execute(&mut *transaction)
            .await?;
        let finished = finish_if_done(&mut transaction, job_id, &now).await?;
        transaction.commit().await?;
        if finished { self.job_by_id(job_id).await } else { Ok(None) }
    }

    /// Records that the broker confirmed the messages of a job's items (`index`: one item,
    /// or all of them), so the sweeper leaves them alone.
    pub(crate) async fn mark_published(
        &self,
        job_id: Uuid,
        index: Option<u32>,
    ) -> Result<(), DbError> {
        match index {
            None => {
                sqlx::query("update job_items set published = 1 where job_id = $1")
                    .bind(job_id.to_string())
                    .execute(&self.pool)
                    .await?
            }
            Some(index) => {
                sqlx::query("update job_items set published = 1 where job_id = $1 and idx = $2")
                    .bind(job_id.to_string())
                    .bind(i64::from(index))
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(())
    }

    /// Items still queued since before `older_than` whose message the broker never
    /// confirmed (lost between the commit and the confirm, or submitted while the broker was
    /// down). A sweep marks each published once the broker confirms it, so it is not
    /// touched here: an item whose re-publish fails simply comes back next round.
    pub(crate) async fn stale_queued_items(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(Uuid, u32, Family)>, DbError> {
        let rows = sqlx::query(
            "select job_id, idx, family from job_items where status = 'queued' \
             and published = 0 and updated_at < $1 order by updated_at limit $2",
        )
        .bind(format_time(older_than))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let job_id: String = row.try_get("job_id")?;
                let family: String = row.try_get("family")?;
                Ok((
                    parse_uuid(&job_id)?,
                    count(row, "idx")?,
                    Family::from_name(&family).unwrap_or(Family::Raster),
                ))
            })
            .collect()
    }

    /// Every unfinished item (queued, or running when the process stopped).
    pub(crate) async fn unfinished_items(&self) -> Result<Vec<(Uuid, u32, Family)>, DbError> {
        let rows = sqlx::query(
            "select job_id, idx, family from job_items where status in ('queued', 'running') \
             order by job_id, idx",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let family: String = row.try_get("family")?;
                Ok((
                    parse_uuid(&row.try_get::<String, _>("job_id")?)?,
                    count(row, "idx")?,
                    Family::from_name(&family).unwrap_or(Family::Raster),
                ))
            })
            .collect()
    }
}
