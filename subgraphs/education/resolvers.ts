import { requireFullView, requireSomeView, requireTheChild } from '../../lib/graphql/access.ts';
import { DateScalar, NhsNumber } from '../../lib/graphql/scalars.ts';
import { isoDate as day } from '../../lib/dates.ts';
import type { Resolvers } from './generated/resolvers-types.ts';
import type { PupilRecord } from './pupil.ts';

const YEAR_MS = 365 * 86_400_000;
/** Below 90% attendance is persistent absence (DfE). */
const PERSISTENT_ABSENCE_BELOW = 90;


const all = <T>(pupils: PupilRecord[], pick: (p: PupilRecord) => T[]): T[] => pupils.flatMap(pick);

export const resolvers: Resolvers = {
  NhsNumber,
  Date: DateScalar,
  Child: {
    __resolveReference: (reference, context) => {
      const nhsNumber = NhsNumber.parseValue(reference.nhsNumber);
      requireTheChild(context.claims, nhsNumber, 'Child');
      return { nhsNumber };
    },
    async education(child, _args, context) {
      requireSomeView(context.claims, 'education');
      const pupils = await context.pupils.load(child.nhsNumber);
      return pupils.length > 0 ? pupils : null;
    },
  },
  EducationRecord: {
    enrolments: (pupils, _args, context) => {
      requireFullView(context.claims, 'enrolments');
      return all(pupils, (p) => p.enrolments)
        .sort((a, b) => b.start_date.getTime() - a.start_date.getTime())
        .map((e) => ({ urn: e.urn, schoolName: e.school_name, phase: e.phase, startDate: day(e.start_date)!, endDate: day(e.end_date) }));
    },
    attendance: (pupils, _args, context) => {
      requireFullView(context.claims, 'attendance');
      const since = context.today.getTime() - YEAR_MS;
      const terms = all(pupils, (p) => p.attendance).filter((a) => a.term_end.getTime() >= since && a.term_start.getTime() <= context.today.getTime());
      if (terms.length === 0) return null;
      const possible = terms.reduce((sum, t) => sum + t.sessions_possible, 0);
      const attended = terms.reduce((sum, t) => sum + t.sessions_attended, 0);
      const percentage = possible === 0 ? 100 : Math.round((attended / possible) * 1000) / 10;
      return {
        from: day(new Date(Math.min(...terms.map((t) => t.term_start.getTime()))))!,
        to: day(new Date(Math.max(...terms.map((t) => t.term_end.getTime()))))!,
        sessionsPossible: possible,
        sessionsAttended: attended,
        percentage,
        persistentAbsence: percentage < PERSISTENT_ABSENCE_BELOW,
      };
    },
    exclusions: (pupils, _args, context) => {
      requireFullView(context.claims, 'exclusions');
      return all(pupils, (p) => p.exclusions)
        .sort((a, b) => b.start_date.getTime() - a.start_date.getTime())
        .map((x) => ({ category: x.category, startDate: day(x.start_date)!, sessions: x.sessions, reasonCode: x.reason_code }));
    },
    senStatus: (pupils) => {
      const send = pupils.flatMap((p) => p.person?.send ?? []);
      if (send.some((s) => s.ehcp_requests.some((r) => r.active_plans.length > 0))) return 'EHCP';
      return send.length > 0 ? 'SEN_SUPPORT' : 'NONE';
    },
  },
};
