// The csc subgraph's SDL: the shared scalars and directives, the csc contract, and its own additions.
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

export const cscSdl = [
  read('./schema.graphql'),
  read('../../schema/common.graphql'),
  read('../../schema/directives.graphql'),
  read('../../schema/contracts/csc.graphql'),
].join('\n');

export const cscTypeDefs = parse(cscSdl);
