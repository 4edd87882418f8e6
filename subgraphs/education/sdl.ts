// The education subgraph's SDL: the shared scalars and directives and the education contract.
import { subgraphSdl } from '../../lib/graphql/standards.ts';

export const { sdl: educationSdl, typeDefs: educationTypeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url), 'education');
