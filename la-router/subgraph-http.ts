// How the router reaches its subgraphs over HTTP: undici's request API on one keep-alive connection
// pool per origin, answered as the small part of a fetch Response that RemoteGraphQLDataSource reads
// (ok, status, headers.get, json, text). Much less work per call than a full fetch implementation.
import { Agent, request } from 'undici';

class SubgraphResponse {
  readonly ok: boolean;
  readonly statusText = '';
  readonly headers: { get(name: string): string | null };

  constructor(
    readonly url: string,
    readonly status: number,
    raw: Record<string, string | string[] | undefined>,
    private readonly body: { text(): Promise<string> },
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = {
      get: (name) => {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  text(): Promise<string> {
    return this.body.text();
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.body.text());
  }
}

export interface SubgraphRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A fetch for subgraph calls: keeps `connections` sockets per subgraph open between requests. */
export function subgraphFetcher(options: { connections?: number; keepAliveMs?: number } = {}) {
  const dispatcher = new Agent({ connections: options.connections ?? 128, keepAliveTimeout: options.keepAliveMs ?? 4000 });
  const fetcher = async (url: string, init: SubgraphRequestInit = {}): Promise<SubgraphResponse> => {
    const { statusCode, headers, body } = await request(url, {
      method: (init.method ?? 'GET') as 'POST',
      headers: init.headers ?? {},
      body: init.body ?? null,
      signal: init.signal ?? null,
      dispatcher,
    });
    return new SubgraphResponse(url, statusCode, headers, body);
  };
  return Object.assign(fetcher, { close: () => dispatcher.close() });
}
