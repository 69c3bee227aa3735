-- Bulk jobs. The database owns their state; queue messages carry (job id, item index)
-- only. Counters on the job row move in the same transaction as the item they count, so
-- a job's totals are always consistent with its items.
create table jobs (
    id text primary key,
    tenant text not null,
    status text not null,
    total bigint not null,
    succeeded bigint not null default 0,
    failed bigint not null default 0,
    cancelled bigint not null default 0,
    cancel_requested bigint not null default 0,
    -- The client's `metadata`, as JSON text, echoed back.
    metadata text,
    -- The id of the request that submitted the job (item problems carry it).
    request_id text not null,
    webhook_url text,
    webhook_attempts bigint not null default 0,
    webhook_delivered_at text,
    webhook_last_status bigint,
    -- When the next delivery attempt is due; null when none is pending. A dispatcher
    -- claims a due row by moving this forward (a lease), so one process delivers it.
    webhook_next_at text,
    created_at text not null,
    updated_at text not null,
    finished_at text
);

create index jobs_tenant_id on jobs (tenant, id);
create index jobs_webhook_next_at on jobs (webhook_next_at);

create table job_items (
    job_id text not null,
    idx bigint not null,
    status text not null,
    source_image_id text,
    source_url text,
    -- The item's effective operations and output settings (job defaults applied), JSON.
    spec text not null,
    family text not null,
    -- Chosen at submission, so a redelivered item writes the same image, never a second.
    output_image_id text not null,
    -- The problem document of a failed item, JSON.
    error text,
    attempts bigint not null default 0,
    updated_at text not null,
    primary key (job_id, idx)
);

create index job_items_status_updated on job_items (status, updated_at);

-- Idempotency-Key per tenant: the same key and body give the same job.
create table idempotency_keys (
    tenant text not null,
    idempotency_key text not null,
    body_sha256 text not null,
    job_id text not null,
    created_at text not null,
    primary key (tenant, idempotency_key)
);

create index images_job_id on images (job_id);
