// `mais registry publish|check|history|fetch-supergraph`: an organisation's subgraphs in DfE's schema
// registry, reached through DfE's gateway with the organisation's DfE token for mais:dfe:registry.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { JWK } from 'jose';
import { DfeTokenError, useDfeTokenClient } from '../lib/dfe-token.ts';
import { dfeUrls, loadSandboxConfig, sandboxPaths } from '../sandbox/config.ts';
import { CommandError, printResult } from './output.ts';

interface Connection {
  org: string;
  key?: string;
  gatewayUrl?: string;
}

interface Reason {
  kind: string;
  message: string;
}

interface CheckReply {
  ok: boolean;
  reasons: Reason[];
  forced: Reason[];
  affects: string[];
  version?: number;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CommandError(`cannot read ${what} ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** Calls the registry as the organisation, with a DfE token got with its key. */
async function registryCall(connection: Connection, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const config = loadSandboxConfig();
  const gateway = connection.gatewayUrl ?? dfeUrls(config).issuer;
  const privateKey = JSON.parse(readText(connection.key ?? sandboxPaths(config).credentialKey(connection.org), `${connection.org}'s DfE credential key`)) as JWK;
  let token: string;
  try {
    token = await useDfeTokenClient({ tokenUrl: `${gateway}/oauth2/token`, organisation: connection.org, privateKey, resource: 'mais:dfe:registry' }).token();
  } catch (error) {
    if (error instanceof DfeTokenError) throw new CommandError(error.message);
    throw error;
  }
  try {
    return await fetch(`${gateway}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new CommandError(`DfE's gateway at ${gateway} did not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const connectionOptions = (command: Command) =>
  command
    .requiredOption('--org <code>', 'the organisation (its code in DfE’s registry)')
    .option('--key <file>', "the organisation's DfE credential private key, a JWK (default: the sandbox's)")
    .option('--gateway-url <url>', "DfE's gateway (default: the sandbox's)")
    .option('--json', 'print as JSON');

function describeCheck(reply: CheckReply, verb: string): string {
  if (!reply.ok) return [`refused (${reply.reasons.length} reason${reply.reasons.length === 1 ? '' : 's'}):`, ...reply.reasons.map((r) => `  ${r.kind}: ${r.message}`)].join('\n');
  const lines = [`${verb}${reply.version ? ` as version ${reply.version}` : ''}; supergraphs affected: ${reply.affects.join(', ') || 'none'}`];
  for (const r of reply.forced) lines.push(`  forced past ${r.kind}: ${r.message}`);
  return lines.join('\n');
}

function publishCommand(name: 'publish' | 'check'): Command {
  return connectionOptions(
    new Command(name)
      .description(name === 'publish' ? 'check a subgraph schema and, if it passes, publish it and recompose the supergraphs it affects' : 'run every publish check without saving anything')
      .requiredOption('--name <subgraph>', 'the subgraph name')
      .requiredOption('--url <url>', 'where routers reach the subgraph')
      .requiredOption('--schema <file>', 'the subgraph SDL')
      .option('--force', 'publish despite breaking changes (recorded; never despite anything else)'),
  ).action(async (options: Connection & { name: string; url: string; schema: string; force?: boolean; json?: boolean }) => {
    const sdl = readText(options.schema, 'the schema');
    const response = await registryCall(options, 'POST', `/registry/${name}`, { body: { name: options.name, url: options.url, sdl, force: options.force === true } });
    const reply = (await response.json().catch(() => null)) as CheckReply | { errors?: { message: string }[] } | null;
    if (!reply || !('ok' in reply)) throw new CommandError(`the registry answered ${response.status}: ${(reply as { errors?: { message: string }[] } | null)?.errors?.[0]?.message ?? 'no result'}`);
    printResult(reply, options.json ?? false, () => describeCheck(reply, name === 'publish' ? 'published' : 'passes every check'));
    if (!reply.ok) process.exitCode = 1;
  });
}

export function registryCommand(): Command {
  const registry = new Command('registry').description("DfE's schema registry: an organisation's subgraphs, checked and composed with DfE's");
  registry.addCommand(publishCommand('publish'));
  registry.addCommand(publishCommand('check'));
  registry.addCommand(
    connectionOptions(new Command('history').description('every version the organisation has published, newest first').option('--name <subgraph>', 'one subgraph only')).action(
      async (options: Connection & { name?: string; json?: boolean }) => {
        const response = await registryCall(options, 'GET', `/registry/history${options.name ? `?name=${encodeURIComponent(options.name)}` : ''}`);
        if (!response.ok) throw new CommandError(`the registry answered ${response.status}`);
        const rows = (await response.json()) as { subgraph: string; version: number; url: string; forced: boolean; publishedBy: string; publishedAt: string }[];
        printResult(rows, options.json ?? false, () => rows.map((r) => `${r.publishedAt}  ${r.subgraph} v${r.version}  ${r.url}  by ${r.publishedBy}${r.forced ? '  (breaking changes forced)' : ''}`).join('\n') || 'nothing published');
      },
    ),
  );
  registry.addCommand(
    connectionOptions(new Command('fetch-supergraph').description("the organisation's current supergraph, as its router takes it")).action(async (options: Connection & { json?: boolean }) => {
      const response = await registryCall(options, 'GET', '/registry/supergraph', { headers: { accept: 'text/plain' } });
      if (response.status === 404) throw new CommandError(`no supergraph has been composed for ${options.org} yet: publish its subgraphs first`);
      if (!response.ok) throw new CommandError(`the registry answered ${response.status}`);
      const sdl = await response.text();
      printResult({ etag: response.headers.get('etag'), supergraph: sdl }, options.json ?? false, () => sdl.trimEnd());
    }),
  );
  return registry;
}
