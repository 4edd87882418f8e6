// What one LA holds about the children it knows: SSD-shaped social care records, education records,
// its caseworkers, and — kept apart — the ground truth of who each local record really is.
import { join } from 'node:path';
import { LA_TABLES, type LaTable } from '../../lib/db/la-tables.ts';
import { CLA_CEASED_REASONS, CP_CATEGORIES, ETHNICITY_BY_BACKGROUND, PLACEMENT_TYPES, PRIMARY_NEED, REFERRAL_SOURCES, SEN_NEED_TYPES, TEAMS } from './codes.ts';
import { dayOf, isoDay, schoolYearStart, yearsBetween } from '../../lib/dates.ts';
import { NAME_POOLS } from './names.ts';
import { NdjsonWriter } from './ndjson.ts';
import { NOISE_RATES, recordDemographics, type Noise, type RecordedDemographics } from './noise.ts';
import type { Address, Child, Gender } from './person.ts';
import { schoolsOf, type LocalAuthority, type School } from './places.ts';
import type { Random } from './random.ts';


export const HOLDING_RATES = {
  /** Children living in an LA who are known to its children's social care. */
  knownToCsc: 0.15,
  /** Children who moved in from the other sandbox LA: known to CSC there, and here. */
  movedKnownToPreviousCsc: 0.5,
  movedKnownToCsc: 0.5,
  /** Of CSC-known children in their current LA: an open case now. */
  openCase: 0.45,
  /** Of school-age children living in the LA: on roll at one of its schools. */
  onRoll: 0.97,
  persistentAbsence: 0.14,
  suspension: 0.04,
  permanentExclusion: 0.0015,
} as const;

/** Caseworker roles as the LA's identity provider asserts them. */
export const ROLES = ['csc.practitioner', 'csc.manager', 'education.officer', 'ig.officer', 'la.developer'] as const;

export interface Professional {
  id: string;
  name: string;
  username: string;
  team: string;
  jobTitle: string;
  roles: string[];
  caseload: number;
  /** NHS numbers (as this LA records them) of children currently allocated; the first few only. */
  allocated: string[];
}

/** What was written for one child in one LA: enough to choose the demo's example children. */
export interface Holding {
  la: string;
  csc?: {
    personId: string;
    nhsNumber: string | null;
    open: boolean;
    cpPlanActive: boolean;
    lookedAfter: boolean;
    ehcp: boolean;
    allocatedTo?: string;
  };
  pupil?: { pupilId: string; nhsNumber: string | null; persistentAbsence: boolean };
}

const DEMO_ALLOCATIONS_KEPT = 10;

export class LaHoldings {
  private readonly writers: Record<LaTable, NdjsonWriter>;
  private readonly counters = new Map<string, number>();
  private readonly professionals: Professional[] = [];
  private readonly socialWorkers: Professional[] = [];
  private readonly schools: School[];
  readonly usernames = new Set<string>();

  constructor(
    readonly la: LocalAuthority,
    dir: string,
    private readonly groundTruth: NdjsonWriter,
    private readonly random: Random,
    private readonly asOfDay: number,
    expectedCscChildren: number,
  ) {
    this.writers = Object.fromEntries(LA_TABLES.map((table) => [table, new NdjsonWriter(join(dir, `${table}.ndjson`))])) as Record<
      LaTable,
      NdjsonWriter
    >;
    this.schools = schoolsOf(la);
    this.hireStaff(expectedCscChildren);
  }

  private nextId(letter: string): string {
    const n = (this.counters.get(letter) ?? 0) + 1;
    this.counters.set(letter, n);
    return `${this.la.idPrefix}${letter}${String(n).padStart(7, '0')}`;
  }

  private username(forename: string, surname: string): string {
    const base = `${forename}.${surname}`.toLowerCase().replace(/[^a-z.]/g, '');
    let name = base;
    for (let i = 2; this.usernames.has(name); i++) name = `${base}${i}`;
    this.usernames.add(name);
    return name;
  }

  private hire(team: string, jobTitle: string, roles: string[]): Professional {
    const pool = NAME_POOLS[this.random.weighted(Object.fromEntries(Object.entries(NAME_POOLS).map(([k, p]) => [k, p.weight])))]!;
    const forename = this.random.pick(this.random.chance(0.7) ? pool.female : pool.male);
    const surname = this.random.pick(pool.family);
    const professional: Professional = {
      id: this.nextId('W'),
      name: `${forename} ${surname}`,
      username: this.username(forename, surname),
      team: `${team}, ${this.la.name}`,
      jobTitle,
      roles,
      caseload: 0,
      allocated: [],
    };
    this.professionals.push(professional);
    return professional;
  }

  /** About one social worker for every 16 children the LA expects to know, in six teams. */
  private hireStaff(expectedCscChildren: number): void {
    const perTeam = Math.max(2, Math.ceil(expectedCscChildren / 16 / TEAMS.length));
    for (const team of TEAMS) {
      this.hire(team, 'Team Manager', ['csc.practitioner', 'csc.manager']);
      for (let i = 0; i < perTeam; i++) {
        const title = team === 'Leaving Care Team' ? 'Personal Advisor' : i === 0 ? 'Senior Social Worker' : 'Social Worker';
        this.socialWorkers.push(this.hire(team, title, ['csc.practitioner']));
      }
    }
  }

  private write(table: LaTable, row: Record<string, unknown>): void {
    this.writers[table].write(row);
  }

  private readonly restrictionsKnown = new Set<string>();

  /** What MATCH's demographics told the LA of a recorded NHS number: the child's restriction, or (a slip) nobody's. */
  private learnRestriction(child: Child, nhsNumber: string | null): void {
    if (!nhsNumber || this.restrictionsKnown.has(nhsNumber)) return;
    this.restrictionsKnown.add(nhsNumber);
    this.write('la_pds_restriction', { nhs_number: nhsNumber, restricted: nhsNumber === child.nhsNumber && child.restricted, checked_at: isoDay(this.asOfDay) });
  }

  private truth(table: 'ssd_person' | 'edu_pupil', id: string, child: Child, recorded: RecordedDemographics): void {
    const noise: Noise[] = child.resembles ? [...recorded.noise, `resembles_${child.resembles.how}`] : recorded.noise;
    this.groundTruth.write({ la: this.la.code, table, id, nhsNumber: child.nhsNumber, noise, ...(child.resembles ? { resembles: child.resembles.nhsNumber } : {}) });
  }

  private day(day: number | undefined): string | null {
    return day === undefined ? null : isoDay(day);
  }

  /** Records for `child` in this LA; `address` is where the child lived while this LA knew them. */
  addChild(child: Child, address: Address, options: { csc: boolean; current: boolean; earlierAddress?: Address }): Holding {
    const holding: Holding = { la: this.la.code };
    const knownUntil = options.current ? this.asOfDay : (address.to ?? this.asOfDay);
    if (options.csc) holding.csc = this.addCscPerson(child, address, knownUntil, options.current, options.earlierAddress);
    const ageThen = yearsBetween(child.birthDay, knownUntil);
    if (ageThen >= 4 && (options.current ? this.random.chance(HOLDING_RATES.onRoll) : true)) {
      holding.pupil = this.addPupil(child, address, knownUntil, options.current, holding.csc?.personId, options.earlierAddress);
    }
    return holding;
  }

  private addCscPerson(child: Child, address: Address, knownUntil: number, current: boolean, earlierAddress?: Address): NonNullable<Holding['csc']> {
    const random = this.random;
    const recorded = recordDemographics(child, random, {
      noNhsNumberRate: NOISE_RATES.cscNoNhsNumber,
      address,
      ...(earlierAddress ? { earlierAddress } : {}),
      infant: yearsBetween(child.birthDay, knownUntil) < 1,
      latestDay: knownUntil,
    });
    const personId = this.nextId('P');
    this.truth('ssd_person', personId, child, recorded);
    this.write('ssd_person', {
      pers_person_id: personId,
      pers_forename: recorded.forename,
      pers_surname: recorded.surname,
      pers_sex: sexCode(recorded.gender),
      pers_gender: recorded.gender === 'female' ? 'Female' : recorded.gender === 'male' ? 'Male' : 'Not stated',
      pers_ethnicity: random.chance(0.03) ? 'NOBT' : random.pick(ETHNICITY_BY_BACKGROUND[child.background] ?? ['OOTH']),
      pers_dob: isoDay(recorded.birthDay),
      pers_common_child_id: recorded.nhsNumber,
      pers_legacy_id: `${this.la.idPrefix}-${random.int(100000, 999999)}`,
      pers_upn_unknown: null,
      pers_send_flag: null,
      pers_expected_dob: null,
      pers_death_date: this.day(child.deathDay),
      pers_is_mother: 'N',
      pers_nationality: null,
    });
    this.learnRestriction(child, recorded.nhsNumber);
    this.write('ssd_linked_identifiers', {
      link_table_id: this.nextId('L'),
      link_person_id: personId,
      link_identifier_type: 'Case Number',
      link_identifier_value: `${this.la.idPrefix}/${random.int(10000, 99999)}`,
      link_valid_from_date: isoDay(Math.max(child.birthDay, address.from)),
      link_valid_to_date: null,
    });
    if (recorded.nhsNumber) {
      this.write('ssd_linked_identifiers', {
        link_table_id: this.nextId('L'),
        link_person_id: personId,
        link_identifier_type: 'NHS Number',
        link_identifier_value: recorded.nhsNumber,
        link_valid_from_date: isoDay(Math.max(child.birthDay, address.from)),
        link_valid_to_date: null,
      });
    }
    this.write('ssd_address', {
      addr_table_id: this.nextId('A'),
      addr_address_json: JSON.stringify({ lines: address.lines, postcode: address.postcode }),
      addr_person_id: personId,
      addr_address_type: 'Home',
      addr_address_start_date: isoDay(address.from),
      addr_address_end_date: this.day(address.to),
      addr_address_postcode: recorded.postcode,
    });

    const since = Math.max(child.birthDay, address.from, knownUntil - 6 * 365);
    const referrals = random.weighted({ 1: 70, 2: 25, 3: 5 });
    const open = current && random.chance(HOLDING_RATES.openCase);
    let starts = Array.from({ length: Number(referrals) }, () => random.int(since, Math.max(since, knownUntil - 14)));
    starts = starts.sort((a, b) => a - b);
    const state = { cpPlanActive: false, lookedAfter: false, ehcp: false, allocatedTo: undefined as string | undefined };
    starts.forEach((start, i) => {
      const isOpen = open && i === starts.length - 1;
      this.addReferral(child, personId, recorded.nhsNumber, start, isOpen ? undefined : Math.min(knownUntil, start + random.int(20, 400)), state);
    });
    if (random.chance(0.15)) state.ehcp = this.addSend(personId, child);
    return { personId, nhsNumber: recorded.nhsNumber, open, ...state };
  }

  private addReferral(
    child: Child,
    personId: string,
    nhsNumber: string | null,
    start: number,
    close: number | undefined,
    state: { cpPlanActive: boolean; lookedAfter: boolean; ehcp: boolean; allocatedTo: string | undefined },
  ): void {
    const random = this.random;
    const referralId = this.nextId('R');
    const [sourceCode, sourceDesc] = random.pick(REFERRAL_SOURCES);
    const worker = random.pick(this.socialWorkers);
    const team = worker.team;
    this.write('ssd_contacts', {
      cont_contact_id: this.nextId('C'),
      cont_person_id: personId,
      cont_contact_date: isoDay(start - random.int(0, 5)),
      cont_contact_source_code: sourceCode,
      cont_contact_source_desc: sourceDesc,
      cont_contact_outcome_json: JSON.stringify({ outcome: 'Progress to referral' }),
    });
    const nfa = close !== undefined && random.chance(0.25);
    this.write('ssd_cin_episodes', {
      cine_referral_id: referralId,
      cine_person_id: personId,
      cine_referral_date: isoDay(start),
      cine_cin_primary_need_code: random.weighted(PRIMARY_NEED),
      cine_referral_source_code: sourceCode,
      cine_referral_source_desc: sourceDesc,
      cine_referral_outcome_json: JSON.stringify({ outcome: nfa ? 'No further action' : 'Assessment' }),
      cine_referral_nfa: nfa ? 'Y' : 'N',
      cine_close_reason: close === undefined ? null : random.pick(['RC1', 'RC2', 'RC3', 'RC4', 'RC7', 'RC8']),
      cine_close_date: this.day(close),
      cine_referral_team: team,
      cine_referral_worker_id: worker.id,
    });
    this.write('ssd_involvements', {
      invo_involvements_id: this.nextId('I'),
      invo_professional_id: worker.id,
      invo_professional_role_id: 'Allocated Social Worker',
      invo_professional_team: team,
      invo_involvement_start_date: isoDay(start),
      invo_involvement_end_date: this.day(close),
      invo_worker_change_reason: close === undefined ? null : 'Case closed',
      invo_person_id: personId,
      invo_referral_id: referralId,
    });
    if (close === undefined) {
      worker.caseload++;
      if (nhsNumber && worker.allocated.length < DEMO_ALLOCATIONS_KEPT) worker.allocated.push(nhsNumber);
      state.allocatedTo = worker.username;
    }
    if (nfa) return;
    const end = close ?? this.asOfDay;
    const assessmentStart = Math.min(end, start + random.int(1, 10));
    this.write('ssd_cin_assessments', {
      cina_assessment_id: this.nextId('S'),
      cina_person_id: personId,
      cina_referral_id: referralId,
      cina_assessment_start_date: isoDay(assessmentStart),
      cina_assessment_child_seen: random.chance(0.95) ? 'Y' : 'N',
      cina_assessment_auth_date: assessmentStart + 45 <= this.asOfDay ? isoDay(assessmentStart + random.int(20, 45)) : null,
      cina_assessment_outcome_json: JSON.stringify({ outcome: random.pick(['CIN plan', 'Strategy discussion', 'Early help', 'No further action']) }),
      cina_assessment_outcome_nfa: 'N',
      cina_assessment_team: team,
      cina_assessment_worker_id: worker.id,
    });
    const pathway = random.next();
    if (pathway < 0.22) {
      const s47Start = Math.min(end, assessmentStart + random.int(0, 7));
      const s47Id = this.nextId('E');
      this.write('ssd_s47_enquiry', {
        s47e_s47_enquiry_id: s47Id,
        s47e_referral_id: referralId,
        s47e_person_id: personId,
        s47e_s47_start_date: isoDay(s47Start),
        s47e_s47_end_date: isoDay(Math.min(end, s47Start + random.int(5, 15))),
        s47e_s47_nfa: 'N',
        s47e_s47_outcome_json: JSON.stringify({ outcome: 'Initial child protection conference' }),
        s47e_s47_completed_by_worker_id: worker.id,
        s47e_s47_completed_by_team: team,
      });
      const planStart = Math.min(end, s47Start + random.int(10, 15));
      const category = random.weighted(CP_CATEGORIES);
      this.write('ssd_cp_plans', {
        cppl_cp_plan_id: this.nextId('K'),
        cppl_referral_id: referralId,
        cppl_icpc_id: null,
        cppl_person_id: personId,
        cppl_cp_plan_start_date: isoDay(planStart),
        cppl_cp_plan_end_date: this.day(close),
        cppl_cp_plan_initial_category: category,
        cppl_cp_plan_ola: 'N',
        cppl_cp_plan_latest_category: random.chance(0.9) ? category : random.weighted(CP_CATEGORIES),
      });
      if (close === undefined) state.cpPlanActive = true;
    } else if (pathway < 0.3) {
      this.addLookedAfter(child, personId, referralId, Math.min(end, assessmentStart + random.int(0, 30)), close, worker);
      if (close === undefined) state.lookedAfter = true;
    } else if (pathway < 0.6) {
      this.write('ssd_cin_plans', {
        cinp_cin_plan_id: this.nextId('N'),
        cinp_referral_id: referralId,
        cinp_person_id: personId,
        cinp_cin_plan_start_date: isoDay(Math.min(end, assessmentStart + random.int(20, 45))),
        cinp_cin_plan_end_date: this.day(close),
        cinp_cin_plan_team: team,
        cinp_cin_plan_worker_id: worker.id,
      });
    }
  }

  private addLookedAfter(child: Child, personId: string, referralId: string, start: number, close: number | undefined, worker: Professional): void {
    const random = this.random;
    const claId = this.nextId('Q');
    const placementId = this.nextId('J');
    this.write('ssd_cla_placement', {
      clap_cla_placement_id: placementId,
      clap_cla_placement_start_date: isoDay(start),
      clap_cla_placement_type: random.weighted(PLACEMENT_TYPES),
      clap_cla_placement_urn: random.chance(0.3) ? `SC${random.int(100000, 999999)}` : null,
      clap_cla_placement_distance: Math.round(random.next() * 400) / 10,
      clap_cla_id: claId,
      clap_cla_placement_provider: random.pick(['PR1', 'PR2', 'PR3', 'PR4']),
      clap_cla_placement_postcode: null,
      clap_cla_placement_end_date: this.day(close),
      clap_cla_placement_change_reason: null,
      clap_person_id: personId,
    });
    this.write('ssd_cla_episodes', {
      clae_cla_episode_id: this.nextId('F'),
      clae_person_id: personId,
      clae_cla_episode_start_date: isoDay(start),
      clae_cla_episode_start_reason: 'S',
      clae_cla_primary_need_code: 'N1',
      clae_cla_episode_ceased_date: this.day(close),
      clae_cla_episode_ceased_reason: close === undefined ? null : random.pick(CLA_CEASED_REASONS),
      clae_cla_id: claId,
      clae_referral_id: referralId,
      clae_cla_placement_id: placementId,
      clae_entered_care_date: isoDay(start),
      clae_cla_last_iro_contact_date: isoDay(Math.min(close ?? this.asOfDay, start + random.int(20, 120))),
    });
    if (yearsBetween(child.birthDay, close ?? this.asOfDay) >= 16) {
      this.write('ssd_care_leavers', {
        clea_table_id: this.nextId('Z'),
        clea_person_id: personId,
        clea_care_leaver_eligibility: random.pick(['Eligible', 'Relevant', 'Former relevant']),
        clea_care_leaver_in_touch: random.pick(['YES', 'YES', 'YES', 'NO', 'REFU']),
        clea_care_leaver_latest_contact: isoDay(this.asOfDay - random.int(1, 90)),
        clea_care_leaver_accommodation: random.pick(['B', 'C', 'D', 'E', 'T', 'U']),
        clea_care_leaver_accom_suitable: random.chance(0.9) ? '1' : '2',
        clea_care_leaver_activity: random.pick(['F1', 'P1', 'F2', 'G4', 'G5']),
        clea_pathway_plan_review_date: isoDay(this.asOfDay - random.int(1, 180)),
        clea_care_leaver_personal_advisor: worker.name,
        clea_care_leaver_allocated_team: worker.team,
        clea_care_leaver_worker_id: worker.id,
      });
    }
  }

  /** A SEND record; returns whether an EHC plan is in force. */
  private addSend(personId: string, child: Child): boolean {
    const random = this.random;
    const sendId = this.nextId('D');
    this.write('ssd_send', {
      send_table_id: sendId,
      send_upn: upnFor(child),
      send_uln: null,
      send_upn_unknown: null,
      send_person_id: personId,
    });
    if (!random.chance(0.45)) return false;
    const requestId = this.nextId('H');
    const requested = this.asOfDay - random.int(60, 3 * 365);
    const granted = random.chance(0.75);
    this.write('ssd_ehcp_requests', {
      ehcr_ehcp_request_id: requestId,
      ehcr_send_table_id: sendId,
      ehcr_ehcp_req_date: isoDay(requested),
      ehcr_ehcp_req_outcome_date: isoDay(requested + random.int(40, 120)),
      ehcr_ehcp_req_outcome: granted ? 'Plan issued' : 'Assessment declined',
    });
    if (!granted) return false;
    const planId = this.nextId('G');
    this.write('ssd_ehcp_active_plans', {
      ehcp_active_ehcp_id: planId,
      ehcp_ehcp_request_id: requestId,
      ehcp_active_ehcp_last_review_date: isoDay(this.asOfDay - random.int(1, 365)),
    });
    const needs = random.int(1, 2);
    for (let rank = 1; rank <= needs; rank++) {
      this.write('ssd_sen_need', {
        senn_table_id: this.nextId('V'),
        senn_active_ehcp_id: planId,
        senn_active_ehcp_need_type: random.pick(SEN_NEED_TYPES),
        senn_active_ehcp_need_rank: String(rank),
      });
    }
    return true;
  }

  private schoolFor(phase: School['phase']): School {
    return this.random.pick(this.schools.filter((school) => school.phase === phase));
  }

  private addPupil(child: Child, address: Address, knownUntil: number, current: boolean, personId: string | undefined, earlierAddress?: Address): NonNullable<Holding['pupil']> {
    const random = this.random;
    const recorded = recordDemographics(child, random, { noNhsNumberRate: NOISE_RATES.pupilNoNhsNumber, address, ...(earlierAddress ? { earlierAddress } : {}), latestDay: knownUntil });
    const pupilId = this.nextId('U');
    this.truth('edu_pupil', pupilId, child, recorded);
    this.write('edu_pupil', {
      pupil_id: pupilId,
      upn: upnFor(child),
      forename: recorded.forename,
      surname: recorded.surname,
      sex: sexCode(recorded.gender),
      dob: isoDay(recorded.birthDay),
      postcode: recorded.postcode,
      nhs_number: recorded.nhsNumber,
      pers_person_id: personId ?? null,
    });
    this.learnRestriction(child, recorded.nhsNumber);
    const age = yearsBetween(child.birthDay, knownUntil);
    const phase: School['phase'] = age <= 10 ? 'Primary' : age <= 15 ? 'Secondary' : '16 plus';
    const entryAge = phase === 'Primary' ? 4 : phase === 'Secondary' ? 11 : 16;
    const school = this.schoolFor(phase);
    const start = Math.max(schoolYearStart(knownUntil - (age - entryAge) * 365), schoolYearStart(address.from));
    const end = current ? undefined : knownUntil;
    this.write('edu_enrolment', {
      enrolment_id: this.nextId('Y'),
      pupil_id: pupilId,
      urn: school.urn,
      school_name: school.name,
      phase,
      start_date: isoDay(start),
      end_date: this.day(end),
    });
    if (phase !== 'Primary' && start - 70 > Math.max(address.from, child.birthDay + 4 * 365)) {
      const primary = this.schoolFor('Primary');
      this.write('edu_enrolment', {
        enrolment_id: this.nextId('Y'),
        pupil_id: pupilId,
        urn: primary.urn,
        school_name: primary.name,
        phase: 'Primary',
        start_date: isoDay(Math.max(schoolYearStart(address.from), schoolYearStart(child.birthDay + 5 * 365))),
        end_date: isoDay(start - 45),
      });
    }
    let persistentAbsence = false;
    if (current) {
      persistentAbsence = random.chance(HOLDING_RATES.persistentAbsence);
      for (const [termStart, termEnd] of recentTerms(this.asOfDay)) {
        if (termStart < start) continue;
        const possible = 2 * Math.round(((termEnd - termStart + 1) * 5) / 7);
        const rate = persistentAbsence ? 0.62 + random.next() * 0.27 : 0.905 + random.next() * 0.095;
        const attended = Math.round(possible * rate);
        const authorised = Math.round((possible - attended) * 0.6);
        this.write('edu_attendance', {
          attendance_id: this.nextId('T'),
          pupil_id: pupilId,
          urn: school.urn,
          term_start: isoDay(termStart),
          term_end: isoDay(termEnd),
          sessions_possible: possible,
          sessions_attended: attended,
          authorised_absences: authorised,
          unauthorised_absences: possible - attended - authorised,
        });
      }
      if (random.chance(HOLDING_RATES.suspension)) {
        for (let i = random.int(1, 2); i > 0; i--) this.addExclusion(pupilId, school, 'SUSPENSION');
      }
      if (random.chance(HOLDING_RATES.permanentExclusion)) this.addExclusion(pupilId, school, 'PERMANENT');
    }
    return { pupilId, nhsNumber: recorded.nhsNumber, persistentAbsence };
  }

  private addExclusion(pupilId: string, school: School, category: 'SUSPENSION' | 'PERMANENT'): void {
    const random = this.random;
    this.write('edu_exclusion', {
      exclusion_id: this.nextId('X'),
      pupil_id: pupilId,
      urn: school.urn,
      category,
      start_date: isoDay(this.asOfDay - random.int(1, 330)),
      sessions: category === 'PERMANENT' ? null : 2 * random.int(1, 5),
      reason_code: random.pick(['PP', 'VP', 'PA', 'VA', 'BU', 'DM', 'DA', 'OT']),
    });
  }

  /** Writes the staff and their sign-in accounts (now that caseloads are known) and closes every file. */
  finish(): Professional[] {
    for (const p of this.professionals) {
      this.write('ssd_professionals', {
        prof_professional_id: p.id,
        prof_staff_id: p.username,
        prof_professional_name: p.name,
        prof_social_worker_registration_no: `SW${String(this.random.int(1, 199999)).padStart(6, '0')}`,
        prof_professional_job_title: p.jobTitle,
        prof_professional_caseload: p.caseload,
        prof_professional_department: p.team,
        prof_full_time_equivalency: this.random.chance(0.8) ? 1 : 0.6,
        prof_agency_worker_flag: this.random.chance(0.15) ? 'Y' : 'N',
      });
      this.write('la_user', { username: p.username, display_name: p.name, roles: p.roles, team: p.team, prof_professional_id: p.id });
    }
    const others: [string, string, string, string[]][] = [
      ['ig', 'officer', 'Information Governance Officer', ['ig.officer']],
      ['education', 'officer', 'Education Welfare Officer', ['education.officer']],
      ['la', 'developer', 'Digital Services Developer', ['la.developer']],
    ];
    for (const [first, last, title, roles] of others) {
      const username = this.username(first, last);
      this.write('la_user', { username, display_name: `${this.la.name} ${title}`, roles, team: null, prof_professional_id: null });
      this.professionals.push({ id: '', name: title, username, team: '', jobTitle: title, roles, caseload: 0, allocated: [] });
    }
    for (const writer of Object.values(this.writers)) writer.close();
    return this.professionals;
  }

  counts(): Record<LaTable, number> {
    return Object.fromEntries(LA_TABLES.map((table) => [table, this.writers[table].count])) as Record<LaTable, number>;
  }
}

/** Sex as the SSD and school census code it: F, M, or U where not known or not stated. */
const sexCode = (gender: Gender): 'F' | 'M' | 'U' => (gender === 'female' ? 'F' : gender === 'male' ? 'M' : 'U');

/** A Unique Pupil Number's shape: a check letter then twelve digits, derived from the NHS number. */
function upnFor(child: Child): string {
  const letters = 'ABCDEFGHJKLMNPQRTUVWXYZ';
  // A child with no NHS number gets one of the same shape from its place in the population.
  const base = child.nhsNumber ?? String(8_000_000_000 + child.index);
  const digits = base.slice(0, 9) + String(child.index % 1000).padStart(3, '0');
  return `${letters[Number(base) % letters.length]}${digits}`;
}

/** The last three school terms that ended on or before `asOfDay` (autumn, spring, summer). */
export function recentTerms(asOfDay: number): [number, number][] {
  const year = Number(isoDay(asOfDay).slice(0, 4));
  const terms: [number, number][] = [];
  for (let y = year - 2; y <= year; y++) {
    terms.push([dayOf(`${y}-09-01`), dayOf(`${y}-12-19`)]);
    terms.push([dayOf(`${y + 1}-01-05`), dayOf(`${y + 1}-03-27`)]);
    terms.push([dayOf(`${y + 1}-04-13`), dayOf(`${y + 1}-07-22`)]);
  }
  return terms.filter(([, end]) => end <= asOfDay).slice(-3);
}
