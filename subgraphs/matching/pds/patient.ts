// A PDS Patient resource read into the demographics MATCH and the single view use.

export interface FhirPatient {
  id: string;
  meta?: { versionId?: string; security?: { code?: string }[] };
  name?: { use?: string; given?: string[]; family?: string; period?: { start?: string; end?: string } }[];
  gender?: string;
  birthDate?: string;
  deceasedDateTime?: string;
  address?: { use?: string; line?: string[]; postalCode?: string; period?: { start?: string; end?: string } }[];
  generalPractitioner?: { identifier?: { value?: string } }[];
}

export interface Patient {
  nhsNumber: string;
  givenNames: string[];
  familyName: string | null;
  /** Family names the patient was known by before (PDS's name history, when it returned it). */
  previousFamilyNames: string[];
  gender: string | null;
  birthDate: string | null;
  deathDate: string | null;
  /** The current home address; null for a restricted patient or when none is held. */
  address: { lines: string[]; postcode: string | null } | null;
  /** Postcodes of earlier home addresses (ended), when PDS returned them; empty for a restricted patient. */
  previousPostcodes: string[];
  gpOdsCode: string | null;
  restricted: boolean;
}

export function patientFromFhir(resource: FhirPatient): Patient {
  const usual = resource.name?.find((n) => n.use === 'usual') ?? resource.name?.[0];
  // The current home address: the home address with no end, else the one that ended last. Every other
  // home or old address is an earlier one (PDS marks them by period.end; some sources by use: old).
  const homes = (resource.address ?? []).filter((a) => (a.use ?? 'home') === 'home');
  const home = homes.find((a) => a.period?.end === undefined) ?? [...homes].sort((a, b) => (b.period?.end ?? '').localeCompare(a.period?.end ?? ''))[0];
  const earlier = (resource.address ?? []).filter((a) => a !== home && (a.use === 'old' || (a.use ?? 'home') === 'home'));
  return {
    nhsNumber: resource.id,
    givenNames: usual?.given ?? [],
    familyName: usual?.family ?? null,
    previousFamilyNames: [...new Set((resource.name ?? []).filter((n) => n !== usual && (n.use === 'old' || n.period?.end !== undefined) && n.family && n.family !== usual?.family).map((n) => n.family!))],
    gender: resource.gender ?? null,
    birthDate: resource.birthDate ?? null,
    deathDate: resource.deceasedDateTime?.slice(0, 10) ?? null,
    address: home ? { lines: home.line ?? [], postcode: home.postalCode ?? null } : null,
    previousPostcodes: [...new Set(earlier.filter((a) => a.postalCode).map((a) => a.postalCode!))],
    gpOdsCode: resource.generalPractitioner?.[0]?.identifier?.value ?? null,
    restricted: (resource.meta?.security ?? []).some((s) => s.code === 'R' || s.code === 'V'),
  };
}
