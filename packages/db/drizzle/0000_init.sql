CREATE TABLE "fulfilment_answers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fulfilment_id" bigint NOT NULL,
	"event_id" text,
	"status_code" smallint NOT NULL,
	"reason" text,
	"answered_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fulfilments" (
	"id" bigint PRIMARY KEY NOT NULL,
	"source" text DEFAULT 'webhook' NOT NULL,
	"unit" text NOT NULL,
	"amount" bigint NOT NULL,
	"beneficiary" text NOT NULL,
	"promoter_id" bigint,
	"cust_id" text,
	"promoter_email" text,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"failure_reason" text,
	"first_event_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"granted_at" timestamp with time zone,
	"answered_pending" boolean DEFAULT false NOT NULL,
	"api_close" text DEFAULT 'not_needed' NOT NULL,
	"api_closed_at" timestamp with time zone,
	"api_close_error" text
);
--> statement-breakpoint
CREATE TABLE "leads" (
	"id" bigint PRIMARY KEY NOT NULL,
	"state" text,
	"email" text,
	"uid" text,
	"promoter_id" bigint,
	"promotion_id" bigint,
	"plan_name" text,
	"customer_since" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"first_payment_at" timestamp with time zone,
	"fp_created_at" timestamp with time zone,
	"source_at" timestamp with time zone NOT NULL,
	"source_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fulfilment_id" bigint NOT NULL,
	"beneficiary" text NOT NULL,
	"promoter_id" bigint,
	"cust_id" text,
	"unit" text NOT NULL,
	"amount" bigint NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "promoters" (
	"id" bigint PRIMARY KEY NOT NULL,
	"status" text,
	"cust_id" text,
	"email" text,
	"parent_promoter_id" bigint,
	"default_ref_id" text,
	"campaign_id" bigint,
	"accepted_at" timestamp with time zone,
	"accepted_event_id" bigint,
	"earnings_balance" jsonb,
	"current_balance" jsonb,
	"paid_balance" jsonb,
	"profile" jsonb,
	"fp_created_at" timestamp with time zone,
	"source_at" timestamp with time zone NOT NULL,
	"source_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text NOT NULL,
	"status_code" smallint NOT NULL,
	"details" jsonb,
	"content_type" text,
	"body_size" integer NOT NULL,
	"body" text,
	"body_truncated" boolean DEFAULT false NOT NULL,
	"resubmitted_at" timestamp with time zone,
	"resubmitted_event_id" bigint
);
--> statement-breakpoint
CREATE TABLE "rewards" (
	"id" bigint PRIMARY KEY NOT NULL,
	"status" text,
	"amount" bigint,
	"unit" text,
	"billing_event_id" text,
	"conversion_amount" bigint,
	"tier_level" integer,
	"promoter_id" bigint,
	"lead_id" bigint,
	"fp_created_at" timestamp with time zone,
	"source_at" timestamp with time zone NOT NULL,
	"source_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"dedupe_key" text,
	"event_created_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"processed_at" timestamp with time zone,
	"pruned_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "fulfilment_answers" ADD CONSTRAINT "fulfilment_answers_fulfilment_id_fulfilments_id_fk" FOREIGN KEY ("fulfilment_id") REFERENCES "public"."fulfilments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_fulfilment_id_fulfilments_id_fk" FOREIGN KEY ("fulfilment_id") REFERENCES "public"."fulfilments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fulfilment_answers_fulfilment_idx" ON "fulfilment_answers" USING btree ("fulfilment_id","answered_at");--> statement-breakpoint
CREATE INDEX "fulfilments_state_idx" ON "fulfilments" USING btree ("state","updated_at");--> statement-breakpoint
CREATE INDEX "leads_promoter_idx" ON "leads" USING btree ("promoter_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_fulfilment_uq" ON "ledger_entries" USING btree ("fulfilment_id");--> statement-breakpoint
CREATE INDEX "ledger_entries_balance_idx" ON "ledger_entries" USING btree ("beneficiary","unit");--> statement-breakpoint
CREATE INDEX "quarantine_received_idx" ON "quarantine" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "rewards_promoter_idx" ON "rewards" USING btree ("promoter_id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_source_event_id_uq" ON "webhook_events" USING btree ("source","event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_dedupe_key_uq" ON "webhook_events" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "webhook_events_pending_idx" ON "webhook_events" USING btree ("received_at") WHERE "webhook_events"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_events_type_received_idx" ON "webhook_events" USING btree ("event_type","received_at");