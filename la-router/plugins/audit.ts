// Every request about a child is audited in the LA's store before its answer leaves the router: who,
// their roles, the purpose, any break-glass reason, the child, which sources answered, which fields were
// withheld, the outcome and the trace id. If the entry cannot be written (the LA store restarting, say),
// the child's data is not sent: the answer names the audit unavailable, so the caller may try again.
import type { ApolloServerPlugin } from '@apollo/server';
import type { AuditWriter } from '../../lib/audit/chain.ts';
import type { RouterContext } from '../context.ts';

export function useAudit(options: { audit: AuditWriter; onWrite?: (ok: boolean) => void; onFailure?: (error: unknown) => void }): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue, errors }) {
          const child = contextValue.child;
          if (!child || !contextValue.caller) return;
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const resultErrors = [...(body?.errors ?? []), ...(errors ?? [])];
          const code = (e: { extensions?: Record<string, unknown> }) => e.extensions?.code;
          const refused = resultErrors.filter((e) => code(e) === 'FORBIDDEN').map((e) => ('path' in e && e.path ? e.path.join('.') : String(e.extensions?.field ?? '')));
          const withheld = [...new Set([...(contextValue.withheld ?? []), ...refused])].sort();
          const unavailable = [...contextValue.unavailable];
          const outcome = !body?.data ? (contextValue.decision === 'NONE' ? 'DENIED' : 'ERROR') : unavailable.length > 0 || withheld.length > 0 ? 'PARTIAL' : 'OK';
          try {
            await options.audit.append([
              {
                actor: contextValue.caller.username,
                roles: contextValue.caller.roles,
                purpose: contextValue.purpose,
                // A reason is the caller's text: U+0000, which no PostgreSQL text takes, is kept as U+FFFD so the
                // attempt is still audited (the request itself is refused as BAD_USER_INPUT).
                break_glass_reason: child.breakGlassReason?.replaceAll('\u0000', '\uFFFD') ?? null,
                nhs_number: child.nhsNumber,
                sources: { answered: [...contextValue.sources].sort(), unavailable: unavailable.sort(), decision: contextValue.decision, ...(child.action === 'LINK' ? { action: 'LINK' } : {}) },
                withheld,
                outcome,
                trace_id: contextValue.traceId,
              },
            ]);
            options.onWrite?.(true);
          } catch (error) {
            options.onWrite?.(false);
            options.onFailure?.(error);
            if (body) {
              body.data = null;
              body.errors = [{ message: 'The request could not be audited, so no data is returned', extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } }];
            }
          }
        },
      };
    },
  };
}
