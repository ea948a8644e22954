CREATE TABLE "co_lead_state" (
	"org_id" text PRIMARY KEY NOT NULL,
	"cursor" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "rsfs_table" jsonb;--> statement-breakpoint
ALTER TABLE "co_lead_state" ADD CONSTRAINT "co_lead_state_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;