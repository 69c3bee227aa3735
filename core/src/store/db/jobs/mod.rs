//! Jobs, their items, webhook delivery state and idempotency keys.
//!
//! Job rows, idempotency keys and the statement that ends a job are here; item rows (their
//! insertion, claiming, ending and the sweeper's queries) are in `items`, webhook delivery
//! state in `webhooks`.

mod items;
mod webhooks;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

pub use self::items::{ItemOutcome, ItemRecord, ItemStatus, NewItem};
use super::{DbError, Repository, format_time, now, parse_time, parse_uuid};

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
    pub(crate) const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::CompletedWithErrors,
        JobStatus::Cancelled,
    ];

    /// The wire name.
    pub(crate) fn name(self) -> &'static str {
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

/// A new job: its row and its items.
#[derive(Debug, Clone)]
pub(crate) struct NewJob {
    pub id: Uuid,
    pub tenant: String,
    pub metadata: Option<String>,
    pub request_id: String,
    pub webhook_url: Option<String>,
    pub items: Vec<NewItem>,
}

/// What inserting a job with an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The job is new.
    Created,
    /// The key was used before with the same body: that job.
    Existing(Uuid),
    /// The key was used before with another body.
    Conflict,
}

macro_rules! job_columns {
    () => {
        "id, tenant, status, total, succeeded, failed, cancelled, metadata, request_id, \
         webhook_url, webhook_attempts, webhook_delivered_at, webhook_last_status, \
         created_at, updated_at, finished_at"
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

impl Repository {
    /// Inserts a job and its items in one transaction, after claiming the idempotency
    /// key if one is given (a concurrent duplicate waits on the key's row, then finds it).
    pub(crate) async fn insert_job(
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
        items::insert_items(&mut transaction, job.id, &job.items, &now).await?;
        transaction.commit().await?;
        Ok(Inserted::Created)
    }

    /// One job of a tenant.
    pub(crate) async fn get_job(
        &self,
        tenant: &str,
        id: Uuid,
    ) -> Result<Option<JobRecord>, DbError> {
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
    pub(crate) async fn job_by_id(&self, id: Uuid) -> Result<Option<JobRecord>, DbError> {
        let row = sqlx::query(concat!("select ", job_columns!(), " from jobs where id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// A tenant's jobs, newest first: `limit` of them, optionally of one status, older
    /// than the cursor id.
    pub(crate) async fn list_jobs(
        &self,
        tenant: &str,
        (status, limit, before): (Option<JobStatus>, u32, Option<Uuid>),
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

    /// Cancels a tenant's job: queued items become cancelled at once; running ones finish.
    /// Returns the job (unchanged when it had finished), or `None` when it is not theirs.
    pub(crate) async fn cancel_job(
        &self,
        tenant: &str,
        id: Uuid,
    ) -> Result<Option<JobRecord>, DbError> {
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

    /// The images a job wrote (its succeeded items' outputs).
    pub(crate) async fn job_outputs(
        &self,
        job_id: Uuid,
    ) -> Result<Vec<super::ImageRecord>, DbError> {
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
