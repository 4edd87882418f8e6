// Field usage for DfE's schema registry: the schema coordinates (Type.field) of every operation the
// router runs, counted and sent to the registry every so often, so its breaking-change check knows
// what is in use. Only coordinates and counts leave the router: no argument, variable or answer.
import { createRequire } from 'node:module';
import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { DfeCredential } from '../data-source.ts';

// The gateway's schema is built by @apollo/gateway with graphql's CommonJS build: walk it with the same.
const { getNamedType, TypeInfo, visit, visitWithTypeInfo } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** The output fields an operation selects, as Type.field. */
export function coordinatesOf(schema: GraphQLSchema, document: DocumentNode): string[] {
  const typeInfo = new TypeInfo(schema);
  const seen = new Set<string>();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent && field && !field.name.startsWith('__')) seen.add(`${getNamedType(parent).name}.${field.name}`);
      },
    }),
  );
  return [...seen];
}

export class UsageReporter {
  private counts = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly byOperation = new Map<string, string[]>();

  constructor(private readonly options: { url: string; credential: DfeCredential | null; intervalMs: number; logger: Logger }) {
    this.timer = setInterval(() => void this.flush(), options.intervalMs);
    this.timer.unref();
  }

  /** Counts one run of an operation (its coordinates worked out once per distinct operation). */
  count(key: string, schema: GraphQLSchema, document: DocumentNode): void {
    let coordinates = this.byOperation.get(key);
    if (!coordinates) {
      if (this.byOperation.size >= 1000) this.byOperation.clear();
      coordinates = coordinatesOf(schema, document);
      this.byOperation.set(key, coordinates);
    }
    for (const coordinate of coordinates) this.counts.set(coordinate, (this.counts.get(coordinate) ?? 0) + 1);
  }

  /** Sends what has been counted since the last report; keeps it for the next one if the registry cannot take it. */
  async flush(): Promise<void> {
    if (this.counts.size === 0) return;
    const sending = this.counts;
    this.counts = new Map();
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.options.credential) headers.authorization = `Bearer ${await this.options.credential.token()}`;
      const response = await fetch(this.options.url, { method: 'POST', headers, body: JSON.stringify({ fields: Object.fromEntries(sending) }), signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`the registry answered ${response.status}`);
    } catch (error) {
      for (const [coordinate, n] of sending) this.counts.set(coordinate, (this.counts.get(coordinate) ?? 0) + n);
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'field usage report failed: kept for the next one');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

export function useFieldUsage(reporter: UsageReporter): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, schema, queryHash, operationName }) {
          reporter.count(`${queryHash}:${operationName ?? ''}`, schema, document);
        },
      };
    },
  };
}
