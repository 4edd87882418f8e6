// The portal's small shared pieces: the error summary, withheld and unavailable notices, a GOV.UK-style
// date input, and how a GraphQL answer's errors are read.
import type { ApolloError } from '@apollo/client';
import { useEffect, useRef } from 'react';

export interface GraphQLProblem {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; source?: string; field?: string; reason?: string };
}

/** The ten digits of an NHS number as typed (spaces and hyphens allowed), or null when it is not ten digits. */
export function nhsNumberDigits(typed: string): string | null {
  const digits = typed.replace(/[\s-]/g, '');
  return /^\d{10}$/.test(digits) ? digits : null;
}
export const NHS_NUMBER_PROBLEM = 'Enter an NHS number of 10 digits';

export const problemsOf = (error: ApolloError | undefined): readonly GraphQLProblem[] => (error?.graphQLErrors ?? []) as readonly GraphQLProblem[];

/** An error that refuses the whole request (rather than withholding a field or naming a source). */
export function refusal(error: ApolloError | undefined): string | null {
  if (error?.networkError) return 'The router could not be reached. Try again.';
  const refused = problemsOf(error).find((e) => ['UNAUTHENTICATED', 'BAD_USER_INPUT', 'INVALID_NHS_NUMBER', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR'].includes(e.extensions?.code ?? '') || (e.extensions?.code === 'FORBIDDEN' && (e.path?.length ?? 0) <= 1));
  return refused?.message ?? null;
}

export function ErrorSummary({ problems }: { problems: string[] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), [problems]);
  return (
    <div className="error-summary" role="alert" tabIndex={-1} ref={ref}>
      <h2>There is a problem</h2>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}

/** Says why a section is not shown: the purpose declared, or the caseworker's relationship to the child. */
export function Withheld({ reason }: { reason?: string | undefined }) {
  return <p className="withheld">{reason === 'relationship' ? 'Withheld: you are not allocated to this child (summary only)' : 'Withheld for this purpose'}</p>;
}

export interface DateParts {
  day: string;
  month: string;
  year: string;
}
export const emptyDate: DateParts = { day: '', month: '', year: '' };

/** yyyy-mm-dd, or null when the parts are not a real date. */
export function isoFromParts({ day, month, year }: DateParts): string | null {
  const [d, m, y] = [Number(day), Number(month), Number(year)];
  if (!/^\d{1,2}$/.test(day.trim()) || !/^\d{1,2}$/.test(month.trim()) || !/^\d{4}$/.test(year.trim())) return null;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

export const isEmptyDate = (parts: DateParts) => !parts.day.trim() && !parts.month.trim() && !parts.year.trim();

export function DateInput({ id, legend, hint, value, onChange }: { id: string; legend: string; hint?: string; value: DateParts; onChange(value: DateParts): void }) {
  const part = (name: keyof DateParts, label: string, width: string) => (
    <div className="date-part">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input id={`${id}-${name}`} className={width} inputMode="numeric" autoComplete="off" value={value[name]} onChange={(e) => onChange({ ...value, [name]: e.target.value })} />
    </div>
  );
  return (
    <fieldset className="field" aria-describedby={hint ? `${id}-hint` : undefined}>
      <legend>{legend}</legend>
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      <div className="date-input">
        {part('day', 'Day', 'input-2')}
        {part('month', 'Month', 'input-2')}
        {part('year', 'Year', 'input-4')}
      </div>
    </fieldset>
  );
}

/** A labelled text input, GOV.UK style. */
export function TextField({ id, label, value, onChange, className, numeric }: { id: string; label: string; value: string; onChange(value: string): void; className?: string; numeric?: boolean }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} className={className} inputMode={numeric ? 'numeric' : undefined} autoComplete="off" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
