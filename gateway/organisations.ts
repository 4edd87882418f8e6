// DfE's organisation registry as a service holds it: every organisation (code, name, type, status,
// scopes, public keys), reloaded when the store's fingerprint of the table changes, so a suspension
// or a new key counts on the next check while an unchanged registry costs one small row.
import type { JSONWebKeySet } from 'jose';
import type { SqlSession } from '../lib/db/sql.ts';
import type { OrganisationType } from '../lib/dsa/policy.ts';
import type { Organisation } from '../lib/organisation-credential.ts';

export class OrganisationRegistry {
  organisations = new Map<string, Organisation>();
  private stamp: string | null | undefined = undefined;

  get(code: string): Organisation | undefined {
    return this.organisations.get(code);
  }

  /** One check of the table; reloads it only when its fingerprint changed. */
  async refresh(db: SqlSession): Promise<void> {
    const [stamp] = await db.query<{ stamp: string | null }>(
      `SELECT md5(string_agg(code || status || coalesce(jwks::text, '') || array_to_string(scopes, ',') || array_to_string(systems, ',') || name || type || coalesce(sharing_url, ''), '|' ORDER BY code)) AS stamp FROM organisation`,
    );
    if (stamp!.stamp === this.stamp) return;
    const rows = await db.query<{ code: string; name: string; type: OrganisationType; status: 'ACTIVE' | 'SUSPENDED'; scopes: string[] | null; systems: string[] | null; jwks: JSONWebKeySet | null; sharing_url: string | null }>(
      'SELECT code, name, type, status, scopes, systems, jwks, sharing_url FROM organisation',
    );
    const previous = this.organisations;
    this.organisations = new Map(
      rows.map((row) => {
        const known = previous.get(row.code)?.jwks;
        // Keep the same key-set object while it is unchanged, so its imported keys stay cached.
        const jwks = known && JSON.stringify(known) === JSON.stringify(row.jwks) ? known : row.jwks;
        const { sharing_url: sharingUrl, ...rest } = row;
        return [row.code, { ...rest, scopes: row.scopes ?? [], systems: row.systems ?? [], jwks, sharingUrl }];
      }),
    );
    this.stamp = stamp!.stamp;
  }
}
