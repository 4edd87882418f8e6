-- CreateIndex
CREATE UNIQUE INDEX "la_audit_entry_prev_hash_key" ON "la_audit_entry"("prev_hash");
