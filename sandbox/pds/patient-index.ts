// The national demographic records the PDS sandbox serves, indexed for search. Any NDJSON file of
// FHIR R4 Patients in PDS's shape can be loaded. Only the fields searched on are kept in memory;
// a full record is read back from the file when it is returned.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dayOf } from '../../lib/dates.ts';
import { normaliseName, normalisePostcode } from '../../lib/names.ts';
import { soundex } from '../../lib/soundex.ts';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export interface IndexedName {
  given: string[];
  family: string;
  givenSoundex: string;
  familySoundex: string;
  historic: boolean;
}

export interface IndexedPatient {
  id: string;
  active: boolean;
  replacedBy?: string;
  names: IndexedName[];
  gender?: string;
  birthDay?: number;
  deathDay?: number;
  postcodes: { value: string; historic: boolean }[];
  gp?: string;
  phones: string[];
  emails: string[];
  restricted: boolean;
  versionId: string;
  offset: number;
  length: number;
}

interface FhirPatient {
  resourceType?: string;
  id?: string;
  active?: boolean;
  identifier?: { system?: string; value?: string }[];
  meta?: { versionId?: string; security?: { code?: string }[] };
  link?: { type?: string; other?: { reference?: string; identifier?: { value?: string } } }[];
  name?: { use?: string; given?: string[]; family?: string; period?: { end?: string } }[];
  gender?: string;
  birthDate?: string;
  deceasedDateTime?: string;
  address?: { use?: string; postalCode?: string; period?: { end?: string } }[];
  generalPractitioner?: { identifier?: { value?: string } }[];
  telecom?: { system?: string; value?: string; period?: { end?: string } }[];
}

function indexPatient(resource: FhirPatient, offset: number, length: number): IndexedPatient | undefined {
  if (resource.resourceType !== 'Patient') return undefined;
  const id = resource.id ?? resource.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  if (!id) return undefined;
  const replacement = resource.link?.find((l) => l.type === 'replaced-by');
  const replacedBy = replacement?.other?.identifier?.value ?? replacement?.other?.reference?.replace(/^Patient\//, '');
  const names = (resource.name ?? []).map((name) => {
    const given = (name.given ?? []).map(normaliseName).filter(Boolean);
    const family = normaliseName(name.family ?? '');
    return {
      given,
      family,
      givenSoundex: soundex(given[0] ?? ''),
      familySoundex: soundex(family),
      historic: name.use === 'old',
    };
  });
  const birthDay = resource.birthDate ? dayOf(resource.birthDate.slice(0, 10)) : undefined;
  const deathDay = resource.deceasedDateTime ? dayOf(resource.deceasedDateTime.slice(0, 10)) : undefined;
  return {
    id,
    active: resource.active !== false,
    ...(replacedBy ? { replacedBy } : {}),
    names,
    ...(resource.gender ? { gender: resource.gender } : {}),
    ...(birthDay !== undefined && Number.isFinite(birthDay) ? { birthDay } : {}),
    ...(deathDay !== undefined && Number.isFinite(deathDay) ? { deathDay } : {}),
    postcodes: (resource.address ?? [])
      .filter((a) => a.postalCode)
      .map((a) => ({ value: normalisePostcode(a.postalCode!), historic: a.use === 'old' })),
    ...(resource.generalPractitioner?.[0]?.identifier?.value ? { gp: resource.generalPractitioner[0].identifier.value.toUpperCase() } : {}),
    phones: (resource.telecom ?? []).filter((t) => t.system === 'phone' && t.value).map((t) => t.value!.replace(/\s/g, '')),
    emails: (resource.telecom ?? []).filter((t) => t.system === 'email' && t.value).map((t) => t.value!.toLowerCase()),
    restricted: (resource.meta?.security ?? []).some((s) => s.code === 'R' || s.code === 'V'),
    versionId: resource.meta?.versionId ?? '1',
    offset,
    length,
  };
}

const push = <K>(map: Map<K, number[]>, key: K, value: number) => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};

export class PatientIndex {
  readonly patients: IndexedPatient[] = [];
  private readonly byId = new Map<string, number>();
  private readonly byBirthDay = new Map<number, number[]>();
  private readonly byFamily = new Map<string, number[]>();
  private readonly byFamilySoundex = new Map<string, number[]>();
  private readonly byPostcode = new Map<string, number[]>();
  private fd: number | undefined;

  private constructor(readonly path: string) {}

  static async load(path: string): Promise<PatientIndex> {
    const index = new PatientIndex(path);
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    let offset = 0;
    for await (const line of lines) {
      const length = Buffer.byteLength(line);
      if (line.trim() !== '') {
        let resource: FhirPatient;
        try {
          resource = JSON.parse(line) as FhirPatient;
        } catch {
          throw new Error(`${path}: a line at byte ${offset} is not JSON`);
        }
        const patient = indexPatient(resource, offset, length);
        if (patient) index.add(patient);
      }
      offset += length + 1;
    }
    index.fd = openSync(path, 'r');
    return index;
  }

  private add(patient: IndexedPatient): void {
    const i = this.patients.push(patient) - 1;
    this.byId.set(patient.id, i);
    if (!patient.active) return;
    if (patient.birthDay !== undefined) push(this.byBirthDay, patient.birthDay, i);
    for (const family of new Set(patient.names.map((n) => n.family))) push(this.byFamily, family, i);
    for (const code of new Set(patient.names.flatMap((n) => [n.familySoundex, n.givenSoundex]))) push(this.byFamilySoundex, code, i);
    for (const postcode of new Set(patient.postcodes.map((p) => p.value))) push(this.byPostcode, postcode, i);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): IndexedPatient | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.patients[i];
  }

  /** The stored resource, as it is in the file. */
  resource(patient: IndexedPatient): Record<string, unknown> {
    const buffer = Buffer.alloc(patient.length);
    readSync(this.fd!, buffer, 0, patient.length, patient.offset);
    return JSON.parse(buffer.toString('utf8')) as Record<string, unknown>;
  }

  /**
   * Active patients that could match: the smallest of the birth-date range, the exact family name,
   * the sound-alike code of a name and the postcode. Never a scan of every patient.
   */
  candidates(options: { birthFrom: number; birthTo: number; family?: string; soundexCodes?: string[]; postcode?: string }): IndexedPatient[] {
    const sources: number[][][] = [];
    const span = options.birthTo - options.birthFrom;
    if (span <= 800) {
      const lists: number[][] = [];
      for (let day = options.birthFrom; day <= options.birthTo; day++) {
        const list = this.byBirthDay.get(day);
        if (list) lists.push(list);
      }
      sources.push(lists);
    }
    if (options.family) sources.push([this.byFamily.get(options.family) ?? []]);
    if (options.soundexCodes) sources.push(options.soundexCodes.map((code) => this.byFamilySoundex.get(code) ?? []));
    if (options.postcode) sources.push([this.byPostcode.get(options.postcode) ?? []]);
    if (sources.length === 0) {
      // An open-ended date range with no name to narrow it: walk the days that exist in the range.
      const lists: number[][] = [];
      for (const [day, list] of this.byBirthDay) if (day >= options.birthFrom && day <= options.birthTo) lists.push(list);
      sources.push(lists);
    }
    const size = (lists: number[][]) => lists.reduce((sum, list) => sum + list.length, 0);
    const smallest = sources.reduce((best, lists) => (size(lists) < size(best) ? lists : best));
    const seen = new Set<number>();
    const result: IndexedPatient[] = [];
    for (const list of smallest) {
      for (const i of list) {
        if (seen.has(i)) continue;
        seen.add(i);
        result.push(this.patients[i]!);
      }
    }
    return result;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
