// Raw terminal mode as xl console sets it (cfmakeraw): no echo, no line editing, no
// signal keys, AND no output processing. Node's setRawMode leaves output processing on
// (ONLCR turns the guest's "\r\n" into "\r\r\n"), and has no call to turn it off, so
// the terminal's settings are saved and OPOST is cleared with stty(1) on the same tty.

import { spawnSync } from 'node:child_process';

export interface TerminalInput {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

/** Puts stdin's terminal in raw mode; returns the function that restores it. */
export function enterRawMode(input: TerminalInput, stdinIsInput: boolean): () => void {
  if (!input.isTTY || !input.setRawMode) return () => {};
  const stty = (...args: string[]): string | undefined => {
    if (!stdinIsInput) return undefined;
    const r = spawnSync('stty', args, { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const saved = stty('-g');
  input.setRawMode(true);
  if (saved) stty('-opost');
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    input.setRawMode!(false);
    if (saved) stty(saved);
  };
  // Even an unexpected exit must not leave the user's terminal raw.
  process.on('exit', restore);
  return restore;
}
