// Familiar forms of given names, as records in England and Wales hold them: a child registered as Thomas
// is often Tom on a school or social care record, Aleksander may be Olek, Muhammad may be Mo. No
// maintained data set of British familiar forms is published as a package, so this table is MATCH's own,
// compiled from common usage across the naming traditions of children in England (English, Welsh, Irish,
// Scottish, Polish, Romanian, Arabic, South Asian, West African and others) and reviewed by hand. It is
// deliberately conservative: a familiar form shared by two formal names (Alex: Alexander, Alexandra) maps to
// both, and agreement through this table is weaker evidence than the same name, so it never makes a
// MATCH that the rest of the record does not support. Extend it here; spelling variants (Mohammed and
// Muhammad) are left to the name comparison and PDS's fuzzy search.
import { normaliseName } from '../../lib/names.ts';

/** Formal name, then its familiar forms. */
const TABLE = `
Abigail: Abby Abbie Gail
Adam: Ad
Albert: Al Bert Bertie
Alexander: Alex Alec Sandy Xander Lex Sasha
Alexandra: Alex Lexi Sandra Sasha Zandra
Aleksander: Olek Alek Olo
Alfred: Alf Alfie Fred
Andrew: Andy Drew
Anthony: Tony Ant
Antonio: Toni Tonio
Archibald: Archie Archy
Arthur: Art Artie
Barnaby: Barney
Benjamin: Ben Benny Benji
Bernard: Bernie
Catherine: Cathy Kate Katie Cat
Charles: Charlie Chas Chuck
Charlotte: Lottie Charlie Lotte
Christopher: Chris Kit Topher
Christina: Chris Tina Chrissie
Daniel: Dan Danny
David: Dave Davy Dai
Deborah: Debbie Deb
Dominic: Dom
Dorothy: Dot Dolly Dottie
Edward: Ed Eddie Ted Teddy Ned
Eleanor: Ellie Nell Nora Elle
Elizabeth: Beth Liz Lizzie Libby Eliza Betsy Bess Elsie Lisa
Emily: Em Emmy Millie
Emma: Em Emmie
Evangeline: Eva Evie
Frances: Fran Frankie Fanny
Francis: Frank Frankie Fran
Frederick: Fred Freddie Freddy
Gabriel: Gabe Gabby
Gabriella: Gabby Ella Brie
Geoffrey: Geoff Jeff
Georgina: Georgie Gina
Gregory: Greg
Harold: Harry Hal
Harriet: Hattie Harry
Henry: Harry Hal Hank
Isabella: Bella Izzy Isa Issy
Isabelle: Bella Izzy Issy
Jacob: Jake Jakey
Jakub: Kuba
James: Jim Jimmy Jamie Jem
Jennifer: Jen Jenny
Jessica: Jess Jessie
John: Jack Johnny Jon
Jonathan: Jon Jonny Nathan
Joseph: Joe Joey Jo
Josephine: Jo Josie
Joshua: Josh
Katherine: Kate Katie Kath Kathy Kat Kitty
Kathleen: Kath Kathy
Kenneth: Ken Kenny
Lawrence: Larry Laurie
Leonard: Len Lenny Leo
Louisa: Lou Lulu
Louise: Lou Lulu
Lucas: Luke
Madeleine: Maddie Maddy
Margaret: Maggie Meg Peggy Marge Greta
Matilda: Tilly Tilda Mattie
Matthew: Matt Matty
Michael: Mike Mick Mikey Micky
Mohammed: Mo Moe
Muhammad: Mo Moe
Nathaniel: Nat Nate Nathan
Nicholas: Nick Nicky Nico
Oliver: Ollie Olly
Olivia: Liv Livvy Livia Ollie
Patrick: Pat Paddy
Penelope: Penny Nell
Peter: Pete
Philip: Phil Pip
Rebecca: Becky Becca Bex
Richard: Rich Rick Ricky Dick
Robert: Rob Robbie Bob Bobby Bert
Ronald: Ron Ronnie
Samantha: Sam Sammy
Samuel: Sam Sammy
Sebastian: Seb Bastian
Sophia: Sophie Soph
Stephen: Steve Stevie
Steven: Steve Stevie
Susannah: Sue Susie Suzy Sukie
Theodore: Theo Ted Teddy
Thomas: Tom Tommy Thom
Timothy: Tim Timmy
Valentina: Val Tina
Victoria: Vicky Tori Vic
William: Will Bill Billy Liam Willie
Zachary: Zach Zack
Zuzanna: Zuza
Małgorzata: Gosia
Katarzyna: Kasia
Aleksandra: Ola
Wojciech: Wojtek
Magdalena: Magda
Ioana: Ioni
Abdullah: Abdul
Abdulrahman: Abdul
Oluwaseun: Seun
Oluwatobiloba: Tobi
Oluwadamilare: Dami
Chukwuemeka: Emeka
Chiamaka: Amaka
Oluwafemi: Femi
Siobhán: Shiv
Caoimhe: Keeva
Seán: Shaun
`;

/** Each name (normal form) and the others of its groups; each familiar form and the formal names it may stand for. */
const formsOf = new Map<string, Set<string>>();
const formalOf = new Map<string, string[]>();
for (const line of TABLE.trim().split('\n')) {
  const [formal, forms] = line.split(':') as [string, string];
  const familiar = forms.trim().split(/\s+/).map(normaliseName).filter(Boolean);
  const group = [normaliseName(formal), ...familiar];
  for (const name of group) {
    const known = formsOf.get(name) ?? new Set<string>();
    for (const other of group) if (other !== name) known.add(other);
    formsOf.set(name, known);
  }
  for (const name of familiar) formalOf.set(name, [...new Set([...(formalOf.get(name) ?? []), formal])]);
}

/** Whether two given names are familiar forms of one another (Tom and Thomas; Tom and Tommy). */
export function familiarForms(a: string, b: string): boolean {
  const x = normaliseName(a);
  const y = normaliseName(b);
  return x !== y && (formsOf.get(x)?.has(y) ?? false);
}

/** The formal names a familiar form may stand for (Tom: Thomas), to search PDS with; none for a formal name. */
export function formalNamesOf(name: string): string[] {
  return formalOf.get(normaliseName(name)) ?? [];
}
