-- Whether the broker has confirmed a job item's message. The sweeper re-publishes only
-- items still queued whose message was never confirmed (a publish lost to a broker outage
-- between the commit and the confirm), so a deep queue is never flooded with duplicates.
-- Items from before this column existed count as published.
alter table job_items add column published bigint not null default 1;
