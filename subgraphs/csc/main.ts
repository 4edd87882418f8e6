// The csc subgraph service for one LA: `--la <code>`, its store, and the LA router's public keys.
import { runLaSubgraph } from '../la-common/la-subgraph.ts';
import { createCscService } from './service.ts';

await runLaSubgraph('csc', 4101, (parts) => createCscService(parts));
