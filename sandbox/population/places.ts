// The two sandbox local authorities and the rest of England, as postcode districts and towns.
import type { Random } from './random.ts';

export interface LocalAuthority {
  code: string;
  name: string;
  /** Prefix of the LA's local record identifiers. */
  idPrefix: string;
  districts: readonly string[];
  towns: readonly string[];
  /** First URN of the LA's schools. */
  urnBase: number;
}

export const SANDBOX_LAS: readonly LocalAuthority[] = [
  {
    code: 'northshire',
    name: 'Northshire County Council',
    idPrefix: 'NS',
    districts: ['DL1', 'DL2', 'DL3', 'DL5', 'DL14', 'DL16', 'TS1', 'TS3', 'TS5', 'TS17', 'TS18', 'TS19'],
    towns: ['Darrowby', 'Northallerton Moor', 'Kettlewell Bridge', 'Stockbeck', 'Hartburn', 'Ayresome'],
    urnBase: 110000,
  },
  {
    code: 'southshire',
    name: 'Southshire District Council',
    idPrefix: 'SS',
    districts: ['SO14', 'SO15', 'SO16', 'SO17', 'SO18', 'SO19', 'PO1', 'PO2', 'PO4', 'PO5', 'PO6', 'PO9'],
    towns: ['Southam Quay', 'Itchen Ferry', 'Portsea Down', 'Bitterne Vale', 'Hedge End', 'Cosham Heath'],
    urnBase: 120000,
  },
];

/** Postcode districts elsewhere in England with their towns, for children who live outside the sandbox LAs. */
export const OTHER_AREAS: readonly (readonly [district: string, town: string])[] = [
  ['B10', 'Birmingham'], ['B23', 'Birmingham'], ['M14', 'Manchester'], ['M8', 'Manchester'], ['LS6', 'Leeds'],
  ['LS11', 'Leeds'], ['L8', 'Liverpool'], ['BS5', 'Bristol'], ['NG7', 'Nottingham'], ['E1', 'London'],
  ['E13', 'London'], ['N15', 'London'], ['SE15', 'London'], ['SW9', 'London'], ['CR0', 'Croydon'],
  ['LE2', 'Leicester'], ['S3', 'Sheffield'], ['CV1', 'Coventry'], ['NE4', 'Newcastle upon Tyne'],
  ['BD3', 'Bradford'], ['HU3', 'Hull'], ['PL4', 'Plymouth'], ['EX4', 'Exeter'], ['NR2', 'Norwich'],
  ['CB4', 'Cambridge'], ['OX4', 'Oxford'], ['RG1', 'Reading'], ['MK9', 'Milton Keynes'],
  ['WV1', 'Wolverhampton'], ['ST4', 'Stoke-on-Trent'],
];

/** Letters that may stand in the inward code of a UK postcode. */
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

export function postcodeIn(district: string, random: Random): string {
  return `${district} ${random.int(0, 9)}${random.pick([...INWARD_LETTERS])}${random.pick([...INWARD_LETTERS])}`;
}

export function laByCode(code: string): LocalAuthority {
  const la = SANDBOX_LAS.find((candidate) => candidate.code === code);
  if (!la) throw new RangeError(`unknown sandbox LA ${code}`);
  return la;
}

export type Phase = 'Primary' | 'Secondary' | '16 plus';

export interface School {
  urn: string;
  name: string;
  phase: Phase;
}

const SAINTS = ['Mary', 'Peter', 'Andrew', 'Joseph', 'Bede', 'Cuthbert', 'Hilda', 'Michael', 'Anne', 'John'];

/** An LA's schools: a fixed list per LA, so URNs are stable across seeds. */
export function schoolsOf(la: LocalAuthority): School[] {
  const schools: School[] = [];
  let urn = la.urnBase;
  for (const town of la.towns) {
    schools.push({ urn: String(urn++), name: `${town} Primary School`, phase: 'Primary' });
    schools.push({ urn: String(urn++), name: `${town} Infant and Junior School`, phase: 'Primary' });
  }
  for (const saint of SAINTS.slice(0, 6)) {
    schools.push({ urn: String(urn++), name: `St ${saint}'s Church of England Primary School`, phase: 'Primary' });
  }
  for (const town of la.towns) {
    schools.push({ urn: String(urn++), name: `${town} Academy`, phase: 'Secondary' });
  }
  schools.push({ urn: String(urn++), name: `${la.towns[0]} Sixth Form College`, phase: '16 plus' });
  schools.push({ urn: String(urn), name: `${la.towns[1]} College`, phase: '16 plus' });
  return schools;
}
