// The Dockerfile and the Kubernetes manifests (deploy/kubernetes/{dfe,la}), checked as an operator's
// cluster and a reviewer would: every object valid against the Kubernetes API schemas; every Deployment
// several replicas, non-root, read-only root filesystem, probes on /health and /ready, resource limits, a
// Service and a PodDisruptionBudget; secrets only from Secrets; each container's flags ones its service
// accepts, its image a Dockerfile target exposing its port; the router's configuration valid; and the
// NetworkPolicies allowing exactly the documented hops between the services, nothing else.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseRouterConfig } from '../../la-router/config.ts';
import { DsaPolicy } from '../../lib/dsa/policy.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MODELS: Record<string, new (value: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
};

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

function manifests(dir: string): { files: string[]; objects: K8sObject[] } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const objects = files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject;
    }),
  );
  return { files, objects };
}

/** The Dockerfile's stages: base, exposed port, entrypoint and user (inherited from the stage it builds on). */
function dockerStages(): Map<string, { from: string; expose?: number; entrypoint?: string[]; user?: string }> {
  const stages = new Map<string, { from: string; expose?: number; entrypoint?: string[]; user?: string }>();
  let current: { from: string; expose?: number; entrypoint?: string[]; user?: string } | undefined;
  for (const line of readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n')) {
    const from = /^FROM (\S+) AS (\S+)$/.exec(line);
    if (from) {
      const base = stages.get(from[1]!);
      current = { from: from[1]!, ...(base?.user ? { user: base.user } : {}), ...(base?.entrypoint ? { entrypoint: base.entrypoint } : {}) };
      stages.set(from[2]!, current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith('EXPOSE ')) current.expose = Number(line.slice(7));
    if (line.startsWith('USER ')) current.user = line.slice(5).trim();
    if (line.startsWith('ENTRYPOINT ')) current.entrypoint = JSON.parse(line.slice(11)) as string[];
  }
  return stages;
}

/** The long options a service's entrypoint accepts (node:util parseArgs options, or commander options). */
function acceptedFlags(entry: string): Set<string> {
  const files = entry.endsWith('subgraphs/csc/main.ts') || entry.endsWith('subgraphs/education/main.ts') ? ['subgraphs/la-common/la-subgraph.ts'] : entry === 'cli/main.ts' ? ['cli/db.ts'] : [entry];
  const flags = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type: '(string|boolean)'/gm)) flags.add(match[1]!);
    for (const match of text.matchAll(/(?:\.option|\.requiredOption|new Option)\('--([a-z][a-z-]*)/g)) flags.add(match[1]!);
  }
  return flags;
}

const matchesSelector = (selector: any, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector?.matchExpressions ?? []).every((e: any) => (e.operator === 'In' ? e.values.includes(labels[e.key]) : e.operator === 'NotIn' ? !e.values.includes(labels[e.key]) : e.operator === 'Exists' ? e.key in labels : !(e.key in labels)));

/** Whether a policy peer (`from`/`to` item) covers a pod of this namespace; ipBlocks are taken to mean outside the cluster. */
const peerCovers = (peer: any, labels: Record<string, string>) => !peer.ipBlock && (peer.podSelector ? matchesSelector(peer.podSelector, labels) : peer.namespaceSelector !== undefined);

/** Kubernetes NetworkPolicy semantics for one direction of a hop between two pods of one namespace. */
function allows(policies: K8sObject[], direction: 'Ingress' | 'Egress', pod: Record<string, string>, peer: Record<string, string>, port: number): boolean {
  const selecting = policies.filter((p) => matchesSelector(p.spec.podSelector, pod) && (p.spec.policyTypes ?? ['Ingress']).includes(direction));
  if (selecting.length === 0) return true;
  const rules = selecting.flatMap((p) => p.spec[direction === 'Ingress' ? 'ingress' : 'egress'] ?? []);
  return rules.some((rule: any) => {
    const peers = rule[direction === 'Ingress' ? 'from' : 'to'];
    const peerOk = !peers || peers.some((p: any) => peerCovers(p, peer));
    const portOk = !rule.ports || rule.ports.some((p: any) => p.port === port);
    return peerOk && portOk;
  });
}

const SETS = [
  {
    name: 'dfe',
    kind: 'central',
    // gateway → DfE's subgraphs; locator and MATCH → the gateway's JWKS (docs/deployment.md).
    hops: ['gateway→locator:4002', 'gateway→matching:4001', 'locator→gateway:4000', 'matching→gateway:4000'],
  },
  { name: 'la', kind: 'local', hops: ['router→csc:4101', 'router→education:4102'] },
];

describe.each(SETS)('deploy/kubernetes/$name', ({ name, kind, hops }) => {
  const dir = join(root, 'deploy', 'kubernetes', name);
  const { files, objects } = manifests(dir);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const stages = dockerStages();

  it('lists every manifest in its kustomization, and each object is valid against the Kubernetes API schema', () => {
    const kustomization = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[]; namespace: string };
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
    expect(objects.find((o) => o.kind === 'Namespace')?.metadata.name).toBe(kustomization.namespace);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${object.kind} ${object.metadata.name}: a kind this test knows`).toBeDefined();
      expect(() => new Model!(object as never).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
    expect(deployments.length).toBeGreaterThanOrEqual(3);
  });

  it('runs every service as several non-root replicas on a read-only root filesystem, with probes, limits, a Service and a disruption budget', () => {
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const pod = deployment.spec.template.spec;
      const labels = deployment.spec.template.metadata.labels;
      expect(deployment.spec.replicas, name).toBeGreaterThanOrEqual(2);
      expect(matchesSelector(deployment.spec.selector, labels), name).toBe(true);
      expect(pod.securityContext, name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken, name).toBe(false);
      expect(pod.volumes.find((v: any) => v.name === 'tmp')?.emptyDir, `${name}: /tmp is the only writable place`).toBeDefined();
      for (const container of pod.containers) {
        expect(container.securityContext, name).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(container.volumeMounts.find((m: any) => m.name === 'tmp')?.mountPath, name).toBe('/tmp');
        for (const resource of ['cpu', 'memory']) {
          expect(container.resources.requests[resource], `${name} ${resource} request`).toBeDefined();
          expect(container.resources.limits[resource], `${name} ${resource} limit`).toBeDefined();
        }
        const http = container.ports.find((p: any) => p.name === 'http');
        expect(container.readinessProbe.httpGet, name).toEqual({ path: '/ready', port: 'http' });
        expect(container.livenessProbe.httpGet, name).toEqual({ path: '/health', port: 'http' });
        const service = objects.find((o) => o.kind === 'Service' && matchesSelector({ matchLabels: o.spec.selector }, labels));
        expect(service, `${name}: a Service`).toBeDefined();
        expect(service!.spec.ports.some((p: any) => p.targetPort === 'http' || p.targetPort === http.containerPort), name).toBe(true);
        const budget = objects.find((o) => o.kind === 'PodDisruptionBudget' && matchesSelector(o.spec.selector, labels));
        expect(budget?.spec.minAvailable ?? budget?.spec.maxUnavailable, `${name}: a PodDisruptionBudget`).toBeDefined();
      }
    }
  });

  it('takes secrets from Secrets only, never as literal values', () => {
    const pods = [...deployments, ...objects.filter((o) => o.kind === 'Job')].map((o) => o.spec.template.spec);
    for (const container of pods.flatMap((p) => p.containers)) {
      for (const variable of container.env ?? []) {
        if (/KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL/.test(variable.name)) expect(variable.valueFrom?.secretKeyRef, variable.name).toBeDefined();
      }
      for (const arg of container.args ?? []) expect(arg, 'no credentials in arguments').not.toMatch(/:\/\/[^/@\s]+:[^/@\s]+@/);
    }
    for (const pod of pods) for (const volume of pod.volumes ?? []) if (/key/.test(volume.name)) expect(volume.secret, volume.name).toBeDefined();
  });

  it('runs each container from a Dockerfile target that exposes its port, with flags its service accepts', () => {
    const runtime = stages.get('runtime');
    expect(runtime?.user, 'the runtime stage drops root').toBe('node');
    expect(stages.get('build')?.from).toMatch(/^node:\d+\.\d+\.\d+-/);
    const pods = [...deployments, ...objects.filter((o) => o.kind === 'Job')];
    for (const object of pods) {
      for (const container of object.spec.template.spec.containers) {
        const target = /^mais-([a-z-]+):\d+\.\d+\.\d+$/.exec(container.image)?.[1];
        const stage = target ? stages.get(target) : undefined;
        expect(stage, `${container.image}: a Dockerfile target`).toBeDefined();
        expect(stage!.from).toBe('runtime');
        expect(stage!.user).toBe('node');
        const entry = stage!.entrypoint!.find((part) => part.endsWith('.ts'))!;
        expect(existsSync(join(root, entry)), entry).toBe(true);
        if (object.kind === 'Deployment') {
          expect(stage!.expose, container.image).toBe(container.ports[0].containerPort);
          expect(stage!.entrypoint!.join(' '), `${container.image} listens beyond loopback`).toMatch(/--host 0\.0\.0\.0/);
        }
        const accepted = acceptedFlags(entry);
        for (const arg of container.args ?? []) {
          const flag = /^--([a-z-]+)/.exec(arg)?.[1];
          if (flag) expect(accepted.has(flag), `${container.image}: --${flag} (${entry} accepts ${[...accepted].join(', ')})`).toBe(true);
        }
      }
    }
    const migrate = objects.find((o) => o.kind === 'Job')!;
    expect(migrate.spec.template.spec.containers[0].args.join(' ')).toContain(`--kind ${kind}`);
  });

  it('allows exactly the documented hops between its services, and denies everything else by default', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && p.spec.policyTypes.includes('Egress') && !p.spec.ingress && !p.spec.egress), 'a default deny').toBe(true);
    const pods = [...deployments, ...objects.filter((o) => o.kind === 'Job')].map((o) => ({
      name: o.spec.template.metadata.labels['app.kubernetes.io/name'] as string,
      labels: o.spec.template.metadata.labels as Record<string, string>,
      ports: o.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.containerPort as number)),
    }));
    const allowed: string[] = [];
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        for (const port of to.ports) {
          if (allows(policies, 'Egress', from.labels, to.labels, port) && allows(policies, 'Ingress', to.labels, from.labels, port)) allowed.push(`${from.name}→${to.name}:${port}`);
        }
      }
    }
    expect(allowed.sort()).toEqual([...hops].sort());
  });

  if (name === 'la') {
    it('configures the router validly: its port, its subgraphs at their Services, its agreement and the router keys its subgraphs trust', () => {
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'mais-router-config')!.data!;
      const router = parseRouterConfig(JSON.parse(config['router.json']!));
      const routerDeployment = deployments.find((d) => d.metadata.name === 'router')!;
      expect(router.port).toBe(routerDeployment.spec.template.spec.containers[0].ports[0].containerPort);
      expect(router.mode).toBe('production');
      for (const subgraph of router.subgraphs.filter((s) => s.kind === 'la')) {
        const url = new URL(subgraph.url);
        const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === url.hostname);
        expect(service?.spec.ports[0].port, subgraph.url).toBe(Number(url.port));
      }
      expect(() => DsaPolicy.compile(JSON.parse(config['agreement.json']!))).not.toThrow();
      expect((JSON.parse(config['router.jwks.json']!) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
      for (const subgraph of deployments.filter((d) => d.metadata.name !== 'router')) {
        expect(subgraph.spec.template.spec.containers[0].args).toContain(`--router-issuer=mais-router:${router.la}`);
        expect(subgraph.spec.template.spec.containers[0].args).toContain(`--la=${router.la}`);
      }
    });
  }
});
