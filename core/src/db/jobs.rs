//! Jobs, their items, webhook delivery state and idempotency keys.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{DbError, Repository, format_time, now, parse_time, parse_uuid};
use crate::queue::Family;

/// A job's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    CompletedWithErrors,
    Cancelled,
}

impl JobStatus {
    /// Every status, for validating filters.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::CompletedWithErrors,
        JobStatus::Cancelled,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::CompletedWithErrors => "completed_with_errors",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|status| status.name() == name)
    }
}

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
    pub fn name(self) -> &'static str {
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

/// A job row.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: Uuid,
    pub tenant: String,
    pub status: JobStatus,
    pub total: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub cancelled: u32,
    pub metadata: Option<String>,
    pub request_id: String,
    pub webhook_url: Option<String>,
    pub webhook_attempts: u32,
    pub webhook_delivered_at: Option<DateTime<Utc>>,
    pub webhook_last_status: Option<u16>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
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

/// A new job: its row and its items.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub tenant: String,
    pub metadata: Option<String>,
    pub request_id: String,
    pub webhook_url: Option<String>,
    pub items: Vec<NewItem>,
}

/// What inserting a job with an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The job is new.
    Created,
    /// The key was used before with the same body: that job.
    Existing(Uuid),
    /// The key was used before with another body.
    Conflict,
}

/// How an item ended.
#[derive(Debug, Clone)]
pub enum ItemOutcome {
    Succeeded,
    /// The problem document, JSON.
    Failed(String),
}

macro_rules! job_columns {
    () => {
        "id, tenant, status, total, succeeded, failed, cancelled, metadata, request_id, \
         webhook_url, webhook_attempts, webhook_delivered_at, webhook_last_status, \
         created_at, updated_at, finished_at"
    };
}

macro_rules! item_columns {
    () => {
        "job_id, idx, status, source_image_id, source_url, spec, family, output_image_id, \
         error, attempts"
    };
}

/// The statement that ends a job once every item has ended: its status from its counts,
/// `finished_at`, and a webhook delivery due now when it has a webhook.
const FINISH_JOB: &str = "update jobs set \
     status = case when cancelled > 0 then 'cancelled' \
                   when failed = 0 then 'succeeded' \
                   when succeeded = 0 then 'failed' \
                   else 'completed_with_errors' end, \
     finished_at = $1, updated_at = $2, \
     webhook_next_at = case when webhook_url is null then null else $3 end \
     where id = $4 and finished_at is null and succeeded + failed + cancelled = total";

fn count(row: &AnyRow, column: &str) -> Result<u32, DbError> {
    Ok(row.try_get::<i64, _>(column)?.clamp(0, i64::from(u32::MAX)) as u32)
}

fn optional_time(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, DbError> {
    row.try_get::<Option<String>, _>(column)?.as_deref().map(parse_time).transpose()
}

fn job_from_row(row: &AnyRow) -> Result<JobRecord, DbError> {
    let status: String = row.try_get("status")?;
    Ok(JobRecord {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        tenant: row.try_get("tenant")?,
        status: JobStatus::from_name(&status)
            .ok_or_else(|| DbError::Corrupt(format!("job status {status:?}")))?,
        total: count(row, "total")?,
        succeeded: count(row, "succeeded")?,
        failed: count(row, "failed")?,
        cancelled: count(row, "cancelled")?,
        metadata: row.try_get("metadata")?,
        request_id: row.try_get("request_id")?,
        webhook_url: row.try_get("webhook_url")?,
        webhook_attempts: count(row, "webhook_attempts")?,
        webhook_delivered_at: optional_time(row, "webhook_delivered_at")?,
        webhook_last_status: row
            .try_get::<Option<i64>, _>("webhook_last_status")?
            .and_then(|status| u16::try_from(status).ok()),
        created_at: parse_time(&row.try_get::<String, _>("created_at")?)?,
        updated_at: parse_time(&row.try_get::<String, _>("updated_at")?)?,
        finished_at: optional_time(row, "finished_at")?,
    })
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

impl Repository {
    /// Inserts a job and its items in one transaction, after claiming the idempotency
    /// key if one is given (a concurrent duplicate waits on the key's row, then finds it).
    pub async fn insert_job(
        &self,
        job: &NewJob,
        idempotency: Option<(&str, &str)>,
    ) -> Result<Inserted, DbError> {
        let now = format_time(now());
        let mut transaction = self.begin_write().await?;
        if let Some((key, body_sha256)) = idempotency {
            let claimed = sqlx::query(
                "insert into idempotency_keys (tenant, idempotency_key, body_sha256, job_id, \
                 created_at) values ($1, $2, $3, $4, $5) \
                 on conflict (tenant, idempotency_key) do nothing",
            )
            .bind(&job.tenant)
            .bind(key)
            .bind(body_sha256)
            .bind(job.id.to_string())
            .bind(&now)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if claimed == 0 {
                let row = sqlx::query(
                    "select body_sha256, job_id from idempotency_keys \
                     where tenant = $1 and idempotency_key = $2",
                )
                .bind(&job.tenant)
                .bind(key)
                .fetch_one(&mut *transaction)
                .await?;
                transaction.rollback().await?;
                let stored: String = row.try_get("body_sha256")?;
                return Ok(if stored == body_sha256 {
                    Inserted::Existing(parse_uuid(&row.try_get::<String, _>("job_id")?)?)
                } else {
                    Inserted::Conflict
                });
            }
        }
        sqlx::query(
            "insert into jobs (id, tenant, status, total, metadata, request_id, webhook_url, \
             created_at, updated_at) values ($1, $2, 'queued', $3, $4, $5, $6, $7, $8)",
        )
        .bind(job.id.to_string())
        .bind(&job.tenant)
        .bind(job.items.len() as i64)
        .bind(job.metadata.clone())
        .bind(&job.request_id)
        .bind(job.webhook_url.clone())
        .bind(&now)
        .bind(&now)
        .execute(&mut *transaction)
        .await?;
        for (chunk_index, chunk) in job.items.chunks(ITEMS_PER_INSERT).enumerate() {
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
                    .bind(job.id.to_string())
                    .bind((chunk_index * ITEMS_PER_INSERT + offset) as i64)
                    .bind("queued")
                    .bind(item.source_image_id.map(|id| id.to_string()))
                    .bind(item.source_url.clone())
                    .bind(item.spec.clone())
                    .bind(item.family.name())
                    .bind(item.output_image_id.to_string())
                    .bind(now.clone());
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(Inserted::Created)
    }

    /// One job of a tenant.
    pub async fn get_job(&self, tenant: &str, id: Uuid) -> Result<Option<JobRecord>, DbError> {
        let row = sqlx::query(concat!(
            "select ",
            job_columns!(),
            " from jobs where id = $1 and tenant = $2"
        ))
        .bind(id.to_string())
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// One job, whoever's (workers and the webhook dispatcher).
    pub async fn job_by_id(&self, id: Uuid) -> Result<Option<JobRecord>, DbError> {
        let row = sqlx::query(concat!("select ", job_columns!(), " from jobs where id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// A job's items in index order.
    pub async fn job_items(&self, job_id: Uuid) -> Result<Vec<ItemRecord>, DbError> {
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

    /// A tenant's jobs, newest first, optionally of one status, after the cursor id.
    pub async fn list_jobs(
        &self,
        tenant: &str,
        status: Option<JobStatus>,
        limit: u32,
        before: Option<Uuid>,
    ) -> Result<Vec<JobRecord>, DbError> {
        // Absent filters compare against values that match everything.
        let before = before.map_or_else(|| "~".to_string(), |id| id.to_string());
        let rows = sqlx::query(concat!(
            "select ",
            job_columns!(),
            " from jobs where tenant = $1 and ($2 = '' or status = $3) and id < $4 \
             order by id desc limit $5"
        ))
        .bind(tenant)
        .bind(status.map_or("", JobStatus::name))
        .bind(status.map_or("", JobStatus::name))
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Marks an item running (counting the attempt) unless it has ended; a redelivered
    /// item that was running when its worker died is claimed again.
    pub async fn claim_item(
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
    pub async fn finish_item(
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

    /// Cancels a tenant's job: queued items become cancelled at once; running ones finish.
    /// Returns the job (unchanged when it had finished), or `None` when it is not theirs.
    pub async fn cancel_job(&self, tenant: &str, id: Uuid) -> Result<Option<JobRecord>, DbError> {
        let now = format_time(now());
        let mut transaction = self.begin_write().await?;
        let owned = sqlx::query("select finished_at from jobs where id = $1 and tenant = $2")
            .bind(id.to_string())
            .bind(tenant)
            .fetch_optional(&mut *transaction)
            .await?;
        let Some(owned) = owned else {
            transaction.rollback().await?;
            return Ok(None);
        };
        if owned.try_get::<Option<String>, _>("finished_at")?.is_none() {
            let cancelled = sqlx::query(
                "update job_items set status = 'cancelled', updated_at = $1 \
                 where job_id = $2 and status = 'queued'",
            )
            .bind(&now)
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            sqlx::query(
                "update jobs set cancelled = cancelled + $1, cancel_requested = 1, \
                 updated_at = $2 where id = $3",
            )
            .bind(cancelled as i64)
            .bind(&now)
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
            finish_if_done(&mut transaction, id, &now).await?;
        }
        transaction.commit().await?;
        self.get_job(tenant, id).await
    }

    /// Records that the broker confirmed the messages of a job's items (`index`: one item,
    /// or all of them), so the sweeper leaves them alone.
    pub async fn mark_published(&self, job_id: Uuid, index: Option<u32>) -> Result<(), DbError> {
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
    pub async fn stale_queued_items(
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
    pub async fn unfinished_items(&self) -> Result<Vec<(Uuid, u32, Family)>, DbError> {
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

    /// Claims one job whose webhook delivery is due, leasing it until `lease_until` so no
    /// other dispatcher takes it meanwhile.
    pub async fn claim_due_webhook(
        &self,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<JobRecord>, DbError> {
        let now = format_time(now());
        let row = sqlx::query(
            "update jobs set webhook_next_at = $1 where id = (select id from jobs \
             where webhook_next_at is not null and webhook_next_at <= $2 \
             order by webhook_next_at limit 1) and webhook_next_at <= $3 returning id",
        )
        .bind(format_time(lease_until))
        .bind(&now)
        .bind(&now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => self.job_by_id(parse_uuid(&row.try_get::<String, _>("id")?)?).await,
            None => Ok(None),
        }
    }

    /// Records one delivery attempt: its status (none when there was no answer), whether
    /// it was delivered, and when the next attempt is due (none: stop).
    pub async fn record_webhook_attempt(
        &self,
        job_id: Uuid,
        status: Option<u16>,
        delivered: bool,
        next_at: Option<DateTime<Utc>>,
    ) -> Result<(), DbError> {
        let now = format_time(now());
        sqlx::query(
            "update jobs set webhook_attempts = webhook_attempts + 1, \
             webhook_last_status = $1, \
             webhook_delivered_at = case when $2 = 1 then $3 else webhook_delivered_at end, \
             webhook_next_at = $4 where id = $5",
        )
        .bind(status.map(i64::from))
        .bind(i64::from(delivered))
        .bind(&now)
        .bind(next_at.map(format_time))
        .bind(job_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The images a job wrote (its succeeded items' outputs).
    pub async fn job_outputs(&self, job_id: Uuid) -> Result<Vec<super::ImageRecord>, DbError> {
        let rows = sqlx::query(concat!(
            "select ",
            super::image_columns!(),
            " from images where job_id = $1"
        ))
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(super::image_from_row).collect()
    }
}

async fn finish_if_done(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Uuid,
    now: &str,
) -> Result<bool, DbError> {
    let finished = sqlx::query(FINISH_JOB)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(job_id.to_string())
        .execute(&mut **transaction)
        .await?
        .rows_affected();
    Ok(finished > 0)
}
