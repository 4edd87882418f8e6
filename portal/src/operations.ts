// Every operation the portal sends, fixed here: `npm run build:portal` extracts them into the trusted
// documents manifest (portal/dist/persisted-query-manifest.json) that the router enforces for the portal.
import { gql } from '@apollo/client';

export const SINGLE_VIEW = gql`
  query SingleView($nhsNumber: NhsNumber!, $purpose: Purpose!, $breakGlassReason: String, $breakGlassCategory: BreakGlassCategory) {
    child(nhsNumber: $nhsNumber, purpose: $purpose, breakGlassReason: $breakGlassReason, breakGlassCategory: $breakGlassCategory) {
      nhsNumber
      demographics { givenNames familyName dateOfBirth gender restricted }
      socialCare {
        status { openCase childInNeed childProtectionPlan lookedAfter careLeaver openSince }
        referrals { id referralDate primaryNeed source closeDate }
        assessments { id startDate authorisedDate outcome }
        section47Enquiries { id startDate endDate outcome }
        cpPlans { id startDate endDate latestCategory }
        lookedAfterEpisodes { id startDate endDate startReason }
        send { ehcpInForce }
        involvements { role worker team from to }
      }
      education {
        enrolments { schoolName startDate endDate }
        attendance { percentage persistentAbsence }
        exclusions { category startDate }
        senStatus
      }
      locations { custodian { code name } recordType lastSeen stale }
      sharedRecords { custodian custodianName socialCare { openCase childProtectionPlan cpCategory lookedAfter allocatedTeam asOf } }
    }
  }
`;

export const FIND_CHILDREN = gql`
  query FindChildren($input: ChildSearchInput!, $purpose: Purpose!) {
    findChildren(input: $input, purpose: $purpose) { personId nhsNumber matched givenName familyName dateOfBirth postcode score }
  }
`;

export const MATCH_CHILD = gql`
  query MatchChild($input: DemographicsInput!, $purpose: Purpose!) {
    matchChild(input: $input, purpose: $purpose) {
      status nhsNumber score strategy receipt reason explanation agreed { field level } disagreed
      candidates { nhsNumber score strategy fieldAgreement { field level } }
    }
  }
`;

export const LINK_NHS_NUMBER = gql`
  mutation LinkNhsNumber($input: LinkNhsNumberInput!, $purpose: Purpose!) {
    linkNhsNumber(input: $input, purpose: $purpose) { personId nhsNumber linked }
  }
`;

export const AUDIT_TRAIL = gql`
  query AuditTrail($nhsNumber: NhsNumber!) {
    auditTrail(nhsNumber: $nhsNumber) { at caseworker roles purpose action searchedOn decision breakGlassReason breakGlassCategory sources withheld outcome receipt { band score } }
  }
`;

export const BREAK_GLASS_REPORT = gql`
  query BreakGlassReport($from: Date!, $to: Date!) {
    breakGlassReport(from: $from, to: $to) { category count accesses { at caseworker purpose breakGlassReason breakGlassCategory nhsNumber decision outcome } }
  }
`;

export const IG_ALERTS = gql`
  query IgAlerts($from: Date!, $to: Date!) {
    igAlerts(from: $from, to: $to) { at kind caseworker roles count threshold windowStart windowEnd }
  }
`;

/** The purposes a caseworker may declare, each with its statutory basis (schema/common.graphql). */
export const PURPOSES: { value: string; label: string; basis: string }[] = [
  { value: 'CHILD_PROTECTION_ENQUIRY', label: 'Child protection enquiry', basis: 'Children Act 1989, section 47: reasonable cause to suspect significant harm.' },
  { value: 'CHILD_IN_NEED_ASSESSMENT', label: 'Child in need assessment', basis: 'Children Act 1989, section 17: assessing whether a child is in need.' },
  { value: 'LOOKED_AFTER_CHILD_REVIEW', label: 'Looked-after child review', basis: 'Children Act 1989, section 26, and the care planning regulations.' },
  { value: 'EARLY_HELP', label: 'Early help', basis: 'Children Act 2004, section 10: co-operation to improve wellbeing.' },
];

/** Why glass was broken: the categories the information-governance officer reports on (la-router/break-glass.ts). */
export const BREAK_GLASS_CATEGORIES: { value: string; label: string }[] = [
  { value: 'IMMEDIATE_RISK_OF_HARM', label: 'Immediate risk of harm' },
  { value: 'MISSING_CHILD', label: 'Missing child' },
  { value: 'OUT_OF_HOURS_EMERGENCY', label: 'Out-of-hours emergency' },
  { value: 'COURT_DIRECTION', label: 'Court direction' },
];
export const breakGlassCategoryLabel = (value: string | null | undefined) => (value ? (BREAK_GLASS_CATEGORIES.find((c) => c.value === value)?.label ?? value) : 'No category recorded');

export const purposeLabel = (value: string | null | undefined) => PURPOSES.find((p) => p.value === value)?.label ?? value ?? '';
