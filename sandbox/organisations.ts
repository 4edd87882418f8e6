// The organisations the sandbox's DfE knows: DfE itself and the sandbox LAs, each with a DfE
// credential key pair made on first start (private key in the data folder's secrets, public key in
// DfE's organisation registry), and each LA's data sharing agreement.
import type { JSONWebKeySet } from 'jose';
import type { DsaDocument, OrganisationType } from '../lib/dsa/policy.ts';
import { SANDBOX_LAS } from './population/places.ts';
import { ensureApplicationKey } from './keys.ts';

export interface SandboxOrganisation {
  code: string;
  name: string;
  type: OrganisationType;
  scopes: string[];
  /** The systems it registers records from at FIND. */
  systems?: string[];
  jwks: JSONWebKeySet;
  /** Its sharing endpoint for DfE's relay (push mode); null for an LA in pull mode. */
  sharingUrl?: string | null;
}

/** The file name (in the secrets folder) of an organisation's DfE credential key. */
export const credentialKeyName = (org: string) => `${org}-dfe`;

/**
 * How each sandbox LA's sharing endpoint is reached: northshire takes the relay's requests at its
 * router's /share/graphql (push), southshire keeps a connection open to the relay (pull), so the
 * sandbox shows both.
 */
export const SANDBOX_SHARING_MODES: Readonly<Record<string, 'push' | 'pull'>> = { northshire: 'push', southshire: 'pull' };

/** Every sandbox organisation with its DfE credential's public key; `sharingUrls` gives push-mode LAs' sharing endpoints. */
export async function ensureOrganisations(secretsDir: string, sharingUrls: Record<string, string> = {}): Promise<SandboxOrganisation[]> {
  const withKey = async (code: string, rest: Omit<SandboxOrganisation, 'code' | 'jwks'>): Promise<SandboxOrganisation> => {
    const key = await ensureApplicationKey(secretsDir, credentialKeyName(code), 'ES256');
    return { code, ...rest, jwks: { keys: [key.publicJwk] } };
  };
  return [
    await withKey('dfe', { name: 'Department for Education', type: 'DFE', scopes: ['find', 'registry', 'registry:admin', 'dsa:admin'] }),
    ...(await Promise.all(SANDBOX_LAS.map((la) => withKey(la.code, { name: la.name, type: 'LA', scopes: ['match', 'find', 'register', 'relay', 'registry'], systems: [`${la.code}-csc`, `${la.code}-education`], sharingUrl: sharingUrls[la.code] ?? null })))),
  ];
}

/**
 * A sandbox LA's agreement: other LAs may know what it holds and, for statutory safeguarding
 * purposes, receive its social care records; health may know of protection plans and care episodes
 * for a child protection enquiry; education records are not disclosed for early help.
 */
export function sandboxAgreement(source: string): DsaDocument {
  return {
    source,
    version: 1,
    defaults: [
      { id: 'las-know-existence', effect: 'ALLOW', destinations: { organisationTypes: ['LA'] }, recordTypes: ['csc.*', 'education.*'], modes: ['EXISTENCE'], purposes: ['*'] },
      {
        id: 'las-receive-social-care',
        effect: 'ALLOW',
        destinations: { organisationTypes: ['LA'] },
        recordTypes: ['csc.*'],
        modes: ['CONTENT'],
        purposes: ['CHILD_PROTECTION_ENQUIRY', 'CHILD_IN_NEED_ASSESSMENT', 'LOOKED_AFTER_CHILD_REVIEW'],
      },
      { id: 'health-knows-protection', effect: 'ALLOW', destinations: { organisationTypes: ['HEALTH'] }, recordTypes: ['csc.cp_plan', 'csc.looked_after'], modes: ['EXISTENCE'], purposes: ['CHILD_PROTECTION_ENQUIRY'] },
    ],
    exceptions: [{ id: 'no-education-for-early-help', effect: 'DENY', destinations: { organisationTypes: ['LA'] }, recordTypes: ['education.*'], modes: ['EXISTENCE', 'CONTENT'], purposes: ['EARLY_HELP'] }],
  };
}
