// Looks for children's identifiers where the privacy rules say none may be: every text, JSON, array and
// binary column of a database, and any text (logs, metrics). What it looks for comes from the synthetic
// population (every child's NHS number, name and date of birth) and from what the relay carried.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { populationPaths } from '../sandbox/population/generate.ts';

export interface Identifiers {
  nhsNumbers: Set<string>;
  /** "given family", lower case. */
  names: Set<string>;
  /** yyyy-mm-dd. */
  births: Set<string>;
  /** Text the relay carried from one LA to another (its timestamps and team names). */
  carried: Set<string>;
}

export function populationIdentifiers(populationDir: string): Identifiers {
  const patients = readFileSync(populationPaths(populationDir).patients, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; birthDate: string; name?: { given?: string[]; family?: string }[] });
  return {
    nhsNumbers: new Set(patients.map((p) => p.id)),
    names: new Set(patients.flatMap((p) => (p.name ?? []).filter((n) => n.given?.[0] && n.family).map((n) => `${n.given![0]} ${n.family}`.toLowerCase()))),
    births: new Set(patients.map((p) => p.birthDate)),
    carried: new Set(),
  };
}

const ISO_TIMESTAMPS = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** What of `ids` one text holds: 'an NHS number', 'a name', 'a date of birth' (unless `births` is false), 'what the relay carried'. */
export function findIdentifiers(text: string, ids: Identifiers, options: { births?: boolean } = {}): string[] {
  const found = new Set<string>();
  for (const digits of text.match(/\d{10}/g) ?? []) if (ids.nhsNumbers.has(digits)) found.add('an NHS number');
  if (options.births !== false) for (const day of text.match(/\d{4}-\d{2}-\d{2}/g) ?? []) if (ids.births.has(day)) found.add('a date of birth');
  // Names as runs of two or three words (a family name may have a space in it), looked up rather than searched for.
  const words = text.toLowerCase().match(/[\p{L}'’-]+/gu) ?? [];
  for (let i = 0; i + 1 < words.length && !found.has('a name'); i++) {
    if (ids.names.has(`${words[i]} ${words[i + 1]}`) || (i + 2 < words.length && ids.names.has(`${words[i]} ${words[i + 1]} ${words[i + 2]}`))) found.add('a name');
  }
  for (const stamp of text.match(ISO_TIMESTAMPS) ?? []) if (ids.carried.has(stamp)) found.add('what the relay carried');
  for (const carried of ids.carried) if (!ISO_TIMESTAMP.test(carried) && text.includes(carried)) found.add('what the relay carried');
  return [...found];
}

export interface DatabaseScan {
  /** Values read. */
  scanned: number;
  /** `table.column: what`, once each. */
  found: string[];
  columns: string[];
}

/** Reads every text, JSON, array and binary column of every table in `public` and looks in each value. */
export async function scanDatabase(url: string, ids: Identifiers, options: { birthsAllowedIn?: string[] } = {}): Promise<DatabaseScan> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: columns } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json', 'ARRAY')`,
    );
    let scanned = 0;
    const found = new Set<string>();
    for (const { table_name: table, column_name: column, data_type: type } of columns) {
      const expression = type === 'bytea' ? `encode("${column}", 'escape') || ' ' || encode("${column}", 'hex')` : type === 'ARRAY' ? `array_to_string("${column}", ' ')` : `"${column}"::text`;
      const { rows } = await client.query<{ v: string | null }>(`SELECT ${expression} AS v FROM "${table}"`);
      const births = !(options.birthsAllowedIn ?? []).includes(table);
      for (const { v } of rows) {
        if (v === null) continue;
        scanned++;
        for (const what of findIdentifiers(v, ids, { births })) found.add(`${table}.${column}: ${what}`);
      }
    }
    return { scanned, found: [...found].sort(), columns: columns.map((c) => `${c.table_name}.${c.column_name}`) };
  } finally {
    await client.end();
  }
}
