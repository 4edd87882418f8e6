// The router's policy for every request, one ordered piece: collect what the operation executes, decide
// what the caller may see of the one child it is about, withhold what the purpose and that decision do
// not permit, and audit what was read before the answer leaves. Each step is a function of its own
// (executed.ts, decide.ts, minimise.ts, audit.ts); here they run in order, with one rewrite of the
// operation handed to the gateway and one cache of rewrites.
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { AuditWriter } from '../../lib/audit/chain.ts';
import { permits } from '../categories.ts';
import type { RouterContext } from '../context.ts';
import { lookupsOf, takeFound, withAuditIdentifiers, writeAudit } from './audit.ts';
import { decideRequest, decisionFor, type DecideOptions } from './decide.ts';
import { executedFields } from './executed.ts';
import { answerWithheld, withholdFields, type Withheld } from './minimise.ts';

export interface PolicyOptions extends DecideOptions {
  /** Each purpose's data categories. */
  purposes: Record<string, string[]>;
  /** `Type.field` → data category, of the supergraph served now. */
  categories: () => Map<string, string>;
  audit: AuditWriter;
  onWrite?: (ok: boolean) => void;
  onFailure?: (error: unknown) => void;
  /** Told of each request's searches and matches, once they are audited (for the volume watch). */
  onLookups?: (context: RouterContext, lookups: NonNullable<RouterContext['lookups']>) => Promise<void>;
}

interface Rewrite {
  document: DocumentNode;
  hash: string;
  withheld: Withheld[];
}

/**
 * The operation each request hands the gateway, by the executed operation's hash and what shapes its
 * rewrite (the purpose and decision, or its searches). A new supergraph brings a new categories map, and
 * a new cache.
 */
class RewriteCache {
  private entries = new WeakMap<Map<string, string>, Map<string, Rewrite>>();

  get(categories: Map<string, string>, key: string, make: () => Rewrite): Rewrite {
    let cache = this.entries.get(categories);
    if (!cache) this.entries.set(categories, (cache = new Map()));
    let rewrite = cache.get(key);
    if (!rewrite) {
      rewrite = make();
      if (cache.size >= 1000) cache.clear();
      cache.set(key, rewrite);
    }
    return rewrite;
  }
}

export function usePolicy(options: PolicyOptions): ApolloServerPlugin<RouterContext> {
  const rewrites = new RewriteCache();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const { operation, document, request, contextValue, schema } = requestContext;
          if (!operation || !document || !contextValue.caller) return;
          // 1. Collect: what will execute, however the operation spells it.
          const executed = executedFields(schema, document, operation, request.variables ?? {});
          // 2. Decide: one purpose, at most one child (noted before deciding, so a refusal is audited too).
          const decided = decideRequest(executed, contextValue, options);
          contextValue.purpose = decided.purpose;
          if (decided.child) contextValue.child = decided.child;
          contextValue.decision = await decisionFor(decided, contextValue, options);
          if (decided.lookups) contextValue.lookups = lookupsOf(executed);
          // 3. Withhold what the purpose and decision do not permit; or add whom each search returns, for the audit.
          const base = executed.document ?? { document, hash: requestContext.queryHash };
          const categories = options.categories();
          // A link answers with the record it linked; a view of a child is withheld from.
          const view = decided.child && decided.child.action !== 'LINK';
          // A restricted child's summary says nothing of where else the child is known (find.*).
          const restricted = view && contextValue.decision === 'SUMMARY' && (await options.restrictions?.isRestricted(decided.child!.nhsNumber)) === true;
          const shape = view ? `child|${contextValue.purpose}|${contextValue.decision}${restricted ? '|restricted' : ''}` : decided.lookups ? 'lookups' : 'none';
          const rewrite = rewrites.get(categories, `${base.hash}|${operation.name?.value ?? ''}|${shape}`, () => {
            if (view) {
              const allowed = (category: string) =>
                restricted && category.startsWith('find.') ? { allowed: false, reason: 'relationship' as const } : permits({ purposes: options.purposes, purpose: contextValue.purpose, decision: contextValue.decision }, category);
              const { document: next, withheld } = withholdFields(schema, base.document, allowed, categories);
              return withheld.length === 0 ? { ...base, withheld } : { document: next, hash: hashOf(next), withheld };
            }
            if (decided.lookups) {
              const next = withAuditIdentifiers(base.document);
              return { document: next, hash: hashOf(next), withheld: [] };
            }
            return { ...base, withheld: [] };
          });
          contextValue.withheldFields = rewrite.withheld;
          contextValue.withheld = rewrite.withheld.map((w) => w.path.join('.'));
          if (rewrite.document !== document) {
            // The gateway plans by the query's hash: the operation handed on is a different query.
            const mutable = requestContext as unknown as { document: DocumentNode; queryHash: string; operation: OperationDefinitionNode };
            mutable.document = rewrite.document;
            mutable.queryHash = rewrite.hash;
            mutable.operation = rewrite.document.definitions[0] as OperationDefinitionNode;
          }
        },
        // 4. Audit, then answer: the audit's own aliases out, each withheld field null with its reason.
        async willSendResponse({ response, contextValue, errors }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const found = contextValue.lookups ? takeFound(body?.data, contextValue.lookups) : null;
          if (body) answerWithheld(body, contextValue.withheldFields ?? []);
          // A search that matched more than its limit says so: refine it rather than page through the register.
          if (body?.data && contextValue.moreResults) body.extensions = { ...body.extensions, moreResults: contextValue.moreResults };
          const { written, error } = await writeAudit(options.audit, contextValue, body, errors, found);
          if (written || error !== undefined) options.onWrite?.(written);
          if (error !== undefined) options.onFailure?.(error);
          if (contextValue.lookups?.length) await options.onLookups?.(contextValue, contextValue.lookups);
        },
      };
    },
  };
}

const hashOf = (document: DocumentNode) => createHash('sha256').update(print(document)).digest('hex');
