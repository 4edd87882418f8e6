// Demographics as a caseworker or an LA system holds them, validated before anything is sent to PDS.
import { dayOf, isoDay } from '../../lib/dates.ts';

export interface Demographics {
  givenName: string;
  familyName: string;
  /** yyyy-mm-dd */
  dateOfBirth: string;
  gender?: 'male' | 'female' | 'other' | 'unknown';
  postcode?: string;
}

export class DemographicsError extends Error {
  constructor(
    readonly field: keyof Demographics,
    message: string,
  ) {
    super(message);
    this.name = 'DemographicsError';
  }
}

const NAME = /^[\p{L}][\p{L}' .-]{0,34}$/u;
/** UK postcode: outward code (area, district) then inward code; spaces optional. */
const POSTCODE = /^[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}$/i;

/** Checks and tidies demographics; throws DemographicsError naming the first field that is wrong. */
export function validateDemographics(input: Demographics, today: string = new Date().toISOString().slice(0, 10)): Demographics {
  const givenName = input.givenName.trim().replace(/\s+/g, ' ');
  const familyName = input.familyName.trim().replace(/\s+/g, ' ');
  if (givenName === '') throw new DemographicsError('givenName', 'Given name is empty');
  if (!NAME.test(givenName)) throw new DemographicsError('givenName', 'Given name must be letters, spaces, hyphens or apostrophes, at most 35 characters');
  if (familyName === '') throw new DemographicsError('familyName', 'Family name is empty');
  if (!NAME.test(familyName)) throw new DemographicsError('familyName', 'Family name must be letters, spaces, hyphens or apostrophes, at most 35 characters');
  const dob = input.dateOfBirth;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dob) || isoDay(dayOf(dob)) !== dob) throw new DemographicsError('dateOfBirth', 'Date of birth must be a real date, yyyy-mm-dd');
  if (dob > today) throw new DemographicsError('dateOfBirth', 'Date of birth is in the future');
  if (dob < '1900-01-01') throw new DemographicsError('dateOfBirth', 'Date of birth is before 1900');
  let postcode: string | undefined;
  if (input.postcode !== undefined && input.postcode.trim() !== '') {
    const compact = input.postcode.toUpperCase().replace(/\s+/g, '');
    if (!POSTCODE.test(compact)) throw new DemographicsError('postcode', 'Postcode is not a UK postcode');
    postcode = `${compact.slice(0, -3)} ${compact.slice(-3)}`;
  }
  return { givenName, familyName, dateOfBirth: dob, ...(input.gender ? { gender: input.gender } : {}), ...(postcode ? { postcode } : {}) };
}
