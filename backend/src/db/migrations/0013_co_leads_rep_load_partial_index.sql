-- The rep-load index holds only open primary suggestions: the load query's rows. The
-- alternatives (two of a deal's three suggestions) no longer cost an index entry each.
DROP INDEX "co_leads_org_rep_status_idx";--> statement-breakpoint
CREATE INDEX "co_leads_org_rep_load_idx" ON "co_lead_suggestions" USING btree ("org_id","suggested_rep_id") WHERE "co_lead_suggestions"."is_primary" AND "co_lead_suggestions"."status" IN ('proposed', 'approved');