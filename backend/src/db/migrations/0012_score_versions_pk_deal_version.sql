-- score_versions: the primary key becomes (deal_id, version), the one index a stored version
-- maintains. Every read goes by deal; the latest score through deals.latest_score_version.
-- The unique (deal_id, version) index is promoted to the key (no rebuild); id stays unique by
-- its sequence.
ALTER TABLE "score_versions" DROP CONSTRAINT "score_versions_pkey";--> statement-breakpoint
ALTER INDEX "score_versions_deal_version_uq" RENAME TO "score_versions_pkey";--> statement-breakpoint
ALTER TABLE "score_versions" ADD CONSTRAINT "score_versions_pkey" PRIMARY KEY USING INDEX "score_versions_pkey";
