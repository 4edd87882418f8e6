-- AlterTable
ALTER TABLE "register_entry" ADD COLUMN     "restricted" BOOLEAN NOT NULL DEFAULT false;
