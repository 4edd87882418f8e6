// `npm start`: the whole sandbox on this machine. Generates a synthetic population on first start,
// starts each service as its own process, prints where each one is, and stops them all on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { populationPaths } from './population/generate.ts';
import { SANDBOX_LAS } from './population/places.ts';
import { startService, stopService, type ChildService, type ServiceSpec } from '../lib/service/supervisor.ts';
import { MATCH_PDS_APPLICATION, dfeUrls, loadSandboxConfig, sandboxPaths, type SandboxConfig } from './config.ts';
import { INTERNAL_TOKEN_ALG } from '../lib/internal-token.ts';
import { routerNodeFlags } from '../la-router/config.ts';
import { ensureApplicationKey } from './keys.ts';
import { ensureOrganisations, SANDBOX_SHARING_MODES, sandboxAgreement } from './organisations.ts';
import { ensurePopulation } from './population/cache.ts';
import { ensurePseudonymKeys, syncLaRegister } from './register.ts';
import { publishSandboxSchemas } from './schemas.ts';
import type { SandboxState } from './state.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** How often a service may stop unexpectedly in a minute and be started again. */
const RESTARTS_PER_MINUTE = 5;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function registerPdsApplications(config: SandboxConfig): Promise<void> {
  const paths = sandboxPaths(config);
  const key = await ensureApplicationKey(paths.secrets, MATCH_PDS_APPLICATION);
  const applications = [{ apiKey: MATCH_PDS_APPLICATION, name: 'DfE MATCH', jwks: { keys: [key.publicJwk] }, accessMode: 'application-restricted' }];
  writeFileSync(paths.pdsApplications, `${JSON.stringify(applications, null, 2)}\n`);
}

/** MATCH's receipt key; the LAs' csc subgraphs get the public half, to link only on MATCH's word. */
async function ensureMatchReceiptKey(config: SandboxConfig): Promise<void> {
  const paths = sandboxPaths(config);
  const key = await ensureApplicationKey(paths.secrets, 'dfe-match-receipts', 'ES256');
  writeFileSync(paths.matchReceiptJwks, `${JSON.stringify({ keys: [key.publicJwk] }, null, 2)}\n`);
}

/** Each LA router's signing key for internal tokens; its subgraphs get the public half. */
async function ensureRouterKeys(config: SandboxConfig): Promise<void> {
  const paths = sandboxPaths(config);
  for (const la of SANDBOX_LAS) {
    const key = await ensureApplicationKey(paths.secrets, `${la.code}-router`, INTERNAL_TOKEN_ALG);
    writeFileSync(paths.routerJwks(la.code), `${JSON.stringify({ keys: [key.publicJwk] }, null, 2)}\n`);
  }
}

export const routerIssuer = (la: string) => `mais-router:${la}`;

/** Each LA identity provider's signing key and its `mais token` client secret, made on first start. */
async function ensureIdentityProviderSecrets(config: SandboxConfig): Promise<void> {
  const paths = sandboxPaths(config);
  for (const la of SANDBOX_LAS) {
    await ensureApplicationKey(paths.secrets, `${la.code}-idp`, 'ES256');
    if (!existsSync(paths.idpCliSecret(la.code))) writeFileSync(paths.idpCliSecret(la.code), randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
}

/** The bearer token the routers' and the gateway's /metrics ask for, made on first start. */
function ensureMetricsToken(config: SandboxConfig): void {
  const path = sandboxPaths(config).metricsToken;
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
}

/** What a service with metrics is started with: the sandbox's token, and no listener of its own. */
const metricsEnv = (config: SandboxConfig) => ({ MAIS_METRICS_TOKEN: readFileSync(sandboxPaths(config).metricsToken, 'utf8').trim(), MAIS_METRICS_LISTEN: '' });

/** Services that depend on the stores: started once the stores answer. */
function dependentSpecs(config: SandboxConfig, stores: Map<string, string>): ServiceSpec[] {
  const paths = sandboxPaths(config);
  const dfe = dfeUrls(config);
  const gateway: ServiceSpec = {
    name: 'DfE gateway',
    main: join(here, '..', 'gateway', 'main.ts'),
    args: [
      '--host', config.host, '--port', String(config.ports.gateway), '--database-url', stores.get('central store')!, '--signing-key', paths.gatewayKey,
      '--service', `locator=http://${config.host}:${config.ports.locator}/graphql`, '--service', `matching=http://${config.host}:${config.ports.matching}/graphql`,
      // The relay runs in the gateway and needs DfE's pseudonym keys for its audit and FIND's pointers.
      '--pseudonym-keys', paths.pseudonymKeys,
      '--rate-limit', String(config.gatewayRateLimit),
    ],
    env: metricsEnv(config),
  };
  const locator: ServiceSpec = {
    name: 'locator subgraph',
    main: join(here, '..', 'subgraphs', 'locator', 'main.ts'),
    args: [
      '--host', config.host, '--port', String(config.ports.locator), '--database-url', stores.get('central store')!, '--pseudonym-keys', paths.pseudonymKeys,
      '--dfe-issuer', dfe.issuer, '--dfe-jwks', dfe.jwks,
    ],
  };
  // MATCH writes DfE's central audit under the child's pseudonym.
  const matching: ServiceSpec = {
    name: 'matching subgraph',
    main: join(here, '..', 'subgraphs', 'matching', 'main.ts'),
    args: [
      '--host', config.host,
      '--port', String(config.ports.matching),
      '--pds', `http://${config.host}:${config.ports.pds}/personal-demographics/FHIR/R4`,
      '--pds-token-url', `http://${config.host}:${config.ports.pds}/oauth2/token`,
      '--pds-api-key', MATCH_PDS_APPLICATION,
      '--pds-private-key', join(paths.secrets, `${MATCH_PDS_APPLICATION}.private.jwk.json`),
      '--pds-rate-limit', String(config.pdsRateLimit),
      '--dfe-issuer', dfe.issuer,
      '--dfe-jwks', dfe.jwks,
      '--database-url', stores.get('central store')!, '--pseudonym-keys', paths.pseudonymKeys,
      '--receipt-key', paths.matchReceiptKey,
    ],
    // Its /metrics (PDS calls by organisation) with the same token as the routers' and the gateway's.
    env: metricsEnv(config),
  };
  const idps: ServiceSpec[] = SANDBOX_LAS.map((la) => ({
    name: `${la.code} identity provider`,
    main: join(here, 'idp', 'main.ts'),
    args: [
      '--la', la.code, '--host', config.host, '--port', String(config.ports.idps[la.code]), '--database-url', stores.get(`${la.code} store`)!,
      '--signing-key', paths.idpKey(la.code), '--cli-secret', paths.idpCliSecret(la.code), '--audience', routerIssuer(la.code),
      '--portal-redirect', `http://${config.host}:${config.ports.routers[la.code]}/portal/callback`,
    ],
  }));
  return [gateway, locator, matching, ...idps, ...SANDBOX_LAS.flatMap((la) =>
    (['csc', 'education'] as const).map((kind) => ({
      name: `${la.code} ${kind} subgraph`,
      main: join(here, '..', 'subgraphs', kind, 'main.ts'),
      args: [
        '--la', la.code,
        '--host', config.host,
        '--port', String(config.ports[kind][la.code]),
        '--database-url', stores.get(`${la.code} store`)!,
        '--router-issuer', routerIssuer(la.code),
        '--router-jwks', paths.routerJwks(la.code),
        '--as-of', config.asOf,
        ...(kind === 'csc' ? ['--match-receipt-jwks', paths.matchReceiptJwks] : []),
      ],
    })),
  )];
}

/** Each LA's router, configured over its own subgraphs and DfE's, once they all answer. */
function routerSpecs(config: SandboxConfig, stores: Map<string, string>): ServiceSpec[] {
  const paths = sandboxPaths(config);
  const at = (port: number | undefined) => `http://${config.host}:${port}/graphql`;
  return SANDBOX_LAS.map((la) => {
    const routerConfig = {
      la: la.code,
      host: config.host,
      port: config.ports.routers[la.code],
      mode: 'development',
      rateLimitPerMinute: config.routerRateLimit,
      searchAlerts: { threshold: config.searchAlertThreshold, windowSeconds: 3600 },
      subgraphs: [
        { name: 'csc', url: at(config.ports.csc[la.code]), kind: 'la' },
        { name: 'education', url: at(config.ports.education[la.code]), kind: 'la' },
        // DfE's services only through DfE's gateway.
        { name: 'matching', url: dfeUrls(config).service('matching'), kind: 'dfe' },
        { name: 'locator', url: dfeUrls(config).service('locator'), kind: 'dfe' },
        { name: 'relay', url: dfeUrls(config).service('relay'), kind: 'dfe' },
      ],
      // The supergraph from DfE's schema registry, kept on disk for a restart while DfE is out of reach.
      supergraph: { registry: { url: dfeUrls(config).supergraph, pollMs: 5000, cacheFile: join(config.dataDir, `${la.code}-supergraph.graphql`) } },
      internalTokenKey: join(paths.secrets, `${la.code}-router.private.jwk.json`),
      dfeCredential: { organisation: la.code, key: paths.credentialKey(la.code), tokenUrl: dfeUrls(config).token },
      database: { url: stores.get(`${la.code} store`)! },
      oidc: { issuer: `http://${config.host}:${config.ports.idps[la.code]}`, audience: routerIssuer(la.code) },
      portal: { clientId: 'mais-portal' },
      // The sharing endpoint checks the LA's own agreement: the one the sandbox publishes to DfE for it.
      sharing: { agreement: paths.agreement(la.code), dfeIssuer: dfeUrls(config).issuer, dfeJwks: dfeUrls(config).jwks, mode: SANDBOX_SHARING_MODES[la.code] ?? 'push' },
    };
    if (!existsSync(paths.agreement(la.code))) writeFileSync(paths.agreement(la.code), `${JSON.stringify(sandboxAgreement(la.code), null, 2)}\n`);
    writeFileSync(paths.routerConfig(la.code), `${JSON.stringify(routerConfig, null, 2)}\n`);
    return { name: `${la.code} router`, main: join(here, '..', 'la-router', 'main.ts'), args: ['--config', paths.routerConfig(la.code)], nodeFlags: routerNodeFlags(), env: metricsEnv(config) };
  });
}

function serviceSpecs(config: SandboxConfig, populationDir: string): ServiceSpec[] {
  const paths = sandboxPaths(config);
  const storeHost = join(here, 'store-host.ts');
  const store = (name: string, kind: 'central' | 'local', port: number): ServiceSpec => ({
    name: `${name} store`,
    main: storeHost,
    args: [
      '--name', name, '--kind', kind, '--data-dir', paths.store(name), '--host', config.host, '--port', String(port), '--population', populationDir,
      ...(kind === 'central' ? ['--organisations', paths.organisations] : []),
    ],
  });
  return [
    {
      name: 'PDS sandbox',
      main: join(here, 'pds', 'main.ts'),
      args: [
        '--patients', populationPaths(populationDir).patients,
        '--host', config.host,
        '--port', String(config.ports.pds),
        '--rate-limit', String(config.pdsRateLimit),
        '--applications', paths.pdsApplications,
      ],
    },
    store('central', 'central', config.ports.centralStore),
    ...SANDBOX_LAS.map((la) => store(la.code, 'local', config.ports.laStores[la.code]!)),
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reset: { type: 'boolean', default: false } } });
  const config = loadSandboxConfig();
  const paths = sandboxPaths(config);
  if (values.reset) {
    log(`--reset: removing ${config.dataDir}`);
    rmSync(config.dataDir, { recursive: true, force: true });
  }
  mkdirSync(config.dataDir, { recursive: true });
  // The stores' processes copy an empty PGlite cluster kept here rather than each initialise one.
  process.env.MAIS_PGLITE_TEMPLATE_DIR ??= join(config.dataDir, 'cache');
  const population = await ensurePopulation(config, log);
  await registerPdsApplications(config);
  await ensureRouterKeys(config);
  await ensureMatchReceiptKey(config);
  // Push-mode LAs register their router's sharing endpoint with DfE.
  const sharingUrls = Object.fromEntries(SANDBOX_LAS.filter((la) => SANDBOX_SHARING_MODES[la.code] === 'push').map((la) => [la.code, `http://${config.host}:${config.ports.routers[la.code]}/share/graphql`]));
  writeFileSync(paths.organisations, `${JSON.stringify(await ensureOrganisations(paths.secrets, sharingUrls), null, 2)}\n`);
  ensurePseudonymKeys(config);
  await ensureIdentityProviderSecrets(config);
  await ensureApplicationKey(paths.secrets, 'dfe-gateway', 'ES256');
  ensureMetricsToken(config);

  const services: ChildService[] = [];
  const specsByName = new Map<string, ServiceSpec>();
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(services.map((service) => stopService(service)));
    rmSync(paths.state, { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // Whoever started the sandbox is gone (killed without passing on a signal): stop rather than linger.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, 1000).unref();

  const startAll = async (specs: ServiceSpec[]): Promise<boolean> => {
    const started = await Promise.allSettled(specs.map((spec) => startService(spec)));
    for (const [i, result] of started.entries()) {
      if (result.status === 'fulfilled') {
        services.push(result.value);
        specsByName.set(result.value.name, specs[i]!);
      }
    }
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) log(failed.reason instanceof Error ? failed.reason.message : String(failed.reason));
    return !failed;
  };
  if (!(await startAll(serviceSpecs(config, population.dir)))) return stopAll(1);
  const stores = new Map(services.filter((s) => s.name.endsWith(' store')).map((s) => [s.name, s.url]));
  if (!(await startAll(dependentSpecs(config, stores)))) return stopAll(1);
  try {
    for (const la of SANDBOX_LAS) {
      const report = await syncLaRegister(config, la.code, { dataDir: paths.store(la.code), databaseUrl: stores.get(`${la.code} store`)! }, { locatorUrl: dfeUrls(config).service('locator'), tokenUrl: dfeUrls(config).token });
      log(`${la.code}: FIND register sync: ${report.registered} registered, ${report.retired} retired, ${report.unchanged} unchanged`);
    }
  } catch (error) {
    log(`FIND register sync failed: ${error instanceof Error ? error.message : String(error)}`);
    return stopAll(1);
  }
  try {
    log(`schema registry: ${(await publishSandboxSchemas(config)).join(', ')}`);
  } catch (error) {
    log(`publishing the sandbox's schemas failed: ${error instanceof Error ? error.message : String(error)}`);
    return stopAll(1);
  }
  if (!(await startAll(routerSpecs(config, stores)))) return stopAll(1);
  const startedAt = new Date().toISOString();
  const writeState = () => {
    const state: SandboxState = { pid: process.pid, startedAt, services: services.map(({ name, url, pid }) => ({ name, url, pid })) };
    // Written beside it and renamed into place, so a reader (`mais demo`, a script) never sees half of it.
    writeFileSync(`${paths.state}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${paths.state}.tmp`, paths.state);
  };
  // A service that stops unexpectedly is started again, as a cluster would: after a second, then after
  // twice as long each time it stops or cannot start again (a store it needs restarting too, say). One
  // that stops RESTARTS_PER_MINUTE times in a minute stops the sandbox.
  const restarts = new Map<string, number[]>();
  const startAgain = (name: string, replacing: ChildService, why: string) => {
    const recent = (restarts.get(name) ?? []).filter((at) => Date.now() - at < 60_000);
    if (recent.length >= RESTARTS_PER_MINUTE) {
      log(`${name} ${why} ${recent.length + 1} times in a minute; stopping the sandbox`);
      return void stopAll(1);
    }
    restarts.set(name, [...recent, Date.now()]);
    log(`${name} ${why}; starting it again`);
    setTimeout(() => {
      if (stopping) return;
      startService(specsByName.get(name)!).then(
        (again) => {
          if (stopping) return void stopService(again);
          services[services.indexOf(replacing)] = again;
          writeState();
          supervise(again);
          log(`${name} started again`);
        },
        (error: unknown) => startAgain(name, replacing, `could not be started again (${error instanceof Error ? error.message : String(error)})`),
      );
    }, 1000 * 2 ** recent.length);
  };
  const supervise = (service: ChildService) => {
    service.process.once('exit', (code, signal) => {
      if (!stopping) startAgain(service.name, service, `stopped unexpectedly (${signal ?? `code ${code}`})`);
    });
  };
  for (const service of services) supervise(service);
  writeState();

  // Each LA's portal, served by its router.
  const lines = [...services.map((service) => [service.name, service.url] as const), ...SANDBOX_LAS.map((la) => [`${la.code} portal`, `http://${config.host}:${config.ports.routers[la.code]}/portal`] as const)];
  const width = Math.max(...lines.map(([name]) => name.length));
  for (const [name, url] of lines) process.stdout.write(`${name.padEnd(width)}  ${url}\n`);
  process.stdout.write(`metrics (routers, gateway)  GET /metrics with Authorization: Bearer <the token in ${paths.metricsToken}>\n`);
  process.stdout.write(`MAIS sandbox ready (data in ${config.dataDir}; Ctrl-C stops it)\n`);
}

main().catch((error: unknown) => {
  log(`sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
