//! Webhook delivery state on job rows: which delivery is due, and what each attempt got.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::JobRecord;
use crate::db::{DbError, Repository, format_time, now, parse_uuid};

impl Repository {
    /// Claims one job whose webhook delivery is due, leasing it until `lease_until` so no
    /// other dispatcher takes it meanwhile.
    pub(crate) async fn claim_due_webhook(
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
    pub(crate) async fn record_webhook_attempt(
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
}
