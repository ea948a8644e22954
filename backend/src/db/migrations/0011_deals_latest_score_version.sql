-- deals.latest_score_version: the version number of the deal's latest score, kept beside
-- latest_score_id so a rescore reads it from the deal row instead of probing score_versions.
ALTER TABLE "deals" ADD COLUMN "latest_score_version" integer;--> statement-breakpoint
UPDATE "deals" d SET "latest_score_version" = s."version"
FROM "score_versions" s
WHERE s."id" = d."latest_score_id";
