-- CreateTable
CREATE TABLE "la_register_item" (
    "nhs_number" TEXT NOT NULL,
    "system_id" TEXT NOT NULL,
    "record_type" TEXT NOT NULL,
    "subject_id" TEXT,
    "first_seen" DATE,
    "fingerprint" TEXT NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3) NOT NULL,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "la_register_item_pkey" PRIMARY KEY ("nhs_number","system_id","record_type")
);
