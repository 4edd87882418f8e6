-- CreateTable
CREATE TABLE "client_assertion" (
    "id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "client_assertion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "client_assertion_expires_at_idx" ON "client_assertion"("expires_at");
