// The one addition the stock gateways need to call the LA's subgraphs: an internal token for each call,
// as the LA router signs them (used once, bound to the child the request is about). The bench gives the
// router's key and the full-view claims in BENCH_SIGNING, and names each request's child in the
// `x-bench-child` header.
import { useInternalTokenSigner, type InternalClaims } from '../../lib/internal-token.ts';

export const CHILD_HEADER = 'x-bench-child';

export function benchTokens(): (subgraph: string, child: string | null | undefined) => Promise<string> {
  const { key, issuer, la, claims } = JSON.parse(process.env.BENCH_SIGNING ?? '{}') as { key: never; issuer: string; la: string; claims: InternalClaims };
  const signer = useInternalTokenSigner({ issuer, privateKey: key });
  return (subgraph, child) => signer.sign(`${la}/${subgraph}`, { ...claims, ...(child ? { child } : {}) });
}
