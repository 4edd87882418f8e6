// Every operation the portal sends: fixed here, so the router can hold them as trusted documents.
import { gql } from '@apollo/client';

export const SINGLE_VIEW = gql`
  query SingleView($nhsNumber: NhsNumber!, $purpose: Purpose!, $breakGlassReason: String) {
    child(nhsNumber: $nhsNumber, purpose: $purpose, breakGlassReason: $breakGlassReason) {
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

/** The purposes a caseworker may declare, each with its statutory basis (schema/common.graphql). */
export const PURPOSES: { value: string; label: string; basis: string }[] = [
  { value: 'CHILD_PROTECTION_ENQUIRY', label: 'Child protection enquiry', basis: 'Children Act 1989, section 47: reasonable cause to suspect significant harm.' },
  { value: 'CHILD_IN_NEED_ASSESSMENT', label: 'Child in need assessment', basis: 'Children Act 1989, section 17: assessing whether a child is in need.' },
  { value: 'LOOKED_AFTER_CHILD_REVIEW', label: 'Looked-after child review', basis: 'Children Act 1989, section 26, and the care planning regulations.' },
  { value: 'EARLY_HELP', label: 'Early help', basis: 'Children Act 2004, section 10: co-operation to improve wellbeing.' },
];
