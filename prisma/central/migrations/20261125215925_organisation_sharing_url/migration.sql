-- AlterTable
ALTER TABLE "organisation" ADD COLUMN     "sharing_url" TEXT;
