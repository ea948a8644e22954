CREATE TABLE "co_lead_suggestions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"deal_id" bigint NOT NULL,
	"external_id" text NOT NULL,
	"suggested_rep_id" text NOT NULL,
	"segment" text NOT NULL,
	"win_rate" double precision NOT NULL,
	"sample_size" integer NOT NULL,
	"rank" integer NOT NULL,
	"is_primary" boolean DEFAULT false NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'proposed' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"owner_rsfs" double precision,
	"salesforce_id" text,
	"team_member_id" text,
	"score_version_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"external_id" text NOT NULL,
	"owner_id" text NOT NULL,
	"manager_id" text,
	"account_id" text,
	"name" text,
	"industry" text NOT NULL,
	"region" text,
	"product_type" text,
	"lead_source" text,
	"stage" text,
	"amount" double precision NOT NULL,
	"created_date" date NOT NULL,
	"closed_date" date,
	"sales_cycle_days" integer,
	"outcome" text,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source_modstamp" timestamp with time zone,
	"content_hash" text NOT NULL,
	"latest_score_id" bigint,
	"latest_score_hash" text,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "import_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"file_name" text NOT NULL,
	"file_sha256" text,
	"status" text DEFAULT 'running' NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"inserted" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"quarantined" integer DEFAULT 0 NOT NULL,
	"flagged" integer DEFAULT 0 NOT NULL,
	"mapping" jsonb,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"version" integer NOT NULL,
	"kind" text NOT NULL,
	"feature_spec" jsonb NOT NULL,
	"model" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"verdict" text NOT NULL,
	"trained_at" timestamp with time zone DEFAULT now() NOT NULL,
	"trained_through" date,
	"active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orgs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"instance_url" text,
	"login_url" text,
	"api_version" text DEFAULT '62.0' NOT NULL,
	"client_id" text,
	"username" text,
	"integration_user_id" text,
	"private_key_enc" text,
	"webhook_public_key" text,
	"webhook_secret_enc" text,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sync_watermark" timestamp with time zone,
	"last_sync_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantined_rows" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"import_run_id" integer NOT NULL,
	"row_number" integer NOT NULL,
	"field" text,
	"reason" text NOT NULL,
	"severity" text DEFAULT 'error' NOT NULL,
	"raw" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rep_segment_stats" (
	"org_id" text NOT NULL,
	"rep_id" text NOT NULL,
	"segment_field" text NOT NULL,
	"segment_value" text NOT NULL,
	"wins" integer NOT NULL,
	"n" integer NOT NULL,
	"raw_rate" double precision NOT NULL,
	"rsfs" double precision NOT NULL,
	"low" double precision NOT NULL,
	"high" double precision NOT NULL,
	"band" text NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rep_segment_stats_org_id_segment_field_segment_value_rep_id_pk" PRIMARY KEY("org_id","segment_field","segment_value","rep_id")
);
--> statement-breakpoint
CREATE TABLE "score_versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"deal_id" bigint NOT NULL,
	"version" integer NOT NULL,
	"probability" double precision NOT NULL,
	"risk_band" text NOT NULL,
	"confidence" text NOT NULL,
	"method" text NOT NULL,
	"factors" jsonb NOT NULL,
	"rsfs" double precision,
	"rsfs_band" text,
	"rsfs_sample_size" integer,
	"rsfs_low" double precision,
	"rsfs_high" double precision,
	"model_version_id" integer,
	"result_hash" text NOT NULL,
	"source_modstamp" timestamp with time zone,
	"scored_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"org_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text,
	"email" text,
	"manager_id" text,
	"role" text DEFAULT 'rep' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"occurred_at" timestamp with time zone,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"enqueued_at" timestamp with time zone,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "writeback_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"object_type" text NOT NULL,
	"record_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"payload_hash" text NOT NULL,
	"written_hash" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"written_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "co_lead_suggestions" ADD CONSTRAINT "co_lead_suggestions_deal_id_deals_id_fk" FOREIGN KEY ("deal_id") REFERENCES "public"."deals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantined_rows" ADD CONSTRAINT "quarantined_rows_import_run_id_import_runs_id_fk" FOREIGN KEY ("import_run_id") REFERENCES "public"."import_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "score_versions" ADD CONSTRAINT "score_versions_deal_id_deals_id_fk" FOREIGN KEY ("deal_id") REFERENCES "public"."deals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "co_leads_org_external_uq" ON "co_lead_suggestions" USING btree ("org_id","external_id");--> statement-breakpoint
CREATE INDEX "co_leads_org_deal_idx" ON "co_lead_suggestions" USING btree ("org_id","deal_id");--> statement-breakpoint
CREATE INDEX "co_leads_org_rep_status_idx" ON "co_lead_suggestions" USING btree ("org_id","suggested_rep_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "deals_org_external_uq" ON "deals" USING btree ("org_id","external_id");--> statement-breakpoint
CREATE INDEX "deals_org_owner_idx" ON "deals" USING btree ("org_id","owner_id");--> statement-breakpoint
CREATE INDEX "deals_org_closed_idx" ON "deals" USING btree ("org_id","closed_date");--> statement-breakpoint
CREATE INDEX "deals_org_open_idx" ON "deals" USING btree ("org_id") WHERE "deals"."outcome" IS NULL AND "deals"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "import_runs_org_idx" ON "import_runs" USING btree ("org_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_org_version_uq" ON "model_versions" USING btree ("org_id","version");--> statement-breakpoint
CREATE INDEX "quarantined_rows_run_idx" ON "quarantined_rows" USING btree ("import_run_id","row_number");--> statement-breakpoint
CREATE UNIQUE INDEX "score_versions_deal_version_uq" ON "score_versions" USING btree ("deal_id","version");--> statement-breakpoint
CREATE INDEX "score_versions_org_scored_idx" ON "score_versions" USING btree ("org_id","scored_at");--> statement-breakpoint
CREATE INDEX "users_manager_idx" ON "users" USING btree ("org_id","manager_id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_inbox_org_event_uq" ON "webhook_inbox" USING btree ("org_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_inbox_pending_idx" ON "webhook_inbox" USING btree ("received_at") WHERE "webhook_inbox"."status" <> 'done';--> statement-breakpoint
CREATE UNIQUE INDEX "writeback_outbox_record_uq" ON "writeback_outbox" USING btree ("org_id","object_type","record_key");--> statement-breakpoint
CREATE INDEX "writeback_outbox_pending_idx" ON "writeback_outbox" USING btree ("org_id","updated_at") WHERE "writeback_outbox"."status" = 'pending';