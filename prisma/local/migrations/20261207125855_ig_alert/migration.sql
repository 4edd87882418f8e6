-- CreateTable
CREATE TABLE "la_ig_alert" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "caseworker" TEXT NOT NULL,
    "roles" TEXT[],
    "count" INTEGER NOT NULL,
    "threshold" INTEGER NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "window_end" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "la_ig_alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "la_ig_alert_at_idx" ON "la_ig_alert"("at");

-- CreateIndex
CREATE UNIQUE INDEX "la_ig_alert_kind_caseworker_window_start_key" ON "la_ig_alert"("kind", "caseworker", "window_start");
