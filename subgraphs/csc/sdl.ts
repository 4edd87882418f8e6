// The csc subgraph's SDL: the shared scalars and directives, the csc contract, and its own additions.
import { subgraphSdl } from '../../lib/graphql/standards.ts';

export const { sdl: cscSdl, typeDefs: cscTypeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url), 'csc');
