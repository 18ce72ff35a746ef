CREATE TABLE "payouts" (
	"id" bigint PRIMARY KEY NOT NULL,
	"status" text,
	"amount" bigint,
	"unit" text,
	"promoter_id" bigint,
	"campaign_id" bigint,
	"paid_at" timestamp with time zone,
	"fp_created_at" timestamp with time zone,
	"source_at" timestamp with time zone NOT NULL,
	"source_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fulfilments" ADD COLUMN "kind" text DEFAULT 'v1_payout' NOT NULL;--> statement-breakpoint
ALTER TABLE "fulfilments" ADD COLUMN "fp_id" bigint GENERATED ALWAYS AS (abs(id)) STORED;--> statement-breakpoint
ALTER TABLE "fulfilments" ADD COLUMN "referral_id" bigint;--> statement-breakpoint
ALTER TABLE "fulfilments" ADD COLUMN "referral_uid" text;--> statement-breakpoint
ALTER TABLE "fulfilments" ADD COLUMN "referral_email" text;--> statement-breakpoint
ALTER TABLE "fulfilments" ADD COLUMN "party" text;--> statement-breakpoint
CREATE INDEX "payouts_promoter_idx" ON "payouts" USING btree ("promoter_id");--> statement-breakpoint
CREATE UNIQUE INDEX "fulfilments_kind_fp_id_uq" ON "fulfilments" USING btree ("kind","fp_id");--> statement-breakpoint
ALTER TABLE "fulfilments" ADD CONSTRAINT "fulfilments_kind_id_ck" CHECK (("fulfilments"."kind" = 'v1_payout' and "fulfilments"."id" >= 0) or ("fulfilments"."kind" = 'v2_commission' and "fulfilments"."id" < 0));