-- Images and their stored variants. Ids are UUIDv7 text, so ordering by id is ordering
-- by creation time (the listing's "newest first" and its cursor rely on it).
create table images (
    id text primary key,
    tenant text not null,
    format text not null,
    content_type text not null,
    width bigint not null,
    height bigint not null,
    bytes bigint not null,
    sha256 text not null,
    filename text,
    created_at text not null,
    -- Set on job outputs only.
    source_image_id text,
    job_id text
);

create index images_tenant_id on images (tenant, id);

-- A variant row exists only once its object is fully written, so a row is always
-- servable; the objects are a cache and may be evicted with their rows.
create table variants (
    image_id text not null,
    variant_hash text not null,
    format text not null,
    bytes bigint not null,
    sha256 text not null,
    width bigint not null,
    height bigint not null,
    created_at text not null,
    primary key (image_id, variant_hash)
);

-- The durable backlog behind the queue: a task is a row first, a message second, so
-- nothing queued is lost when the process stops (pending rows are re-queued at start).
create table tasks (
    id text primary key,
    kind text not null,
    payload text not null,
    status text not null,
    attempts bigint not null default 0,
    created_at text not null,
    updated_at text not null
);

create index tasks_status on tasks (status);

-- Service-wide settings, e.g. the generated webhook master secret.
create table settings (
    name text primary key,
    value text not null
);
