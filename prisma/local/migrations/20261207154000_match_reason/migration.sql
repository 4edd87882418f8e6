-- AlterTable
ALTER TABLE "la_match_result" ADD COLUMN     "agreed" JSONB,
ADD COLUMN     "disagreed" TEXT[],
ADD COLUMN     "explanation" TEXT,
ADD COLUMN     "reason" TEXT;
