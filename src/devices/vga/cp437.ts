// IBM code page 437 → Unicode, for reading text-mode screens as strings. 0x20-0x7E
// are ASCII; 0x01-0x1F and 0x7F are the PC's glyphs for those codes; 0x00 and 0xFF
// (both shown blank) become spaces so screens compare as plain text.

const LOW =
  ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';
const HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■ ';

/** One character per code 0x00-0xFF. */
export const CP437: readonly string[] = (() => {
  const table: string[] = [];
  for (const ch of LOW) table.push(ch);
  for (let c = 0x20; c < 0x7f; c++) table.push(String.fromCharCode(c));
  table.push('⌂');
  for (const ch of HIGH) table.push(ch);
  return table;
})();

export function cp437ToString(codes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < codes.length; i++) s += CP437[codes[i] & 0xff];
  return s;
}
