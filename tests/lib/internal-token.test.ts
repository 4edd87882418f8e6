// The internal token on its own: bound to one child and one request's deadline, and used once.
import fc from 'fast-check';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { useInternalTokenSigner, useInternalTokenVerifier } from '../../lib/internal-token.ts';

async function pair() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signer = useInternalTokenSigner({ issuer: 'mais-router:northshire', privateKey: { ...(await exportJWK(privateKey)), kid: 'k' } });
  const verifier = useInternalTokenVerifier({ issuer: 'mais-router:northshire', audience: 'northshire/csc', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] } });
  return { signer, verifier };
}
const claims = { sub: 'olivia.bailey', roles: ['csc.practitioner'], purpose: 'EARLY_HELP', decision: 'FULL' as const, traceId: 'a'.repeat(32) };

describe('the internal token', () => {
  it('names the child, the trace and its own id, lives no longer than the request, and is accepted once', async () => {
    const { signer, verifier } = await pair();
    await fc.assert(
      fc.asyncProperty(fc.option(fc.stringMatching(/^\d{10}$/), { nil: undefined }), fc.integer({ min: -5_000, max: 600_000 }), async (child, inMs) => {
        const until = Date.now() + inMs;
        const token = await signer.sign('northshire/csc', { ...claims, ...(child ? { child } : {}) }, until);
        const { exp, iat } = decodeJwt(token);
        // Never past the deadline (to the second), never past 60 s, and always after it was issued.
        expect(exp!).toBeLessThanOrEqual(Math.max(iat! + 1, Math.min(iat! + 60, Math.ceil(until / 1000))));
        expect(exp!).toBeGreaterThan(iat!);
        const verified = await verifier.verify(`Bearer ${token}`);
        expect(verified).toMatchObject({ sub: claims.sub, decision: 'FULL', traceId: claims.traceId, ...(child ? { child } : {}) });
        if (!child) expect(verified.child).toBeUndefined();
        await expect(verifier.verify(`Bearer ${token}`)).rejects.toThrow(/used before/);
      }),
      { numRuns: 30 },
    );
  });

  it('gives every token its own id', async () => {
    const { signer } = await pair();
    const ids = await Promise.all(Array.from({ length: 50 }, async () => decodeJwt(await signer.sign('northshire/csc', claims)).jti));
    expect(new Set(ids).size).toBe(50);
  });
});
