// Defence in depth at an LA subgraph: every field of a child's record that carries a @dataCategory is
// checked, where it is resolved, against what the router's token permits: the categories of the
// request's purpose (the token's `categories`) and its decision (a summary, a full view). A document
// that somehow escaped the router's rewrite still gets FORBIDDEN for each such field, never its data.
import { GraphQLError, Kind, type DocumentNode, type GraphQLFieldResolver, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from 'graphql';
import { dataCategoryOf, permitsCategory } from '../../schema/data-categories.ts';
import type { InternalClaims } from '../../lib/internal-token.ts';

type Resolvers = Record<string, Record<string, unknown>>;

/** `Type.field` → category, for the fields of every type reachable from `root` (a child's record). */
export function categoriesUnder(typeDefs: DocumentNode, root: string): Map<string, string> {
  const types = new Map<string, (ObjectTypeDefinitionNode | ObjectTypeExtensionNode)[]>();
  for (const d of typeDefs.definitions) {
    if (d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    types.set(d.name.value, [...(types.get(d.name.value) ?? []), d]);
  }
  const categories = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !types.has(name)) return;
    seen.add(name);
    for (const definition of types.get(name)!) {
      for (const field of definition.fields ?? []) {
        const category = dataCategoryOf(field);
        if (category) categories.set(`${name}.${field.name.value}`, category);
        let type = field.type;
        while (type.kind !== Kind.NAMED_TYPE) type = type.type;
        visit(type.name.value);
      }
    }
  };
  visit(root);
  return categories;
}

/** The resolvers, each field of a child's record under a @dataCategory checked against the token first. */
export function guardDataCategories<C extends { claims: InternalClaims }>(typeDefs: DocumentNode, resolvers: Resolvers, root = 'Child'): Resolvers {
  const guarded: Resolvers = Object.fromEntries(Object.entries(resolvers).map(([type, fields]) => [type, { ...fields }]));
  for (const [path, category] of categoriesUnder(typeDefs, root)) {
    const [type, field] = path.split('.') as [string, string];
    const own = guarded[type]?.[field] as GraphQLFieldResolver<unknown, C> | undefined;
    const resolve: GraphQLFieldResolver<unknown, C> = own ?? ((parent) => (parent as Record<string, unknown> | null)?.[field]);
    guarded[type] = {
      ...guarded[type],
      [field]: (parent: unknown, args: Record<string, unknown>, context: C, info: Parameters<GraphQLFieldResolver<unknown, C>>[3]) => {
        const { allowed, reason } = permitsCategory(context.claims.categories ?? [], context.claims.decision, category);
        if (!allowed) throw new GraphQLError(`${field} is withheld for this ${reason === 'purpose' ? 'purpose' : 'caseworker'} (${category})`, { extensions: { code: 'FORBIDDEN', field, category, reason } });
        return resolve(parent, args, context, info);
      },
    };
  }
  return guarded;
}
