-- CreateEnum
CREATE TYPE "OrganisationType" AS ENUM ('LA', 'HEALTH', 'POLICE', 'SCHOOL_TRUST', 'DFE');

-- CreateEnum
CREATE TYPE "OrganisationStatus" AS ENUM ('ACTIVE', 'SUSPENDED');

-- CreateEnum
CREATE TYPE "RecordProvenance" AS ENUM ('REGISTERED', 'DISCOVERED', 'RETIRED');

-- CreateTable
CREATE TABLE "organisation" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" "OrganisationType" NOT NULL,
    "status" "OrganisationStatus" NOT NULL DEFAULT 'ACTIVE',
    "jwks" JSONB,
    "jwks_url" TEXT,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "organisation_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "register_entry" (
    "id" BIGSERIAL NOT NULL,
    "pseudonym" BYTEA NOT NULL,
    "key_version" INTEGER NOT NULL,
    "custodian_code" TEXT NOT NULL,
    "system_id" TEXT NOT NULL,
    "record_type" TEXT NOT NULL,
    "subject_pseudonym" BYTEA,
    "first_seen" TIMESTAMPTZ(3) NOT NULL,
    "last_seen" TIMESTAMPTZ(3) NOT NULL,
    "provenance" "RecordProvenance" NOT NULL,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "register_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pseudonym_key" (
    "version" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "pseudonym_key_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "dsa_document" (
    "id" BIGSERIAL NOT NULL,
    "source_code" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "published_by" TEXT NOT NULL,
    "published_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dsa_document_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schema_version" (
    "id" BIGSERIAL NOT NULL,
    "org_code" TEXT NOT NULL,
    "subgraph" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "sdl" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "checks" JSONB NOT NULL,
    "forced" BOOLEAN NOT NULL DEFAULT false,
    "published_by" TEXT NOT NULL,
    "published_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schema_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "supergraph" (
    "id" BIGSERIAL NOT NULL,
    "org_code" TEXT NOT NULL,
    "sdl" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "supergraph_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_entry" (
    "seq" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_org" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "pseudonym" BYTEA,
    "purpose" TEXT,
    "decision" TEXT,
    "rule" TEXT,
    "policy_version" INTEGER,
    "detail" JSONB,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "register_entry_custodian_code_record_type_idx" ON "register_entry"("custodian_code", "record_type");

-- CreateIndex
CREATE UNIQUE INDEX "register_entry_pseudonym_key_version_custodian_code_system__key" ON "register_entry"("pseudonym", "key_version", "custodian_code", "system_id", "record_type");

-- CreateIndex
CREATE UNIQUE INDEX "dsa_document_source_code_version_key" ON "dsa_document"("source_code", "version");

-- CreateIndex
CREATE UNIQUE INDEX "schema_version_org_code_subgraph_version_key" ON "schema_version"("org_code", "subgraph", "version");

-- CreateIndex
CREATE INDEX "supergraph_org_code_id_idx" ON "supergraph"("org_code", "id");

-- AddForeignKey
ALTER TABLE "register_entry" ADD CONSTRAINT "register_entry_custodian_code_fkey" FOREIGN KEY ("custodian_code") REFERENCES "organisation"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dsa_document" ADD CONSTRAINT "dsa_document_source_code_fkey" FOREIGN KEY ("source_code") REFERENCES "organisation"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schema_version" ADD CONSTRAINT "schema_version_org_code_fkey" FOREIGN KEY ("org_code") REFERENCES "organisation"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The audit log is append-only: the database itself refuses to change or remove an entry.
CREATE FUNCTION "refuse_audit_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_entry_no_update_or_delete" BEFORE UPDATE OR DELETE ON "audit_entry"
  FOR EACH ROW EXECUTE FUNCTION "refuse_audit_change"();

CREATE TRIGGER "audit_entry_no_truncate" BEFORE TRUNCATE ON "audit_entry"
  FOR EACH STATEMENT EXECUTE FUNCTION "refuse_audit_change"();
