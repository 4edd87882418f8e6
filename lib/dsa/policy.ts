// Data sharing agreements, compiled: a DSA document (schema/dsa.schema.json) is validated once and
// turned into sets and numbers, so a decision on the hot path is a few lookups and never parses JSON.
// Each decision says allow or deny, the rule that decided, and the policy version.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { isRecordTypePattern } from '../record-types.ts';

export type Mode = 'EXISTENCE' | 'CONTENT';
export type OrganisationType = 'LA' | 'HEALTH' | 'POLICE' | 'SCHOOL_TRUST' | 'DFE';

export interface DecisionRequest {
  destination: string;
  destinationType: OrganisationType;
  recordType: string;
  mode: Mode;
  purpose: string;
  /** When the decision is for (ms since epoch); now by default. */
  at?: number;
  /** The child's PDS record is restricted: only a rule that says `restrictedChildren` allows anything. */
  restricted?: boolean;
}

export interface Decision {
  allow: boolean;
  /** The rule that decided: a rule id, `revoked`, or `no-rule` (nothing allowed it). */
  rule: string;
  version: number;
}

export class DsaError extends Error {
  constructor(readonly problems: string[]) {
    super(`not a valid data sharing agreement: ${problems.join('; ')}`);
    this.name = 'DsaError';
  }
}

interface RuleDocument {
  id: string;
  effect: 'ALLOW' | 'DENY';
  destinations: { organisations?: string[]; organisationTypes?: OrganisationType[] };
  recordTypes: string[];
  modes: Mode[];
  purposes: string[];
  validFrom?: string;
  validTo?: string;
  restrictedChildren?: boolean;
}

export interface DsaDocument {
  source: string;
  version: number;
  defaults: RuleDocument[];
  exceptions?: RuleDocument[];
  revocations?: { destination: string; from: string; reason?: string }[];
}

interface CompiledRule {
  id: string;
  allow: boolean;
  organisations: Set<string> | null;
  organisationTypes: Set<string> | null;
  anyRecordType: boolean;
  recordTypes: Set<string>;
  families: Set<string>;
  modes: Set<Mode>;
  anyPurpose: boolean;
  purposes: Set<string>;
  from: number;
  to: number;
  restrictedChildren: boolean;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(readFileSync(new URL('../../schema/dsa.schema.json', import.meta.url), 'utf8')) as object);

function compileRule(rule: RuleDocument, problems: string[]): CompiledRule {
  const from = rule.validFrom ? Date.parse(rule.validFrom) : -Infinity;
  const to = rule.validTo ? Date.parse(rule.validTo) : Infinity;
  if (Number.isNaN(from) || Number.isNaN(to)) problems.push(`rule ${rule.id}: validFrom and validTo must be real times`);
  if (from > to) problems.push(`rule ${rule.id}: validFrom is after validTo`);
  for (const type of rule.recordTypes) if (!isRecordTypePattern(type)) problems.push(`rule ${rule.id}: ${type} is not a record type in schema/record-types.json`);
  return {
    id: rule.id,
    allow: rule.effect === 'ALLOW',
    organisations: rule.destinations.organisations ? new Set(rule.destinations.organisations) : null,
    organisationTypes: rule.destinations.organisationTypes ? new Set(rule.destinations.organisationTypes) : null,
    anyRecordType: rule.recordTypes.includes('*'),
    recordTypes: new Set(rule.recordTypes.filter((t) => !t.endsWith('*'))),
    families: new Set(rule.recordTypes.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -2))),
    modes: new Set(rule.modes),
    anyPurpose: rule.purposes.includes('*'),
    purposes: new Set(rule.purposes),
    from,
    to,
    restrictedChildren: rule.restrictedChildren === true,
  };
}

function applies(rule: CompiledRule, request: DecisionRequest, at: number, family: string): boolean {
  if (at < rule.from || at > rule.to) return false;
  // A restricted child is located only by a rule written for restricted children (a DENY applies to all).
  if (request.restricted && rule.allow && !rule.restrictedChildren) return false;
  if (!rule.modes.has(request.mode)) return false;
  const byOrganisation = rule.organisations?.has(request.destination) ?? false;
  const byType = rule.organisationTypes?.has(request.destinationType) ?? false;
  if (!byOrganisation && !byType) return false;
  if (!rule.anyRecordType && !rule.recordTypes.has(request.recordType) && !rule.families.has(family)) return false;
  return rule.anyPurpose || rule.purposes.has(request.purpose);
}

export class DsaPolicy {
  private constructor(
    readonly source: string,
    readonly version: number,
    private readonly exceptions: CompiledRule[],
    private readonly defaults: CompiledRule[],
    private readonly revocations: Map<string, number>,
  ) {}

  /** Validates a DSA document against schema/dsa.schema.json and compiles it; throws DsaError listing every problem. */
  static compile(document: unknown): DsaPolicy {
    if (!validate(document)) {
      throw new DsaError((validate.errors ?? []).map((e) => `${e.instancePath || '(document)'} ${e.message ?? 'is invalid'}`));
    }
    const dsa = document as DsaDocument;
    const problems: string[] = [];
    const ids = [...dsa.defaults, ...(dsa.exceptions ?? [])].map((r) => r.id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`rule id ${id} is used twice`);
    const exceptions = (dsa.exceptions ?? []).map((r) => compileRule(r, problems));
    const defaults = dsa.defaults.map((r) => compileRule(r, problems));
    const revocations = new Map<string, number>();
    for (const revocation of dsa.revocations ?? []) {
      const from = Date.parse(revocation.from);
      if (Number.isNaN(from)) problems.push(`revocation of ${revocation.destination}: from must be a real time`);
      revocations.set(revocation.destination, Math.min(from, revocations.get(revocation.destination) ?? Infinity));
    }
    if (problems.length > 0) throw new DsaError(problems);
    return new DsaPolicy(dsa.source, dsa.version, exceptions, defaults, revocations);
  }

  decide(request: DecisionRequest): Decision {
    const at = request.at ?? Date.now();
    const revokedFrom = this.revocations.get(request.destination);
    if (revokedFrom !== undefined && at >= revokedFrom) return { allow: false, rule: 'revoked', version: this.version };
    const dot = request.recordType.indexOf('.');
    const family = dot === -1 ? request.recordType : request.recordType.slice(0, dot);
    for (const rule of this.exceptions) if (applies(rule, request, at, family)) return { allow: rule.allow, rule: rule.id, version: this.version };
    for (const rule of this.defaults) if (applies(rule, request, at, family)) return { allow: rule.allow, rule: rule.id, version: this.version };
    return { allow: false, rule: request.restricted ? 'restricted-child' : 'no-rule', version: this.version };
  }
}
