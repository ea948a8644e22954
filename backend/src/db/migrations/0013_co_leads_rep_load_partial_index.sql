-- The rep-load index holds only open primary suggestions (the load query's rows), rep first:
-- the query asks for a few reps, and as the second column that condition became a filter
-- over every open primary of the org whenever statistics were stale.
DROP INDEX "co_leads_org_rep_status_idx";--> statement-breakpoint
CREATE INDEX "co_leads_rep_load_idx" ON "co_lead_suggestions" USING btree ("suggested_rep_id","org_id") WHERE "co_lead_suggestions"."is_primary" AND "co_lead_suggestions"."status" IN ('proposed', 'approved');