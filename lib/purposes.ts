// The lawful purposes (the Purpose enum of schema/common.graphql), read from the standard itself.
import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';

const common = parse(readFileSync(new URL('../schema/common.graphql', import.meta.url), 'utf8'));
const purposeEnum = common.definitions.find((d) => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === 'Purpose');

export const PURPOSES: readonly string[] = purposeEnum?.kind === Kind.ENUM_TYPE_DEFINITION ? (purposeEnum.values ?? []).map((v) => v.name.value) : [];

export const isPurpose = (value: string): boolean => PURPOSES.includes(value);
