-- Custom migration (not generated from schema.ts: drizzle has no table storage options).
-- Every score change moves deals.latest_score_id / latest_score_hash, columns no index covers.
-- Free space in each page lets Postgres make those updates HOT (no index entries, about a
-- third of the WAL), which is most of the cost of a batch rescore. Applies to pages written
-- from now on.
ALTER TABLE "deals" SET (fillfactor = 60);
