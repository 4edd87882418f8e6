// The tables of an LA's store (prisma/local), named once for the SSD import, the sandbox's seeding and
// the synthetic population that fills them.

/** The LA store's tables in an order that satisfies their foreign keys. */
export const LA_TABLES = [
  'ssd_professionals',
  'la_user',
  'ssd_person',
  'ssd_linked_identifiers',
  'ssd_address',
  'ssd_contacts',
  'ssd_cin_episodes',
  'ssd_cin_assessments',
  'ssd_s47_enquiry',
  'ssd_cin_plans',
  'ssd_cp_plans',
  'ssd_cla_episodes',
  'ssd_cla_placement',
  'ssd_care_leavers',
  'ssd_send',
  'ssd_ehcp_requests',
  'ssd_ehcp_active_plans',
  'ssd_sen_need',
  'ssd_involvements',
  'edu_pupil',
  'edu_enrolment',
  'edu_attendance',
  'edu_exclusion',
  'la_pds_restriction',
] as const;
export type LaTable = (typeof LA_TABLES)[number];
