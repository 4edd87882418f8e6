// The education subgraph's SDL: the shared scalars and directives and the education contract.
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

export const educationSdl = [
  read('./schema.graphql'),
  read('../../schema/common.graphql'),
  read('../../schema/directives.graphql'),
  read('../../schema/contracts/education.graphql'),
].join('\n');

export const educationTypeDefs = parse(educationSdl);
