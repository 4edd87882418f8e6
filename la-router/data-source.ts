// The one place a request to a subgraph is shaped: the internal token for the LA's own subgraphs, the
// LA's DfE credential and the declared purpose for DfE's, W3C trace context, and a deadline that is the
// sooner of the subgraph's own and what is left of the request's. A source that fails or runs out of
// time becomes SOURCE_UNAVAILABLE naming it; the rest of the query still answers.
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { useInternalTokenSigner } from '../lib/internal-token.ts';
import { sourceUnavailable } from '../lib/graphql/errors.ts';
import { newTraceId, setTraceparent } from '../lib/trace-context.ts';
import { CALLER_HEADER, PURPOSE_HEADER, TIMEOUT_HEADER } from '../schema/headers.ts';
import type { RouterContext } from './context.ts';
import type { SubgraphRequestInit } from './subgraph-http.ts';
import { unavailableEntities, type FieldShapes } from './unavailable-entities.ts';

export interface SubgraphSpec {
  name: string;
  url: string;
  /** `la`: this LA's own subgraph (internal token); `dfe`: a DfE service (the LA's DfE credential). */
  kind: 'la' | 'dfe';
  /** This subgraph's own deadline (ms); the request's deadline applies too. */
  deadlineMs?: number;
}

/** The LA's DfE access token for one DfE service (lib/dfe-token.ts). */
export interface DfeCredential {
  token(): Promise<string>;
  /** Drops a token the service refused, so the next call fetches another. */
  forget?(): void;
}

export interface DataSourceDeps {
  la: string;
  internalToken: ReturnType<typeof useInternalTokenSigner>;
  /** The LA's credential for a DfE service (audience `mais:dfe:<subgraph>`), or null where none is configured. */
  dfeCredential: ((audience: string) => DfeCredential) | null;
  defaultDeadlineMs: number;
  /** How subgraphs are called over HTTP (la-router/subgraph-http.ts); RemoteGraphQLDataSource's own fetch when absent. */
  fetcher?: (url: string, init?: SubgraphRequestInit) => Promise<unknown>;
  /** Observes each fetch's latency and outcome. */
  observe?: (subgraph: string, outcome: 'ok' | 'error', seconds: number) => void;
  /** Consecutive failures that open the circuit, and how long it stays open before one probe. */
  circuitBreaker?: { failures: number; openMs: number };
  /** Each purpose's data categories (the router's `purposes`), carried in every internal token. */
  purposes?: Record<string, string[]>;
  /** The supergraph's field shapes, so an unavailable source's entities stand in without taking their parent down. */
  fieldShapes?: () => FieldShapes;
}

const DEADLINE_HEADER = 'x-mais-deadline';

export class MaisDataSource extends RemoteGraphQLDataSource<RouterContext> {
  private readonly credential: DfeCredential | null;
  // Circuit breaker: a source that keeps failing is not called until openUntil, then probed once.
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly spec: SubgraphSpec,
    private readonly deps: DataSourceDeps,
  ) {
    super({ url: spec.url, ...(deps.fetcher ? { fetcher: deps.fetcher as never } : {}) });
    this.credential = spec.kind === 'dfe' && deps.dfeCredential ? deps.dfeCredential(`mais:dfe:${spec.name}`) : null;
    const fetcher = this.fetcher;
    // The deadline travels from willSendRequest to here in a header that never leaves the router.
    this.fetcher = (url, init) => {
      const headers = new Headers(init?.headers as Record<string, string>);
      const deadline = Number(headers.get(DEADLINE_HEADER) ?? Date.now() + deps.defaultDeadlineMs);
      headers.delete(DEADLINE_HEADER);
      const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
      return fetcher(url, { ...init, headers: Object.fromEntries(headers), signal: signal as never });
    };
  }

  override async process(options: GraphQLDataSourceProcessOptions<RouterContext>) {
    const started = performance.now();
    try {
      const response = await super.process(options);
      const more = response.extensions?.moreResults as { fields?: unknown; limit?: unknown } | undefined;
      if (more && options.kind === 'incoming operation' && Array.isArray(more.fields) && typeof more.limit === 'number') {
        const context = options.context as RouterContext;
        context.moreResults = { fields: [...(context.moreResults?.fields ?? []), ...more.fields.filter((f): f is string => typeof f === 'string')], limit: more.limit };
      }
      // A source that answered but failed inside (its own store restarting, say) is unavailable as much
      // as one that did not answer: entities it could not give stand in, named SOURCE_UNAVAILABLE.
      const failedInside = response.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || e.extensions?.code === 'SOURCE_UNAVAILABLE');
      const given = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
      if (failedInside && (!Array.isArray(given) || given.includes(null))) {
        const standIn = this.standIn(options, sourceUnavailable(this.spec.name, `${this.spec.name} could not answer`));
        if (standIn) {
          const context = options.kind === 'incoming operation' ? (options.context as RouterContext) : null;
          context?.unavailable?.add(this.spec.name);
          this.deps.observe?.(this.spec.name, 'error', (performance.now() - started) / 1000);
          return { data: { _entities: standIn.data._entities.map((entity, i) => given?.[i] ?? entity) }, errors: standIn.errors } as never;
        }
      }
      this.deps.observe?.(this.spec.name, 'ok', (performance.now() - started) / 1000);
      return response;
    } catch (error) {
      this.deps.observe?.(this.spec.name, 'error', (performance.now() - started) / 1000);
      const standIn = error instanceof GraphQLError && error.extensions?.code === 'SOURCE_UNAVAILABLE' ? this.standIn(options, error) : null;
      if (standIn) return standIn as never;
      throw error;
    }
  }

  /** Each requested entity's stand-in beside `error`, for an entity fetch this source could not answer; null otherwise. */
  private standIn(options: GraphQLDataSourceProcessOptions<RouterContext>, error: GraphQLError) {
    return this.deps.fieldShapes ? unavailableEntities(options.request.query ?? '', options.request.variables, this.deps.fieldShapes(), error) : null;
  }

  private unavailable(context: RouterContext | null, message: string): GraphQLError {
    context?.unavailable?.add(this.spec.name);
    return sourceUnavailable(this.spec.name, message);
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<RouterContext>): Promise<void> {
    const context = options.kind === 'incoming operation' ? (options.context as RouterContext) : null;
    if (this.openUntil > 0) {
      if (Date.now() < this.openUntil || this.probing) throw this.unavailable(context, `${this.spec.name} is failing; not asked for now`);
      this.probing = true;
    }
    try {
      await this.prepare(options, context);
    } catch (error) {
      // A probe that could not even be sent (DfE would not issue a token yet, say) ends here: the circuit
      // stays open for another period and the next one probes again. Left probing, the source would be
      // refused until the router restarted, though DfE reinstated the LA a second later.
      if (this.probing) {
        this.probing = false;
        this.openUntil = Date.now() + (this.deps.circuitBreaker ?? { failures: 5, openMs: 5000 }).openMs;
      }
      throw error;
    }
  }

  /** Sets the request's trace, deadline and credential: an internal token for the LA's own sources, a DfE token for DfE's. */
  private async prepare(options: GraphQLDataSourceProcessOptions<RouterContext>, context: RouterContext | null): Promise<void> {
    const headers = options.request.http!.headers;
    setTraceparent(headers, context?.traceId ?? newTraceId());
    const own = Date.now() + (this.spec.deadlineMs ?? this.deps.defaultDeadlineMs);
    const deadline = Math.min(own, context?.deadline ?? own);
    headers.set(DEADLINE_HEADER, String(deadline));
    if (this.spec.kind === 'la') {
      // One token for this call: bound to the request's child, its trace, and its deadline, used once.
      const claims = {
        sub: context?.caller?.username ?? `router:${this.deps.la}`,
        roles: context?.caller?.roles ?? [],
        purpose: context?.purpose ?? 'NONE',
        decision: context?.decision ?? 'NONE',
        ...(context?.traceId ? { traceId: context.traceId } : {}),
        ...(context?.child ? { child: context.child.nhsNumber } : {}),
        // What the purpose permits, for the subgraph's own check of each field's category.
        categories: context?.purpose ? (this.deps.purposes?.[context.purpose] ?? []) : [],
      };
      headers.set('authorization', `Bearer ${await this.deps.internalToken.sign(`${this.deps.la}/${this.spec.name}`, claims, context?.deadline)}`);
    } else {
      if (this.credential) {
        let token: string;
        try {
          token = await this.credential.token();
        } catch {
          // DfE would not issue this LA a token (suspended, or its key replaced): DfE's sources are unavailable.
          throw this.unavailable(context, `${this.spec.name} is unavailable: DfE did not issue this LA an access token`);
        }
        headers.set('authorization', `Bearer ${token}`);
      }
      if (context?.purpose) headers.set(PURPOSE_HEADER, context.purpose);
      // Whose share of DfE's PDS allowance the call spends (MATCH shares it between an LA's caseworkers), and
      // how long this router waits: a call MATCH cannot send to PDS in that time is refused RATE_LIMITED at
      // once rather than left to time out, which would count against the source.
      if (context?.caller) headers.set(CALLER_HEADER, this.deps.internalToken.callerName(context.caller.username));
      headers.set(TIMEOUT_HEADER, String(Math.max(1, deadline - Date.now())));
    }
  }

  override didReceiveResponse<T>(options: { response: T; context: RouterContext }): T {
    options.context.sources?.add(this.spec.name);
    this.failures = 0;
    this.openUntil = 0;
    this.probing = false;
    return options.response;
  }

  override didEncounterError(error: Error, _request?: unknown, response?: { status?: number }, context?: RouterContext): void {
    // The source refused the caller's input (a date that is not one, say; the supergraph's custom scalars
    // check nothing at the router): the caller's error, passed on as the source named it. Not the source
    // failing, so no caseworker's bad input can open the circuit for everyone.
    const refused = response?.status === 400 ? inputRefusal(error) : null;
    if (refused) throw refused;
    if (response?.status === 401) this.credential?.forget?.();
    const breaker = this.deps.circuitBreaker ?? { failures: 5, openMs: 5000 };
    this.failures++;
    this.probing = false;
    if (this.failures >= breaker.failures) this.openUntil = Date.now() + breaker.openMs;
    const timedOut = error.name === 'AbortError' || error.name === 'TimeoutError' || /aborted|timeout/i.test(error.message);
    throw this.unavailable(context ?? null, timedOut ? `${this.spec.name} did not answer in time` : `${this.spec.name} is unavailable`);
  }
}

const INPUT_CODES = new Set(['BAD_USER_INPUT', 'INVALID_NHS_NUMBER']);

/** The first input error a source's 400 answer names, as a GraphQL error for the caller; null when it names none. */
function inputRefusal(error: Error): GraphQLError | null {
  const body = (error as { extensions?: { response?: { body?: unknown } } }).extensions?.response?.body as { errors?: { message?: unknown; extensions?: { code?: unknown; field?: unknown } }[] } | undefined;
  const first = Array.isArray(body?.errors) ? body.errors.find((e) => INPUT_CODES.has(String(e.extensions?.code))) : undefined;
  if (!first) return null;
  const field = typeof first.extensions?.field === 'string' ? { field: first.extensions.field } : {};
  return new GraphQLError(typeof first.message === 'string' ? first.message : 'The input was refused', { extensions: { code: String(first.extensions!.code), ...field } });
}
