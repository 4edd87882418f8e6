// Code lists from the DfE children in need and looked-after census and the SEN2 return, as the
// Standard Safeguarding Dataset records them.

export const ETHNICITY_BY_BACKGROUND: Readonly<Record<string, readonly string[]>> = {
  britishIrish: ['WBRI', 'WBRI', 'WBRI', 'WBRI', 'WIRI', 'WOTH', 'MWBC'],
  southAsian: ['APKN', 'AIND', 'ABAN', 'AOTH', 'MWAS'],
  easternEuropean: ['WOTH', 'WROM'],
  westAfrican: ['BAFR', 'BAFR', 'MWBA'],
  eastAfrican: ['BAFR', 'BOTH'],
  eastAsian: ['CHNE', 'AOTH'],
  arabic: ['OOTH', 'AOTH'],
  caribbean: ['BCRB', 'BCRB', 'MWBC'],
  westernEuropean: ['WOTH'],
};

/** CIN primary need codes, weighted roughly as in the national CIN census. */
export const PRIMARY_NEED = { N1: 57, N2: 9, N3: 4, N4: 14, N5: 9, N6: 2, N7: 1, N8: 3, N9: 1 } as const;

export const REFERRAL_SOURCES: readonly (readonly [string, string])[] = [
  ['1A', 'Individual: family member, relative or carer'],
  ['1C', 'Individual: self'],
  ['2A', 'Schools'],
  ['3A', 'Health services: GP'],
  ['3B', 'Health services: health visitor'],
  ['3E', 'Health services: A&E'],
  ['4', 'Housing'],
  ['5A', 'LA services: social care'],
  ['5C', 'LA services: external (another LA)'],
  ['6', 'Police'],
  ['9', 'Anonymous'],
];

export const CP_CATEGORIES = { NEG: 50, EMO: 35, PHY: 7, SAB: 4, MUL: 4 } as const;

export const PLACEMENT_TYPES = { U4: 40, U6: 15, U1: 12, U3: 6, K2: 12, P1: 6, H5: 5, R1: 4 } as const;

export const CLA_CEASED_REASONS = ['E4A', 'E11', 'E45', 'E41', 'E8', 'E17'] as const;

export const SEN_NEED_TYPES = ['SEMH', 'SLCN', 'ASD', 'MLD', 'SpLD', 'SLD', 'PD', 'HI', 'VI', 'OTH'] as const;

export const TEAMS = [
  'Assessment Team',
  'Children in Need Team',
  'Child Protection Team',
  'Looked After Children Team',
  'Disabled Children Team',
  'Leaving Care Team',
] as const;
