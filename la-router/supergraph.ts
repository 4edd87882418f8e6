// Where the router's supergraph comes from: DfE's schema registry (polled with If-None-Match, swapped in
// without dropping requests, the last good one kept on disk so a restart works while DfE is out of
// reach), a supergraph file, or composition at start from the configured subgraphs (offline and
// development).
import type { DfeCredential } from './data-source.ts';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { IntrospectAndCompose, type SupergraphManager, type SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from 'pino';

export interface RegistrySource {
  url: string;
  pollMs: number;
  /** The last good supergraph, kept for a restart while the registry cannot be reached. */
  cacheFile: string;
  /** The LA's credential for the registry, when it asks for one. */
  credential?: DfeCredential | null;
}

export type SupergraphSource = { file: string } | { subgraphs: { name: string; url: string }[] } | { registry: RegistrySource };

export class SupergraphUnavailableError extends Error {
  override name = 'SupergraphUnavailableError';
}

function keep(file: string, sdl: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, sdl);
  renameSync(`${file}.tmp`, file);
}

export function registrySupergraph(source: RegistrySource, logger?: Logger): SupergraphSdlHook {
  return async ({ update }) => {
    let etag: string | undefined;
    const fetchSupergraph = async (): Promise<string | null> => {
      const headers: Record<string, string> = { accept: 'text/plain' };
      if (etag) headers['if-none-match'] = etag;
      if (source.credential) headers.authorization = `Bearer ${await source.credential.token()}`;
      const response = await fetch(source.url, { headers, signal: AbortSignal.timeout(10_000) });
      if (response.status === 304) return null;
      if (!response.ok) throw new SupergraphUnavailableError(`the registry answered ${response.status}`);
      etag = response.headers.get('etag') ?? undefined;
      return response.text();
    };
    let current: string;
    try {
      current = (await fetchSupergraph())!;
      keep(source.cacheFile, current);
    } catch (error) {
      if (!existsSync(source.cacheFile)) throw new SupergraphUnavailableError(`no supergraph: the registry cannot be reached (${error instanceof Error ? error.message : String(error)}) and none is kept at ${source.cacheFile}`);
      logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'registry unreachable: serving the last good supergraph');
      current = readFileSync(source.cacheFile, 'utf8');
    }
    let polling = false;
    const timer = setInterval(async () => {
      if (polling) return;
      polling = true;
      try {
        const next = await fetchSupergraph();
        if (next !== null && next !== current) {
          update(next); // throws for a supergraph the gateway cannot use; the current one stays
          current = next;
          keep(source.cacheFile, next);
          logger?.info('new supergraph from the registry');
        }
      } catch (error) {
        logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'registry poll failed: keeping the current supergraph');
      } finally {
        polling = false;
      }
    }, source.pollMs);
    timer.unref();
    return { supergraphSdl: current, cleanup: async () => clearInterval(timer) };
  };
}

export function supergraphFrom(source: SupergraphSource, logger?: Logger): string | SupergraphManager | SupergraphSdlHook {
  if ('file' in source) return readFileSync(source.file, 'utf8');
  if ('registry' in source) return registrySupergraph(source.registry, logger);
  return new IntrospectAndCompose({ subgraphs: source.subgraphs });
}
