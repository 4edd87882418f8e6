// Checks a subgraph's SDL against the contract for its source kind (schema/contracts/<kind>.graphql):
// every type and field the contract names must be there, with the same type, arguments and data
// category. It reads SDL as written, so an LA developer can run it on a schema before serving it.
import { readFileSync } from 'node:fs';
import {
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type EnumTypeDefinitionNode,
  type EnumTypeExtensionNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';

export const SOURCE_KINDS = ['csc', 'education'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const contractPath = (kind: SourceKind) => new URL(`../schema/contracts/${kind}.graphql`, import.meta.url);

export interface ContractProblem {
  /** Type or Type.field the problem is about. */
  path: string;
  problem: string;
}

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
type EnumNode = EnumTypeDefinitionNode | EnumTypeExtensionNode;

function definitionsByName(document: DocumentNode): Map<string, DefinitionNode[]> {
  const byName = new Map<string, DefinitionNode[]>();
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name) continue;
    const list = byName.get(definition.name.value) ?? [];
    list.push(definition);
    byName.set(definition.name.value, list);
  }
  return byName;
}

const isObject = (d: DefinitionNode): d is ObjectNode => d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION;
const isEnum = (d: DefinitionNode): d is EnumNode => d.kind === Kind.ENUM_TYPE_DEFINITION || d.kind === Kind.ENUM_TYPE_EXTENSION;

function category(directives: readonly ConstDirectiveNode[] | undefined): string | undefined {
  const directive = directives?.find((d) => d.name.value === 'dataCategory');
  const argument = directive?.arguments?.find((a) => a.name.value === 'name');
  return argument?.value.kind === Kind.STRING ? argument.value.value : undefined;
}

function checkField(typeName: string, expected: FieldDefinitionNode, actual: FieldDefinitionNode | undefined, problems: ContractProblem[]): void {
  const path = `${typeName}.${expected.name.value}`;
  if (!actual) {
    problems.push({ path, problem: `missing: the contract requires ${expected.name.value}: ${print(expected.type)}` });
    return;
  }
  if (print(actual.type) !== print(expected.type)) {
    problems.push({ path, problem: `mistyped: ${print(actual.type)} where the contract requires ${print(expected.type)}` });
  }
  for (const argument of expected.arguments ?? []) {
    const match = actual.arguments?.find((a) => a.name.value === argument.name.value);
    if (!match) problems.push({ path, problem: `missing argument ${argument.name.value}: ${print(argument.type)}` });
    else if (print(match.type) !== print(argument.type)) problems.push({ path, problem: `argument ${argument.name.value} is ${print(match.type)}, the contract requires ${print(argument.type)}` });
  }
  const wanted = category(expected.directives);
  if (wanted && category(actual.directives) !== wanted) {
    problems.push({ path, problem: `needs @dataCategory(name: "${wanted}")${category(actual.directives) ? `, has "${category(actual.directives)}"` : ''}` });
  }
}

export function checkContract(subgraphSdl: string, kind: SourceKind): ContractProblem[] {
  const contract = parse(readFileSync(contractPath(kind), 'utf8'));
  let subgraph: DocumentNode;
  try {
    subgraph = parse(subgraphSdl);
  } catch (error) {
    return [{ path: '(schema)', problem: `not valid SDL: ${error instanceof Error ? error.message : String(error)}` }];
  }
  const actual = definitionsByName(subgraph);
  const problems: ContractProblem[] = [];
  for (const expected of contract.definitions) {
    if (!('name' in expected) || !expected.name) continue;
    const name = expected.name.value;
    const found = actual.get(name) ?? [];
    if (isObject(expected)) {
      const objects = found.filter(isObject);
      if (objects.length === 0) {
        problems.push({ path: name, problem: 'missing type' });
        continue;
      }
      const fields = objects.flatMap((o) => o.fields ?? []);
      for (const field of expected.fields ?? []) checkField(name, field, fields.find((f) => f.name.value === field.name.value), problems);
      const key = expected.directives?.find((d) => d.name.value === 'key');
      if (key && !objects.some((o) => o.directives?.some((d) => d.name.value === 'key' && print(d) === print(key)))) {
        problems.push({ path: name, problem: `needs ${print(key)}` });
      }
    } else if (isEnum(expected)) {
      const values = new Set(found.filter(isEnum).flatMap((e) => (e.values ?? []).map((v) => v.name.value)));
      if (found.filter(isEnum).length === 0) problems.push({ path: name, problem: 'missing enum' });
      else for (const value of expected.values ?? []) if (!values.has(value.name.value)) problems.push({ path: name, problem: `missing value ${value.name.value}` });
    }
  }
  return problems;
}
