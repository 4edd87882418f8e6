// Break-glass: the full view of a child without an allocation, for a reason the LA's information-
// governance officer can review. A reason must carry at least MIN_LETTERS letters a person can see, of
// at least MIN_DISTINCT_LETTERS different ones, once what cannot be seen is taken out: control and format
// characters (zero-width spaces and joiners, bidirectional overrides), default-ignorable code points
// (Hangul fillers are letters by category, and invisible) and combining marks. What is kept in the audit
// is that visible text. A category from BREAK_GLASS_CATEGORIES says which kind of emergency it was, and
// the break-glass report groups by it.

export const BREAK_GLASS_CATEGORIES = ['IMMEDIATE_RISK_OF_HARM', 'MISSING_CHILD', 'OUT_OF_HOURS_EMERGENCY', 'COURT_DIRECTION'] as const;
export type BreakGlassCategory = (typeof BREAK_GLASS_CATEGORIES)[number];

export const MIN_LETTERS = 20;
export const MIN_DISTINCT_LETTERS = 6;
/** The longest reason kept, in characters of visible text. */
export const MAX_REASON_LENGTH = 2000;

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cn}\p{Cs}]/gu;
const LETTER = /\p{L}/gu;

/** The reason as a person sees it: NFC, invisible characters removed, runs of space made one. */
export function visibleReason(reason: string): string {
  return reason.normalize('NFC').replace(INVISIBLE, '').replace(/\s+/gu, ' ').trim();
}

export type ReasonProblem = 'TOO_FEW_LETTERS' | 'TOO_FEW_DIFFERENT_LETTERS' | 'TOO_LONG';

/** Why a reason is not enough, or null when it is. */
export function reasonProblem(reason: string): ReasonProblem | null {
  const visible = visibleReason(reason);
  if (visible.length > MAX_REASON_LENGTH) return 'TOO_LONG';
  const letters = visible.match(LETTER) ?? [];
  if (letters.length < MIN_LETTERS) return 'TOO_FEW_LETTERS';
  if (new Set(letters.map((l) => l.toLocaleLowerCase('en-GB'))).size < MIN_DISTINCT_LETTERS) return 'TOO_FEW_DIFFERENT_LETTERS';
  return null;
}

export const REASON_MESSAGES: Record<ReasonProblem, string> = {
  TOO_FEW_LETTERS: `A break-glass reason says why, in at least ${MIN_LETTERS} letters`,
  TOO_FEW_DIFFERENT_LETTERS: 'A break-glass reason says why in words, not a repeated letter',
  TOO_LONG: `A break-glass reason is at most ${MAX_REASON_LENGTH} characters`,
};
