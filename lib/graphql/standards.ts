// A subgraph's SDL built on the standards: its own schema (the @link header and any additions), the
// shared scalars and directives, and the contract of its source kind, read from schema/.
import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';

const standard = (path: string) => readFileSync(new URL(`../../schema/${path}`, import.meta.url), 'utf8');

export function subgraphSdl(ownSchema: URL, contract?: 'csc' | 'education'): { sdl: string; typeDefs: DocumentNode } {
  const parts = [readFileSync(ownSchema, 'utf8'), standard('common.graphql'), standard('directives.graphql'), ...(contract ? [standard(`contracts/${contract}.graphql`)] : [])];
  const sdl = parts.join('\n');
  return { sdl, typeDefs: parse(sdl) };
}
