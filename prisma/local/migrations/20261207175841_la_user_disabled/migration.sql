-- AlterTable
ALTER TABLE "la_user" ADD COLUMN     "disabled_at" TIMESTAMPTZ(3);
