import type { Organisation } from '../../lib/organisation-credential.ts';
import type { Relay } from './relay.ts';

export interface Context {
  /** The asking organisation, from its verified DfE access token. */
  caller: Organisation;
  /** The purpose the caller declared in the MAIS-Purpose header, if any. */
  purpose: string | null;
  relay: Relay;
}

/** A Child as the relay resolves it: only its key. */
export interface ChildReference {
  nhsNumber: string;
}
