-- AlterTable
ALTER TABLE "organisation" ADD COLUMN     "pointers_suspended" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "register_entry" ADD COLUMN     "matched" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE INDEX "audit_entry_actor_org_action_pseudonym_idx" ON "audit_entry"("actor_org", "action", "pseudonym");
