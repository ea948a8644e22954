-- Custom migration (drizzle has no column collations). A first batch rescore inserts about
-- 0.7 co-lead suggestions per deal, each into three indexes keyed by text columns; under the
-- database's libc collation (C.UTF-8 here) every key comparison goes through strcoll and a
-- locale lookup. Collation "C" compares bytes: the same order as C.UTF-8 for UTF-8 text and the
-- same equality, so queries and their results do not change; only the key comparisons get
-- cheaper. (Rebuilds the three indexes; the table is not rewritten.)
ALTER TABLE "co_lead_suggestions" ALTER COLUMN "org_id" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "co_lead_suggestions" ALTER COLUMN "external_id" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "co_lead_suggestions" ALTER COLUMN "suggested_rep_id" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "co_lead_suggestions" ALTER COLUMN "status" SET DATA TYPE text COLLATE "C";
