CREATE TABLE "event_outbox" (
	"inbox_id" bigint PRIMARY KEY NOT NULL,
	"event_type" text NOT NULL
);
