// Loads a Standard Safeguarding Dataset extract (one CSV per SSD table, named <table>.csv, columns as
// in the SSD specification) into an LA store. Every row is checked against the store's own column
// types first; any bad row is reported by file and line and nothing at all is loaded.
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import type { LocalClient } from '../../lib/db/store.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '../../lib/nhs-number.ts';
import { LA_TABLES } from '../../lib/db/la-tables.ts';

/** SSD tables in an order that satisfies their foreign keys. */
export const SSD_TABLES = LA_TABLES.filter((table) => table.startsWith('ssd_'));

/** Why an extract was refused, stable for scripts that read `mais ssd import --json`. */
export const IMPORT_PROBLEM_CODES = [
  'NO_FILES',
  'NOT_CSV',
  'UNKNOWN_COLUMN',
  'MISSING_COLUMN',
  'REQUIRED',
  'INVALID_DATE',
  'INVALID_NUMBER',
  'INVALID_NHS_NUMBER',
  'UNKNOWN_PERSON',
  'DUPLICATE_ID',
  'STORE_REFUSED',
] as const;
export type ImportProblemCode = (typeof IMPORT_PROBLEM_CODES)[number];

export interface ImportProblem {
  file: string;
  line: number;
  code: ImportProblemCode;
  message: string;
}

export interface ImportResult {
  loaded: Record<string, number>;
  problems: ImportProblem[];
}

interface Column {
  name: string;
  type: 'date' | 'integer' | 'float' | 'text';
  nullable: boolean;
}

/** The store's own columns for a table, from information_schema: the importer follows the schema. */
async function columnsOf(prisma: LocalClient, table: string): Promise<Map<string, Column>> {
  const rows = await prisma.$queryRawUnsafe<{ column_name: string; data_type: string; is_nullable: string }[]>(
    'SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
    table,
  );
  return new Map(
    rows.map((r) => [
      r.column_name,
      {
        name: r.column_name,
        type: r.data_type === 'date' || r.data_type.startsWith('timestamp') ? 'date' : r.data_type === 'integer' || r.data_type === 'bigint' ? 'integer' : r.data_type === 'double precision' || r.data_type === 'numeric' || r.data_type === 'real' ? 'float' : 'text',
        nullable: r.is_nullable === 'YES',
      },
    ]),
  );
}

/** yyyy-mm-dd, yyyy-mm-ddThh:mm[:ss], or dd/mm/yyyy (as SSD extracts from SQL Server and Excel come). */
function parseDate(value: string): Date | undefined {
  let y: number, m: number, d: number;
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+Z?)?$/.exec(value);
  const uk = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value);
  if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (uk) [y, m, d] = [Number(uk[3]), Number(uk[2]), Number(uk[1])];
  else return undefined;
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? date : undefined;
}

/** Columns that hold an NHS number (SSD: "Common Child Identifier (NHS Number)"). */
const NHS_NUMBER_COLUMNS = new Set(['pers_common_child_id']);
/** A bad value as a problem quotes it: up to 60 characters. */
const quote = (value: string) => (value.length > 60 ? `${value.slice(0, 60)}…` : value);

function convert(column: Column, raw: string): { value: unknown } | { code: ImportProblemCode; error: string } {
  const value = raw.trim();
  const quoted = quote(value);
  if (value === '' || value.toUpperCase() === 'NULL') return column.nullable ? { value: null } : { code: 'REQUIRED', error: `${column.name} is required` };
  if (column.type === 'date') {
    const date = parseDate(value);
    return date ? { value: date } : { code: 'INVALID_DATE', error: `${column.name}: '${quoted}' is not a date (yyyy-mm-dd or dd/mm/yyyy)` };
  }
  if (column.type === 'integer') return /^-?\d{1,15}$/.test(value) ? { value: Number(value) } : { code: 'INVALID_NUMBER', error: `${column.name}: '${quoted}' is not a whole number` };
  if (column.type === 'float') return /^-?\d+(\.\d+)?$/.test(value) && Number.isFinite(Number(value)) ? { value: Number(value) } : { code: 'INVALID_NUMBER', error: `${column.name}: '${quoted}' is not a number` };
  if (NHS_NUMBER_COLUMNS.has(column.name)) return isValidNhsNumber(value) ? { value: normaliseNhsNumber(value) } : { code: 'INVALID_NHS_NUMBER', error: `${column.name}: '${quoted}' is not a valid NHS number` };
  return { value };
}

const PERSON_REFERENCE = /_person_id$/;

export async function importSsd(prisma: LocalClient, folder: string, options: { replace?: boolean } = {}): Promise<ImportResult> {
  const problems: ImportProblem[] = [];
  const rows = new Map<string, { line: number; data: Record<string, unknown> }[]>();
  const personIds = new Set<string>();
  const files = SSD_TABLES.filter((table) => existsSync(join(folder, `${table}.csv`)));
  if (files.length === 0) return { loaded: {}, problems: [{ file: folder, line: 0, code: 'NO_FILES', message: `no SSD files (${SSD_TABLES.map((t) => `${t}.csv`).join(', ')})` }] };

  for (const table of files) {
    const file = `${table}.csv`;
    const columns = await columnsOf(prisma, table);
    const parser = createReadStream(join(folder, file)).pipe(parse({ columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), info: true, skip_empty_lines: true, bom: true }));
    const loaded: { line: number; data: Record<string, unknown> }[] = [];
    let headerChecked = false;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        if (!headerChecked) {
          headerChecked = true;
          for (const name of Object.keys(record)) if (!columns.has(name)) problems.push({ file, line: 1, code: 'UNKNOWN_COLUMN', message: `unknown column ${name} for ${table}` });
          for (const column of columns.values()) if (!column.nullable && !(column.name in record)) problems.push({ file, line: 1, code: 'MISSING_COLUMN', message: `missing required column ${column.name}` });
        }
        const row: Record<string, unknown> = {};
        for (const [name, raw] of Object.entries(record)) {
          const column = columns.get(name);
          if (!column) continue;
          const converted = convert(column, raw);
          if ('error' in converted) problems.push({ file, line: info.lines, code: converted.code, message: converted.error });
          else row[name] = converted.value;
        }
        loaded.push({ line: info.lines, data: row });
        if (table === 'ssd_person' && typeof row.pers_person_id === 'string') personIds.add(row.pers_person_id);
      }
    } catch (error) {
      problems.push({ file, line: 0, code: 'NOT_CSV', message: `not readable as CSV: ${error instanceof Error ? error.message : String(error)}` });
    }
    rows.set(table, loaded);
  }

  // Every record about a person must name a person in the extract (or, when adding, in the store).
  const known = options.replace ? personIds : new Set([...personIds, ...(await prisma.ssd_person.findMany({ select: { pers_person_id: true } })).map((p) => p.pers_person_id)]);
  for (const [table, loaded] of rows) {
    if (table === 'ssd_person') continue;
    for (const { line, data } of loaded) {
      for (const [name, value] of Object.entries(data)) {
        if (PERSON_REFERENCE.test(name) && typeof value === 'string' && !known.has(value)) {
          problems.push({ file: `${table}.csv`, line, code: 'UNKNOWN_PERSON', message: `${name} '${quote(value)}' is not a person in this extract or the store` });
        }
      }
    }
  }
  if (problems.length > 0) return { loaded: {}, problems: problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line) };

  const counts: Record<string, number> = {};
  let current = '';
  try {
    await prisma.$transaction(
    async (tx) => {
      if (options.replace) {
        for (const table of [...SSD_TABLES].reverse()) {
          if (table === 'ssd_professionals') await tx.la_user.updateMany({ data: { prof_professional_id: null } });
          await (tx as unknown as Record<string, { deleteMany(): Promise<unknown> }>)[table]!.deleteMany();
        }
      }
      for (const [table, loaded] of rows) {
        current = table;
        const model = (tx as unknown as Record<string, { createMany(args: { data: Record<string, unknown>[] }): Promise<unknown> }>)[table]!;
        for (let i = 0; i < loaded.length; i += 1000) await model.createMany({ data: loaded.slice(i, i + 1000).map((row) => row.data) });
        counts[table] = loaded.length;
      }
    },
    { timeout: 30 * 60_000, maxWait: 60_000 },
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    const duplicate = code === 'P2002';
    const message = duplicate
      ? 'a row has the same id as one already in the store: nothing was loaded (use --replace to load the extract in place of what is there)'
      : `the store refused the load, and nothing was loaded: ${error instanceof Error ? error.message.split('\n').filter(Boolean).at(-1) : String(error)}`;
    return { loaded: {}, problems: [{ file: `${current}.csv`, line: 0, code: duplicate ? 'DUPLICATE_ID' : 'STORE_REFUSED', message }] };
  }
  return { loaded: counts, problems: [] };
}
