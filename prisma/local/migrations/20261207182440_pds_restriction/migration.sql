-- CreateTable
CREATE TABLE "la_pds_restriction" (
    "nhs_number" TEXT NOT NULL,
    "restricted" BOOLEAN NOT NULL,
    "checked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "la_pds_restriction_pkey" PRIMARY KEY ("nhs_number")
);
