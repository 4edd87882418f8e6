// American Soundex, as NHS England's PDS uses for fuzzy name matching (e.g. Smith and Smythe: S530).

const CODES: Record<string, string> = {
  B: '1', F: '1', P: '1', V: '1',
  C: '2', G: '2', J: '2', K: '2', Q: '2', S: '2', X: '2', Z: '2',
  D: '3', T: '3',
  L: '4',
  M: '5', N: '5',
  R: '6',
};

export function soundex(name: string): string {
  const letters = name.normalize('NFD').toUpperCase().replace(/[^A-Z]/g, '');
  if (letters.length === 0) return '';
  let code = letters[0]!;
  let previous = CODES[letters[0]!] ?? '';
  for (let i = 1; i < letters.length && code.length < 4; i++) {
    const letter = letters[i]!;
    const digit = CODES[letter] ?? '';
    if (digit !== '' && digit !== previous) code += digit;
    // H and W do not separate letters with the same code; vowels do.
    if (letter !== 'H' && letter !== 'W') previous = digit;
  }
  return code.padEnd(4, '0');
}
