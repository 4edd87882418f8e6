import type DataLoader from 'dataloader';
import type { LocalClient } from '../../lib/db/store.ts';
import type { InternalClaims } from '../../lib/internal-token.ts';
import type { PupilRecord } from './pupil.ts';

export interface Context {
  prisma: LocalClient;
  claims: InternalClaims;
  pupils: DataLoader<string, PupilRecord[]>;
  /** Today, for "the last 12 months" of attendance. */
  today: Date;
}
