// The controlled list of record types (schema/record-types.json): what FIND registers and what a
// data sharing agreement names.
import { readFileSync } from 'node:fs';

const file = JSON.parse(readFileSync(new URL('../schema/record-types.json', import.meta.url), 'utf8')) as { recordTypes: Record<string, string> };

/** Each record type with its description. */
export const RECORD_TYPES: ReadonlyMap<string, string> = new Map(Object.entries(file.recordTypes));

export const RECORD_FAMILIES: ReadonlySet<string> = new Set([...RECORD_TYPES.keys()].map((type) => type.slice(0, type.indexOf('.'))));

export const isRecordType = (value: string): boolean => RECORD_TYPES.has(value);

/** A record type, a whole family (`csc.*`) or every type (`*`), as a DSA rule may name them. */
export const isRecordTypePattern = (value: string): boolean =>
  value === '*' || isRecordType(value) || (value.endsWith('.*') && RECORD_FAMILIES.has(value.slice(0, -2)));
