import type { PdsClient } from '../../lib/pds/client.ts';
import type { Matcher } from './matcher.ts';

/** What each request's resolvers can use. */
export interface Context {
  pds: PdsClient;
  matcher: Matcher;
  /** Carried to PDS as X-Correlation-ID. */
  correlationId?: string;
}
