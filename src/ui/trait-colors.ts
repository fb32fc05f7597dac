/** One colour per trait, stable by its position in the trait list. */
const PALETTE = ['#4b5fd6', '#e0662a', '#2a9d57', '#c2378f', '#8a6d1f', '#1f8ea3', '#7b4bd6', '#d63b3b', '#5a7a2a', '#a35a1f', '#3b6fd6', '#9c3bd6'];

export function traitColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}
