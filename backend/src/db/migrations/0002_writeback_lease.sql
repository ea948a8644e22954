ALTER TABLE "orgs" ADD COLUMN "writeback_paused_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "writeback_outbox" ADD COLUMN "source_seq" bigint;--> statement-breakpoint
ALTER TABLE "writeback_outbox" ADD COLUMN "claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "writeback_outbox" ADD COLUMN "retry_at" timestamp with time zone;