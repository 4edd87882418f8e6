// Seeds the sandbox's stores from a generated population, once: a store that already holds data
// is left as it is. Each store is seeded in one transaction, so an interrupted first start leaves
// it empty rather than half-filled.
import type { CentralClient, LocalClient } from '../lib/db/store.ts';
import { populationPaths } from '../lib/population/generate.ts';
import { LA_TABLES } from '../lib/population/la.ts';
import { readNdjsonBatches } from '../lib/population/ndjson.ts';
import { SANDBOX_LAS } from '../lib/population/places.ts';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** NDJSON carries dates as yyyy-mm-dd; the store's date columns take Date values. */
function withDates(row: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'string' && ISO_DATE.test(value)) row[key] = new Date(`${value}T00:00:00Z`);
  }
  return row;
}

/** Rows per INSERT: the widest table has under 20 columns, well inside PostgreSQL's 65,535 parameters. */
const ROWS_PER_STATEMENT = 1000;

type CreateMany = (args: { data: Record<string, unknown>[] }) => Promise<unknown>;

export async function seedLocalStore(prisma: LocalClient, populationDir: string, la: string): Promise<{ seeded: boolean; rows: number }> {
  if ((await prisma.la_user.count()) > 0 || (await prisma.ssd_person.count()) > 0) return { seeded: false, rows: 0 };
  const paths = populationPaths(populationDir);
  let rows = 0;
  await prisma.$transaction(
    async (tx) => {
      for (const table of LA_TABLES) {
        const model = (tx as unknown as Record<string, { createMany: CreateMany }>)[table]!;
        for await (const batch of readNdjsonBatches<Record<string, unknown>>(paths.laTable(la, table), ROWS_PER_STATEMENT)) {
          await model.createMany({ data: batch.map(withDates) });
          rows += batch.length;
        }
      }
    },
    { timeout: 30 * 60_000, maxWait: 60_000 },
  );
  return { seeded: true, rows };
}

/** The organisations the sandbox knows: DfE and the sandbox LAs. */
export async function seedCentralStore(prisma: CentralClient): Promise<{ seeded: boolean; rows: number }> {
  if ((await prisma.organisation.count()) > 0) return { seeded: false, rows: 0 };
  const organisations = [
    { code: 'dfe', name: 'Department for Education', type: 'DFE' as const, scopes: ['registry:admin', 'dsa:admin'] },
    ...SANDBOX_LAS.map((la) => ({ code: la.code, name: la.name, type: 'LA' as const, scopes: ['match', 'find', 'register', 'relay'] })),
  ];
  await prisma.organisation.createMany({ data: organisations });
  return { seeded: true, rows: organisations.length };
}
