// The command line's plumbing: parsed arguments, output, errors and exit codes. Private.

import { CsvError, NdjsonError } from "../import/csv.ts";
import { num } from "./_format.ts";
import {
  ConnectionError,
  QuotaExceededError,
  RateLimitError,
  RecaptureApiError,
  RecaptureError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "../sdk/errors.ts";

/** Exit codes, documented in the README's "Command line" section and in `--help`. */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  file: 3,
  badRows: 4,
  refused: 5,
  unavailable: 6,
  interrupted: 130,
} as const;

/** Wrong arguments: exit 2 with the message and a pointer to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A file that cannot be used: exit 3. */
export class FileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FileError";
  }
}

/** Where output goes; tests and the README transcript use the real streams. */
export interface Io {
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** Whether stderr is a terminal (live progress bar). */
  tty: boolean;
  /** Terminal width for the progress bar. */
  columns(): number;
}

const encoder = new TextEncoder();

/** The process's streams. */
export function processIo(): Io {
  return {
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    tty: Deno.stderr.isTerminal(),
    columns: () => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 100;
      }
    },
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let at = 0;
  try {
    while (at < bytes.length) at += stream.writeSync(bytes.subarray(at));
  } catch (error) {
    // The reader went away (`| head`): it wanted no more, so stop quietly, as cat does.
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw error;
  }
}

/** The exit code and a one-line message for an error. */
export function classify(error: unknown): { code: number; kind: string; message: string } {
  const found = classifyRaw(error);
  return { ...found, message: cliWords(found.message) };
}

/**
 * The SDK's hints in the command line's words: `{ "X": "field" }` (the columns option) becomes
 * `--map "X=field"`, `dateOrder "mdy"` `--date-order mdy`, `the encoding option "L"` `--encoding L`,
 * `allowPastExpiry: true` `--allow-past-expiry`. Every message and reason the CLI shows goes
 * through here, so a hint names a flag the user can type.
 */
export function cliWords(text: string): string {
  return text
    .replace(/\{ "((?:[^"\\]|\\.)*)": "([a-z_]+)" \}/g, '--map "$1=$2"')
    .replace(/the columns option/g, "--map")
    .replace(/dateOrder "(dmy|mdy)"/g, "--date-order $1")
    .replace(/the encoding option "([^"]+)"/g, "--encoding $1")
    .replace(/allowPastExpiry: true/g, "--allow-past-expiry");
}

function classifyRaw(error: unknown): { code: number; kind: string; message: string } {
  if (error instanceof UsageError) {
    return { code: EXIT.usage, kind: "usage", message: error.message };
  }
  if (error instanceof FileError) return { code: EXIT.file, kind: "file", message: error.message };
  if (error instanceof CsvError || error instanceof NdjsonError) {
    return { code: EXIT.file, kind: error.code, message: error.message };
  }
  if (
    error instanceof ConnectionError || error instanceof TimeoutError ||
    error instanceof ServerError || error instanceof RateLimitError
  ) {
    return { code: EXIT.unavailable, kind: error.code, message: error.message };
  }
  if (
    error instanceof RecaptureApiError || error instanceof ValidationError ||
    error instanceof QuotaExceededError
  ) {
    return { code: EXIT.refused, kind: error.code, message: error.message };
  }
  if (error instanceof RecaptureError) {
    return { code: EXIT.unexpected, kind: error.code, message: error.message };
  }
  if (error instanceof Deno.errors.NotFound) {
    return { code: EXIT.file, kind: "file", message: error.message };
  }
  if (
    error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.IsADirectory ||
    error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists
  ) {
    return { code: EXIT.file, kind: "file", message: error.message };
  }
  return {
    code: EXIT.unexpected,
    kind: "unexpected",
    message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}

/** A flag's whole number from 1 to `max`, or `fallback` when the flag is not given. */
export function positiveInt(
  value: string | undefined,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(
      `${name} must be a whole number from 1${
        max < Number.MAX_SAFE_INTEGER ? ` to ${num(max)}` : " up"
      }, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
