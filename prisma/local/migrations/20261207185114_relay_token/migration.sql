-- CreateTable
CREATE TABLE "la_relay_token" (
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "la_relay_token_pkey" PRIMARY KEY ("jti")
);

-- CreateIndex
CREATE INDEX "la_relay_token_expires_at_idx" ON "la_relay_token"("expires_at");
