-- AlterTable
ALTER TABLE "organisation" ADD COLUMN     "systems" TEXT[] DEFAULT ARRAY[]::TEXT[];
