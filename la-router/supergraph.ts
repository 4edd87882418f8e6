// Where the router's supergraph comes from: a supergraph file (as DfE's registry delivers it), or
// composition at start from the subgraphs listed in the configuration (offline and development).
import { readFileSync } from 'node:fs';
import { IntrospectAndCompose, type SupergraphSdlHook, type SupergraphManager } from '@apollo/gateway';

export type SupergraphSource = { file: string } | { subgraphs: { name: string; url: string }[] };

export function supergraphFrom(source: SupergraphSource): string | SupergraphManager | SupergraphSdlHook {
  if ('file' in source) return readFileSync(source.file, 'utf8');
  return new IntrospectAndCompose({ subgraphs: source.subgraphs });
}
