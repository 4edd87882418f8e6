import { GraphQLError } from 'graphql';
import { maySearch, requireFullView, requireSomeView, requireTheChild, searchProblem } from '../../lib/graphql/access.ts';
import { badUserInput } from '../../lib/graphql/errors.ts';
import { DateScalar, NhsNumber } from '../../lib/graphql/scalars.ts';
import { isoDate as day } from '../../lib/dates.ts';
import { findChildren } from './find-children.ts';
import { linkNhsNumber } from './link.ts';
import type { PersonRecord } from './person.ts';
import type { Resolvers } from './generated/resolvers-types.ts';

const newestFirst = <T>(rows: T[], date: (row: T) => Date | null) => [...rows].sort((a, b) => (date(b)?.getTime() ?? 0) - (date(a)?.getTime() ?? 0));
const yes = (flag: string | null) => (flag === null ? null : flag === 'Y');
const outcome = (json: string | null): string | null => {
  if (!json) return null;
  try {
    const parsed = JSON.parse(json) as { outcome?: string };
    return parsed.outcome ?? json;
  } catch {
    return json;
  }
};

const PRIMARY_NEEDS: Record<string, string> = {
  N1: 'Abuse or neglect', N2: "Child's disability or illness", N3: "Parent's disability or illness", N4: 'Family in acute stress',
  N5: 'Family dysfunction', N6: 'Socially unacceptable behaviour', N7: 'Low income', N8: 'Absent parenting', N9: 'Cases other than children in need',
};


const all = <T>(persons: PersonRecord[], pick: (p: PersonRecord) => T[]): T[] => persons.flatMap(pick);

export const resolvers: Resolvers = {
  NhsNumber,
  Date: DateScalar,
  Query: {
    async findChildren(_parent, { input }, context, info) {
      // Checked here too, whoever signed the token: social care staff only, on a name with a date of birth.
      if (!maySearch('findChildren', context.claims.roles)) throw new GraphQLError('findChildren is not open to this role', { extensions: { code: 'FORBIDDEN', field: 'findChildren' } });
      const problem = searchProblem(input);
      if (problem) throw badUserInput(problem, 'input');
      const { hits, more } = await findChildren(context.prisma, input, context.searchLimit);
      if (more) context.searchesCut.push(String(info.path.key));
      return hits;
    },
  },
  Mutation: {
    linkNhsNumber: (_parent, { input }, context) => linkNhsNumber(context.prisma, context.claims, context.receipts, input),
  },
  Child: {
    __resolveReference: (reference, context) => {
      const nhsNumber = NhsNumber.parseValue(reference.nhsNumber);
      requireTheChild(context.claims, nhsNumber, 'Child');
      return { nhsNumber };
    },
    async socialCare(child, _args, context) {
      requireSomeView(context.claims, 'socialCare');
      const persons = await context.persons.load(child.nhsNumber);
      return persons.length > 0 ? persons : null;
    },
  },
  SocialCareRecord: {
    personId: (persons) => persons[0]!.pers_person_id,
    status: (persons) => {
      const open = all(persons, (p) => p.cin_episodes).filter((r) => r.cine_close_date === null);
      return {
        openCase: open.length > 0,
        childInNeed: open.length > 0,
        childProtectionPlan: all(persons, (p) => p.cp_plans).some((c) => c.cppl_cp_plan_end_date === null),
        lookedAfter: all(persons, (p) => p.cla_episodes).some((e) => e.clae_cla_episode_ceased_date === null),
        careLeaver: all(persons, (p) => p.care_leavers).length > 0,
        openSince: day(open.map((r) => r.cine_referral_date).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0]),
      };
    },
    referrals: (persons, _args, context) => {
      requireFullView(context.claims, 'referrals');
      return newestFirst(all(persons, (p) => p.cin_episodes), (r) => r.cine_referral_date).map((r) => ({
        id: r.cine_referral_id,
        referralDate: day(r.cine_referral_date),
        primaryNeedCode: r.cine_cin_primary_need_code,
        primaryNeed: r.cine_cin_primary_need_code ? (PRIMARY_NEEDS[r.cine_cin_primary_need_code] ?? null) : null,
        sourceCode: r.cine_referral_source_code,
        source: r.cine_referral_source_desc,
        noFurtherAction: yes(r.cine_referral_nfa),
        closeDate: day(r.cine_close_date),
        closeReason: r.cine_close_reason,
      }));
    },
    assessments: (persons, _args, context) => {
      requireFullView(context.claims, 'assessments');
      return newestFirst(all(persons, (p) => p.assessments), (a) => a.cina_assessment_start_date).map((a) => ({
        id: a.cina_assessment_id,
        referralId: a.cina_referral_id,
        startDate: day(a.cina_assessment_start_date),
        authorisedDate: day(a.cina_assessment_auth_date),
        childSeen: yes(a.cina_assessment_child_seen),
        outcome: outcome(a.cina_assessment_outcome_json),
      }));
    },
    section47Enquiries: (persons, _args, context) => {
      requireFullView(context.claims, 'section47Enquiries');
      return newestFirst(all(persons, (p) => p.s47_enquiries), (e) => e.s47e_s47_start_date).map((e) => ({
        id: e.s47e_s47_enquiry_id,
        referralId: e.s47e_referral_id,
        startDate: day(e.s47e_s47_start_date),
        endDate: day(e.s47e_s47_end_date),
        outcome: outcome(e.s47e_s47_outcome_json),
      }));
    },
    cinPlans: (persons, _args, context) => {
      requireFullView(context.claims, 'cinPlans');
      return newestFirst(all(persons, (p) => p.cin_plans), (c) => c.cinp_cin_plan_start_date).map((c) => ({
        id: c.cinp_cin_plan_id,
        referralId: c.cinp_referral_id,
        startDate: day(c.cinp_cin_plan_start_date),
        endDate: day(c.cinp_cin_plan_end_date),
      }));
    },
    cpPlans: (persons, _args, context) => {
      requireFullView(context.claims, 'cpPlans');
      return newestFirst(all(persons, (p) => p.cp_plans), (c) => c.cppl_cp_plan_start_date).map((c) => ({
        id: c.cppl_cp_plan_id,
        referralId: c.cppl_referral_id,
        startDate: day(c.cppl_cp_plan_start_date),
        endDate: day(c.cppl_cp_plan_end_date),
        initialCategory: c.cppl_cp_plan_initial_category,
        latestCategory: c.cppl_cp_plan_latest_category,
      }));
    },
    lookedAfterEpisodes: (persons, _args, context) => {
      requireFullView(context.claims, 'lookedAfterEpisodes');
      const placements = all(persons, (p) => p.cla_placements);
      return newestFirst(all(persons, (p) => p.cla_episodes), (e) => e.clae_cla_episode_start_date).map((e) => ({
        id: e.clae_cla_episode_id,
        startDate: day(e.clae_cla_episode_start_date),
        startReason: e.clae_cla_episode_start_reason,
        endDate: day(e.clae_cla_episode_ceased_date),
        endReason: e.clae_cla_episode_ceased_reason,
        placements: newestFirst(placements.filter((p) => p.clap_cla_id === e.clae_cla_id), (p) => p.clap_cla_placement_start_date).map((p) => ({
          id: p.clap_cla_placement_id,
          startDate: day(p.clap_cla_placement_start_date),
          endDate: day(p.clap_cla_placement_end_date),
          placementType: p.clap_cla_placement_type,
          provider: p.clap_cla_placement_provider,
        })),
      }));
    },
    careLeaver: (persons, _args, context) => {
      requireFullView(context.claims, 'careLeaver');
      const row = all(persons, (p) => p.care_leavers)[0];
      return row
        ? {
            eligibility: row.clea_care_leaver_eligibility,
            inTouch: row.clea_care_leaver_in_touch,
            latestContact: day(row.clea_care_leaver_latest_contact),
            accommodation: row.clea_care_leaver_accommodation,
            activity: row.clea_care_leaver_activity,
          }
        : null;
    },
    send: (persons, _args, context) => {
      requireFullView(context.claims, 'send');
      const records = all(persons, (p) => p.send);
      if (records.length === 0) return null;
      const requests = records.flatMap((r) => r.ehcp_requests);
      const plans = requests.flatMap((r) => r.active_plans);
      return {
        upn: records[0]!.send_upn,
        ehcpRequested: requests.length > 0,
        ehcpInForce: plans.length > 0,
        needs: plans.flatMap((p) => p.needs).sort((a, b) => Number(a.senn_active_ehcp_need_rank) - Number(b.senn_active_ehcp_need_rank)).map((n) => n.senn_active_ehcp_need_type ?? '').filter(Boolean),
      };
    },
    involvements: (persons, _args, context) => {
      requireFullView(context.claims, 'involvements');
      return newestFirst(all(persons, (p) => p.involvements), (i) => i.invo_involvement_start_date).map((i) => ({
        role: i.invo_professional_role_id,
        worker: i.professional.prof_professional_name,
        workerId: i.invo_professional_id,
        team: i.invo_professional_team,
        from: day(i.invo_involvement_start_date),
        to: day(i.invo_involvement_end_date),
      }));
    },
  },
};
