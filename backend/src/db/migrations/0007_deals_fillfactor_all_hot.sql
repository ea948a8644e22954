-- Custom migration (drizzle has no table storage options). A batch rescore moves the score
-- pointer (latest_score_id / latest_score_hash) of every deal on a page in one transaction,
-- so each page needs room for a new version of every row on it (old versions cannot be pruned
-- until that transaction ends). At fillfactor 60 only about 12 of 21 rows fitted: the rest were
-- non-HOT updates, which insert into all five deals indexes (with bottom-up index deletion);
-- measured with perf, that was a quarter of Postgres's CPU in a first-pass rescore of 1M deals.
-- At 45 a page keeps room for a full copy of its rows plus the pointer columns (rows of about
-- 230 bytes grow by about 40), so every pointer update is HOT. Applies to pages written from
-- now on (an existing table keeps its pages until rewritten).
ALTER TABLE "deals" SET (fillfactor = 45);
