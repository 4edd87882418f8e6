// The sandbox's subgraphs in DfE's schema registry, published as organisations publish them (through
// DfE's gateway, with each organisation's DfE token): DfE's own (the router's subgraph, and MATCH, FIND
// and the relay, reached through the gateway) and each LA's (social care and education). The LA routers then take
// their supergraphs from the registry. Publishing what is already there changes nothing.
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { routerSdl } from '../la-router/local-subgraph.ts';
import { useDfeTokenClient } from '../lib/dfe-token.ts';
import { subgraphSdl } from '../lib/graphql/standards.ts';
import { SANDBOX_LAS } from './population/places.ts';
import { cscSdl } from '../subgraphs/csc/sdl.ts';
import { educationSdl } from '../subgraphs/education/sdl.ts';
import { dfeUrls, sandboxPaths, type SandboxConfig } from './config.ts';

const own = (subgraph: string) => subgraphSdl(new URL(`../subgraphs/${subgraph}/schema.graphql`, import.meta.url)).sdl;

/** The URL a router's supergraph names for its own, in-process subgraph (never called over HTTP). */
export const ROUTER_SUBGRAPH_URL = 'http://router.local/graphql';

export async function publishSandboxSchemas(config: SandboxConfig): Promise<string[]> {
  const dfe = dfeUrls(config);
  const paths = sandboxPaths(config);
  const at = (port: number | undefined) => `http://${config.host}:${port}/graphql`;
  const publications: { org: string; name: string; url: string; sdl: string }[] = [
    { org: 'dfe', name: 'router', url: ROUTER_SUBGRAPH_URL, sdl: routerSdl },
    { org: 'dfe', name: 'matching', url: dfe.service('matching'), sdl: own('matching') },
    { org: 'dfe', name: 'locator', url: dfe.service('locator'), sdl: own('locator') },
    { org: 'dfe', name: 'relay', url: dfe.service('relay'), sdl: own('relay') },
    ...SANDBOX_LAS.flatMap((la) => [
      { org: la.code, name: 'csc', url: at(config.ports.csc[la.code]), sdl: cscSdl },
      { org: la.code, name: 'education', url: at(config.ports.education[la.code]), sdl: educationSdl },
    ]),
  ];
  const lines: string[] = [];
  for (const p of publications) {
    const privateKey = JSON.parse(readFileSync(paths.credentialKey(p.org), 'utf8')) as JWK;
    const token = await useDfeTokenClient({ tokenUrl: dfe.token, organisation: p.org, privateKey, resource: 'mais:dfe:registry' }).token();
    const response = await fetch(`${dfe.issuer}/registry/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: p.name, url: p.url, sdl: p.sdl }),
    });
    const reply = (await response.json()) as { ok?: boolean; version?: number; unchanged?: boolean; reasons?: { message: string }[] };
    if (!reply.ok) throw new Error(`the registry refused ${p.org}'s ${p.name}: ${(reply.reasons ?? []).map((r) => r.message).join('; ') || `HTTP ${response.status}`}`);
    lines.push(`${p.org} ${p.name} v${reply.version}${reply.unchanged ? ' (unchanged)' : ''}`);
  }
  return lines;
}
