// The education subgraph service for one LA: `--la <code>`, its store, and the LA router's public keys.
import { runLaSubgraph } from '../la-common/la-subgraph.ts';
import { createEducationService } from './service.ts';

await runLaSubgraph('education', 4102, (parts) => createEducationService(parts));
