// A child as a FHIR R4 Patient in the shape NHS England's PDS FHIR API returns.
import { isoDay } from '../../lib/dates.ts';
import type { Address, Child } from './person.ts';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const VERIFICATION_STATUS = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

function nhsIdentifier(value: string) {
  return {
    system: NHS_NUMBER_SYSTEM,
    value,
    extension: [
      {
        url: VERIFICATION_STATUS,
        valueCodeableConcept: {
          coding: [
            {
              system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
              version: '1.0.0',
              code: '01',
              display: 'Number present and verified',
            },
          ],
        },
      },
    ],
  };
}

function fhirAddress(address: Address, id: string) {
  return {
    id,
    period: { start: isoDay(address.from), ...(address.to === undefined ? {} : { end: isoDay(address.to) }) },
    use: address.to === undefined ? 'home' : 'old',
    line: address.lines,
    postalCode: address.postcode,
  };
}

/** The national record of a registered child; its name history has periods, as PDS's has. */
export function patientResource(child: Child & { nhsNumber: string }) {
  const id = child.nhsNumber;
  const changed = child.previousFamily !== undefined && child.familyFrom !== undefined;
  const names: Record<string, unknown>[] = [
    { id: `${id}-n1`, use: 'usual', period: { start: isoDay(changed ? child.familyFrom! : child.birthDay) }, given: child.given, family: child.family },
  ];
  if (changed) {
    names.push({ id: `${id}-n0`, use: 'old', period: { start: isoDay(child.birthDay), end: isoDay(child.familyFrom! - 1) }, given: child.given, family: child.previousFamily });
  }
  return {
    resourceType: 'Patient',
    id,
    identifier: [nhsIdentifier(id)],
    meta: {
      versionId: '1',
      security: [
        child.restricted
          ? { system: CONFIDENTIALITY, code: 'R', display: 'restricted' }
          : { system: CONFIDENTIALITY, code: 'U', display: 'unrestricted' },
      ],
    },
    name: names,
    gender: child.gender,
    birthDate: isoDay(child.birthDay),
    ...(child.deathDay === undefined ? {} : { deceasedDateTime: `${isoDay(child.deathDay)}T00:00:00+00:00` }),
    address: [fhirAddress(child.address, `${id}-a1`), ...child.previousAddresses.map((a, i) => fhirAddress(a, `${id}-a${i + 2}`))],
    generalPractitioner: [
      { id: `${id}-gp`, type: 'Organization', identifier: { system: ODS_SYSTEM, value: child.gpOdsCode } },
    ],
    ...(child.phone ? { telecom: [{ id: `${id}-t1`, system: 'phone', value: child.phone.replace(/\s/g, ''), use: 'home' }] } : {}),
  };
}

/** The record left under a superseded NHS number: inactive, pointing at the number that replaced it. */
export function supersededResource(oldNumber: string, newNumber: string) {
  return {
    resourceType: 'Patient',
    id: oldNumber,
    identifier: [nhsIdentifier(oldNumber)],
    meta: { versionId: '1' },
    active: false,
    link: [{ type: 'replaced-by', other: { reference: `Patient/${newNumber}`, identifier: { system: NHS_NUMBER_SYSTEM, value: newNumber } } }],
  };
}
