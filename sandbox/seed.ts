// Seeds the sandbox's stores from a generated population, once: a store that already holds data
// is left as it is. Each store is seeded in one transaction, so an interrupted first start leaves
// it empty rather than half-filled.
import type { CentralClient, LocalClient, Store } from '../lib/db/store.ts';
import { publishDsa } from '../gateway/dsa-registry.ts';
import { populationPaths } from './population/generate.ts';
import { LA_TABLES } from '../lib/db/la-tables.ts';
import { readNdjsonBatches } from './population/ndjson.ts';
import { sandboxAgreement, type SandboxOrganisation } from './organisations.ts';

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

/**
 * DfE's organisation registry and agreements for the sandbox: organisations are upserted on every start
 * (so a regenerated key is picked up); an LA's agreement is published once, as version 1.
 */
export async function seedCentralStore(store: Store<CentralClient>, organisations: SandboxOrganisation[]): Promise<{ organisations: number; agreements: number }> {
  for (const { code, ...organisation } of organisations) {
    const data = { ...organisation, jwks: organisation.jwks as never };
    await store.prisma.organisation.upsert({ where: { code }, create: { code, ...data }, update: data });
  }
  let agreements = 0;
  for (const organisation of organisations.filter((o) => o.type === 'LA')) {
    if ((await store.prisma.dsaDocument.count({ where: { sourceCode: organisation.code } })) > 0) continue;
    await store.sql.withSession((db) => publishDsa(db, sandboxAgreement(organisation.code), 'dfe'));
    agreements++;
  }
  return { organisations: organisations.length, agreements };
}
