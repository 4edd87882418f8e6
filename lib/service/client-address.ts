// The address a request came from, for limits that apply before anyone is known (unauthenticated
// requests). Behind a load balancer or an ingress every request arrives from the proxy, so the
// operator names the proxies it trusts (`trustedProxies`: addresses or CIDR ranges, or `loopback`,
// `linklocal`, `uniquelocal`); their X-Forwarded-For is believed, nobody else's (proxy-addr, as Express
// does). An IPv6 client is counted by its /64, which one household or host is given whole.
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import ipaddr from 'ipaddr.js';

export type TrustProxy = (address: string, hop: number) => boolean;

export class TrustedProxiesError extends Error {
  override name = 'TrustedProxiesError';
}

/** Compiles the trusted proxies' list, refusing what is not an address, a range or one of proxy-addr's names. */
export function trustProxies(trusted: readonly string[]): TrustProxy {
  try {
    return proxyaddr.compile([...trusted]);
  } catch (error) {
    throw new TrustedProxiesError(`trusted proxies: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The client's address (an IPv6 one as its /64), or `unknown` for a socket that has none. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  if (!req.socket.remoteAddress) return 'unknown';
  let address: string;
  try {
    address = proxyaddr(req, trust);
  } catch {
    return 'unknown';
  }
  if (!ipaddr.isValid(address)) return 'unknown';
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
    return `${v6.parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
  }
  return parsed.toString();
}
