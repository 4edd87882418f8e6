import type DataLoader from 'dataloader';
import type { SqlConnection } from '../../lib/db/sql.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import type { CentralDirectory } from '../../gateway/directory.ts';
import type { Location } from './register.ts';

export interface Context {
  /** The calling organisation, from its verified credential. */
  caller: Organisation;
  /** The purpose the caller declared in the MAIS-Purpose header, if any. */
  purpose: string | null;
  directory: CentralDirectory;
  sql: SqlConnection;
  /** A pointer not confirmed for this long is stale. */
  staleAfterMs: number;
  now: () => number;
  /** A child's visible pointers by NHS number, for this caller and purpose; audited. */
  locations: DataLoader<string, Location[]>;
}

/** A Child as the locator resolves it: only its key. */
export interface ChildReference {
  nhsNumber: string;
}
