import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The two kinds of store: DfE's central store and an LA's local store. */
export const STORES = ['central', 'local'] as const;
export type StoreKind = (typeof STORES)[number];

const here = dirname(fileURLToPath(import.meta.url));

export const schemaPath = (store: StoreKind): string => join(here, store, 'schema.prisma');
export const migrationsPath = (store: StoreKind): string => join(here, store, 'migrations');
