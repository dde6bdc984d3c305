// Attaches a terminal to a domain's COM1, like `xl console`: raw mode, every byte
// typed goes to the guest unchanged (Ctrl-C included), guest bytes go to the output
// unchanged, and the escape byte Ctrl-] (0x1D, xl's default) detaches.

import type { DomainHandle } from '../toolstack/domain-handle.js';
import { enterRawMode } from './terminal-mode.js';

export const CONSOLE_ESCAPE = 0x1d;

export interface ConsoleStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream;
}

export interface SerialConsole {
  /** Resolves when the user pressed the escape byte. */
  readonly escaped: Promise<void>;
  /** True while the input terminal is in raw mode (line ends need "\r\n"). */
  readonly raw: boolean;
  detach(): void;
}

export function attachSerialConsole(handle: DomainHandle, { input, output }: ConsoleStreams): SerialConsole {
  let resolveEscaped!: () => void;
  const escaped = new Promise<void>((r) => (resolveEscaped = r));
  const raw = Boolean(input.isTTY && input.setRawMode);
  const restoreTerminal = enterRawMode(input, input === process.stdin);
  let attached = true;

  const onGuestBytes = (port: number, bytes: Uint8Array): void => {
    if (port === 0) output.write(bytes);
  };
  const onTyped = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    const esc = bytes.indexOf(CONSOLE_ESCAPE);
    const toGuest = esc < 0 ? bytes : bytes.subarray(0, esc);
    if (toGuest.length > 0) handle.serialInput(toGuest);
    if (esc >= 0) {
      detach();
      resolveEscaped();
    }
  };
  const detach = (): void => {
    if (!attached) return;
    attached = false;
    handle.off('serial', onGuestBytes);
    input.off('data', onTyped);
    restoreTerminal();
    input.pause();
  };

  handle.on('serial', onGuestBytes);
  input.on('data', onTyped);
  input.resume();
  return {
    escaped,
    get raw() {
      return raw && attached;
    },
    detach,
  };
}
