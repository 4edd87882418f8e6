import type DataLoader from 'dataloader';
import type { LocalClient } from '../../lib/db/store.ts';
import type { InternalClaims } from '../../lib/internal-token.ts';
import type { useReceiptVerifier } from '../../lib/match-receipt.ts';
import type { PersonRecord } from './person.ts';

export interface Context {
  prisma: LocalClient;
  /** Who is asking and what the router decided, from the verified internal token. */
  claims: InternalClaims;
  /** Social care records by NHS number: one batch of queries per request, however many children. */
  persons: DataLoader<string, PersonRecord[]>;
  /** Hits a search answers at most. */
  searchLimit: number;
  /** Checks MATCH's receipts, for a link (none: this LA links nothing). */
  receipts: ReturnType<typeof useReceiptVerifier> | null;
  /** Response keys of the searches in this request that matched more records than they answered. */
  searchesCut: string[];
}
