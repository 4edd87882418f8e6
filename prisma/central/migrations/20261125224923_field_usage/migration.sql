-- CreateTable
CREATE TABLE "field_usage" (
    "org_code" TEXT NOT NULL,
    "coordinate" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "field_usage_pkey" PRIMARY KEY ("org_code","coordinate","day")
);
