// A command line as boot structures carry it (Multiboot §3.3 "cmdline", Xen's
// start_info.h "a zero-terminated ASCII string"): printable ASCII plus a NUL, at most
// `max` characters. Neither spec defines an encoding, so anything else is refused
// rather than guessed at.

/** Encode `text`, or throw `error` naming `what`, the length or the first bad character. */
export function encodeBootCmdline(text: string, max: number, what: string, error: new (message: string) => Error): Uint8Array {
  if (text.length > max) throw new error(`${what} is ${text.length} characters, at most ${max}`);
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new error(`${what}: character ${i} (U+${c.toString(16).padStart(4, '0')}) is not printable ASCII`);
    out[i] = c;
  }
  return out;
}
