// Data minimisation: which data categories (the @dataCategory directive of the source standards) each
// purpose permits, and which a summary view permits; and the categories of each field, read from the
// supergraph the router serves.
import { Kind, parse } from 'graphql';
import { dataCategoryOf, permitsCategory } from '../schema/data-categories.ts';
import type { AccessDecision } from '../lib/internal-token.ts';

export { DEFAULT_PURPOSE_CATEGORIES, SUMMARY_CATEGORIES, dataCategoryOf } from '../schema/data-categories.ts';

export function permits(options: { purposes: Record<string, string[]>; purpose: string | null; decision: AccessDecision }, category: string): { allowed: boolean; reason?: 'purpose' | 'relationship' } {
  return permitsCategory(options.purpose ? (options.purposes[options.purpose] ?? []) : [], options.decision, category);
}

/** `Type.field` → category, from the supergraph's @dataCategory directives. */
export function fieldCategories(supergraphSdl: string): Map<string, string> {
  const categories = new Map<string, string>();
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of definition.fields ?? []) {
      const name = dataCategoryOf(field);
      if (name) categories.set(`${definition.name.value}.${field.name.value}`, name);
    }
  }
  return categories;
}
