// Text from a device (serials, properties, command output) on its way to a terminal or a message.

/** Device output in a message: one line, no control characters (it is shown in a terminal: no escape sequences). */
export function printable(text: string, max = 300): string {
  const flat = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
  return flat.length > max ? `…${flat.slice(-max)}` : flat;
}
