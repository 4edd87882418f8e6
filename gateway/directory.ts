// What every DfE service that decides on agreements (FIND, the relay) must know and keep current: the
// organisation registry, each source's head data sharing agreement (compiled), and which pseudonym key
// versions are in use. It checks the store's head versions every `refreshMs`; a replica that could not
// check for `maxStalenessMs` reports itself stale and refuses to decide, rather than deciding on a
// policy that may have been revoked.
import type { SqlConnection } from '../lib/db/sql.ts';
import { DsaPolicy, type Decision, type DecisionRequest } from '../lib/dsa/policy.ts';
import type { Organisation } from '../lib/organisation-credential.ts';
import { OrganisationRegistry } from './organisations.ts';
import { Pseudonymiser, readPseudonymKeys, type Pseudonym, type PseudonymKey } from './pseudonym.ts';

export class StaleDirectoryError extends Error {
  override name = 'StaleDirectoryError';
}

export interface DirectoryOptions {
  sql: SqlConnection;
  /** The pseudonym keys: a file re-read when the store names a version this replica lacks, or the keys themselves. */
  keys: string | PseudonymKey[];
  refreshMs?: number;
  maxStalenessMs?: number;
  now?: () => number;
}

interface KeyState {
  /** The version lookups and registrations use. */
  current: number;
  /** During a rotation: the version being filled; new registrations use it, lookups ask both. */
  next: number | null;
}

export class CentralDirectory {
  private readonly registry = new OrganisationRegistry();
  private policies = new Map<string, DsaPolicy>();
  private policyProblems = new Map<string, string>();
  private keyState: KeyState = { current: 1, next: null };
  private pseudonymiserCache: Pseudonymiser | null = null;
  private lastRefresh = -Infinity;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly refreshMs: number;
  private readonly maxStalenessMs: number;
  private readonly now: () => number;

  constructor(private readonly options: DirectoryOptions) {
    this.refreshMs = options.refreshMs ?? 1000;
    this.maxStalenessMs = options.maxStalenessMs ?? 5000;
    if (this.refreshMs >= this.maxStalenessMs) throw new RangeError('the directory must refresh more often than it may be stale');
    this.now = options.now ?? Date.now;
  }

  /** Loads everything once (throws if the store cannot be read), then keeps it current. */
  async start(): Promise<void> {
    await this.options.sql.withSession((db) => db.query(`INSERT INTO pseudonym_key (version, state) SELECT 1, 'CURRENT' WHERE NOT EXISTS (SELECT 1 FROM pseudonym_key)`));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => {}), this.refreshMs);
    this.timer.unref();
  }

  /** The organisation registry as last loaded. */
  get organisations(): Map<string, Organisation> {
    return this.registry.organisations;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One check of the head versions; reloads only what changed. */
  async refresh(): Promise<void> {
    try {
      await this.options.sql.withSession(async (db) => {
        await this.registry.refresh(db);
        const heads = await db.query<{ source_code: string; version: number }>('SELECT source_code, max(version) AS version FROM dsa_document GROUP BY source_code');
        for (const head of heads) {
          if (this.policies.get(head.source_code)?.version === head.version || this.policyProblems.get(head.source_code) === `v${head.version}`) continue;
          const [row] = await db.query<{ document: unknown }>('SELECT document FROM dsa_document WHERE source_code = $1 AND version = $2', [head.source_code, head.version]);
          try {
            this.policies.set(head.source_code, DsaPolicy.compile(row!.document));
            this.policyProblems.delete(head.source_code);
          } catch {
            // Published documents are validated first, so this is a store edited by hand: deny everything from that source.
            this.policies.delete(head.source_code);
            this.policyProblems.set(head.source_code, `v${head.version}`);
          }
        }
        const keys = await db.query<{ version: number; state: string }>(`SELECT version, state FROM pseudonym_key WHERE state IN ('CURRENT', 'NEXT')`);
        const current = keys.find((k) => k.state === 'CURRENT')?.version;
        if (current === undefined) throw new StaleDirectoryError('no current pseudonym key version in the store');
        const next = keys.find((k) => k.state === 'NEXT')?.version ?? null;
        this.keyState = { current, next };
        this.ensurePseudonymiser();
      });
      this.lastRefresh = this.now();
      this.lastError = null;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      throw error;
    }
  }

  private ensurePseudonymiser(): void {
    const wanted = this.keyState.next ?? this.keyState.current;
    if (this.pseudonymiserCache?.current === wanted) return;
    const keys = typeof this.options.keys === 'string' ? readPseudonymKeys(this.options.keys) : this.options.keys;
    if (!keys.some((key) => key.version === wanted)) throw new StaleDirectoryError(`the store uses pseudonym key version ${wanted}, which this replica has no key for`);
    this.pseudonymiserCache = new Pseudonymiser(keys, wanted);
  }

  /** Fresh enough to decide on? Throws StaleDirectoryError when the last good check is too old. */
  assertFresh(): void {
    const age = this.now() - this.lastRefresh;
    if (age > this.maxStalenessMs) {
      throw new StaleDirectoryError(`data sharing agreements last confirmed current ${Number.isFinite(age) ? `${Math.round(age / 1000)} s ago` : 'never'}${this.lastError ? ` (${this.lastError})` : ''}`);
    }
  }

  get status(): { fresh: boolean; ageMs: number; policies: number; keyVersions: number[]; lastError: string | null } {
    const age = this.now() - this.lastRefresh;
    return { fresh: age <= this.maxStalenessMs, ageMs: Math.round(age), policies: this.policies.size, keyVersions: this.lookupVersions, lastError: this.lastError };
  }

  get pseudonymiser(): Pseudonymiser {
    if (!this.pseudonymiserCache) throw new StaleDirectoryError('the directory has not loaded yet');
    return this.pseudonymiserCache;
  }

  /** The key version new registrations are written with. */
  get writeVersion(): number {
    return this.keyState.next ?? this.keyState.current;
  }

  /** The key versions a lookup asks for: the current one, and the next during a rotation. */
  get lookupVersions(): number[] {
    return this.keyState.next ? [this.keyState.current, this.keyState.next] : [this.keyState.current];
  }

  /**
   * A child's pseudonyms for reading the register (under every version a lookup asks for), and the one
   * its audit entries name (the write version's).
   */
  pseudonymsForLookup(nhsNumber: string): { lookup: Pseudonym[]; audit: Buffer } {
    const lookup = this.pseudonymiser.pseudonymsOf(nhsNumber, this.lookupVersions);
    return { lookup, audit: (lookup.find((p) => p.version === this.writeVersion) ?? lookup[0]!).value };
  }

  /**
   * May `request.destination` see (EXISTENCE) or receive (CONTENT) `source`'s record? A custodian
   * always sees its own; a source with no agreement shares nothing.
   */
  decide(source: string, request: DecisionRequest): Decision {
    if (source === request.destination) return { allow: true, rule: 'own-records', version: 0 };
    const policy = this.policies.get(source);
    if (!policy) return { allow: false, rule: this.policyProblems.has(source) ? 'invalid-agreement' : 'no-agreement', version: 0 };
    return policy.decide(request);
  }
}
