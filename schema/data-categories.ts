// Data categories (the @dataCategory directive of the source standards): which a purpose's list of
// categories and a decision permit. The LA router withholds by them before fetching; the LA subgraphs
// check them again where each field is resolved.
import type { FieldDefinitionNode, StringValueNode } from 'graphql';
import type { AccessDecision } from '../lib/internal-token.ts';

/** What a summary shows whatever the purpose: who the child is, their status, and who holds records. */
export const SUMMARY_CATEGORIES: readonly string[] = ['pds.*', 'csc.status', 'find.*'];

/** Each purpose's categories (a category, a family `csc.*`, or `*`) unless an LA's router configures its own. */
export const DEFAULT_PURPOSE_CATEGORIES: Record<string, string[]> = {
  CHILD_PROTECTION_ENQUIRY: ['*'],
  CHILD_IN_NEED_ASSESSMENT: ['pds.*', 'csc.*', 'education.*', 'find.*', 'shared.*'],
  LOOKED_AFTER_CHILD_REVIEW: ['pds.*', 'csc.status', 'csc.looked_after', 'csc.cp_plan', 'csc.care_leaver', 'csc.involvement', 'csc.send', 'education.*', 'find.*', 'shared.*'],
  EARLY_HELP: ['pds.*', 'csc.status', 'csc.referral', 'csc.involvement', 'education.enrolment', 'education.attendance', 'find.*'],
};

/** Whether a category is among patterns (a category, a family `csc.*`, or `*`). */
export const matchesCategory = (patterns: readonly string[], category: string): boolean =>
  patterns.some((p) => p === '*' || p === category || (p.endsWith('.*') && category.startsWith(p.slice(0, -1))));

/** Whether a purpose's categories and a decision permit a category, and if not, which of them does not. */
export function permitsCategory(forPurpose: readonly string[], decision: AccessDecision, category: string): { allowed: boolean; reason?: 'purpose' | 'relationship' } {
  if (!matchesCategory(forPurpose, category)) return { allowed: false, reason: 'purpose' };
  if (decision === 'SUMMARY' && !matchesCategory(SUMMARY_CATEGORIES, category)) return { allowed: false, reason: 'relationship' };
  if (decision === 'NONE') return { allowed: false, reason: 'relationship' };
  return { allowed: true };
}

/** The category a field's @dataCategory directive names, if it has one. */
export function dataCategoryOf(field: FieldDefinitionNode): string | undefined {
  const directive = field.directives?.find((d) => d.name.value === 'dataCategory');
  return (directive?.arguments?.find((a) => a.name.value === 'name')?.value as StringValueNode | undefined)?.value;
}
