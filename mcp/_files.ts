/**
 * File input for the upload tool: a stdio server reads a CSV file the user names, so the rows
 * do not travel as tool arguments (a 300-row CSV is ~9k tokens). Only inside an allowed folder
 * (the client's `roots`, or a folder the operator gave at start), symlinks resolved and the
 * result re-checked, regular files only, at most {@linkcode MAX_FILE_BYTES}. Over HTTP the
 * server runs elsewhere than the user's files, so file input is refused there.
 *
 * @module
 */
import { failure } from "./tools/_tool.ts";

/** Largest file an upload reads. */
export const MAX_FILE_BYTES = 2_000_000;

/** The endings of the files an upload reads: CSV text (the tool reads nothing else). */
export const FILE_EXTENSIONS: readonly string[] = [".csv", ".tsv", ".txt"];

/** The folders a call may read from: the operator's, plus the client's roots when it has them. */
export type AllowedDirs = () => Promise<readonly string[]>;

function inside(path: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return path.startsWith(base);
}

/**
 * Why `path` is not a file an upload reads by its name, or null: a name starting with "." below
 * the open folder it lies in (dotfiles and dot-folders hold settings and secrets: `.env`,
 * `.git/`, `.npmrc`), or a name without a CSV ending. Judged on names only, before any read.
 */
function refusedName(path: string, dirs: readonly string[]): string | null {
  // The deepest open folder holding it: only the names below the folder the user opened count.
  const dir = dirs.filter((d) => inside(path, d)).sort((a, b) => b.length - a.length)[0];
  const below = dir === undefined ? path : path.slice(dir.replace(/\/$/, "").length + 1);
  const parts = below.split("/").filter((part) => part !== "");
  if (parts.some((part) => part.startsWith("."))) {
    return 'is hidden (a name on its path starts with "."): hidden files and folders hold ' +
      "settings and secrets, not customers, so this server does not read them";
  }
  const name = (parts.at(-1) ?? "").toLowerCase();
  if (!FILE_EXTENSIONS.some((ending) => name.endsWith(ending))) {
    return `does not end in ${FILE_EXTENSIONS.join(", ")}: this server reads only CSV files`;
  }
  return null;
}

async function realDirs(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    try {
      out.push(await Deno.realPath(dir));
    } catch {
      // A root that does not exist here allows nothing.
    }
  }
  return out;
}

/** `file://` root URIs as paths (others are ignored). */
export function rootPaths(uris: readonly string[]): string[] {
  const paths: string[] = [];
  for (const uri of uris) {
    try {
      const url = new URL(uri);
      if (url.protocol === "file:") paths.push(decodeURIComponent(url.pathname));
    } catch {
      // not a URI: ignored
    }
  }
  return paths;
}

/**
 * Reads `path` as UTF-8 text after every check; each refusal is a tool failure that names what
 * was wrong. `allowed` undefined means this server does not read files (HTTP).
 */
export async function readAllowedFile(
  path: string,
  allowed: AllowedDirs | undefined,
): Promise<string> {
  if (!allowed) {
    failure(
      "file_input_unavailable",
      "this server is reached over HTTP and cannot read the user's files; send the rows as " +
        "`csv` text or `customers` instead (or use the stdio server on the user's machine).",
    );
  }
  if (!path.startsWith("/")) {
    failure("invalid_file", `give an absolute path (got "${path.slice(0, 200)}").`);
  }
  const given = await allowed();
  const dirs = await realDirs(given);
  if (dirs.length === 0) {
    failure(
      "file_not_allowed",
      "no folder is open to this server: the client shares no roots and the server was " +
        "started without --files-dir. Send the rows as `csv` text instead.",
    );
  }
  const outside = () =>
    failure(
      "file_not_allowed",
      `${path.slice(0, 200)} is outside the folders open to this server (symlinks ` +
        `resolved): ${dirs.join(", ")}.`,
    );
  const check = (resolved: string) => {
    if (!dirs.some((dir) => inside(resolved, dir))) outside();
  };
  // The name as given, then (after links are resolved) the file it names: a link named
  // `data.csv` that points at `.env` is refused as `.env` would be.
  const named = (resolved: string, within: readonly string[]) => {
    const why = refusedName(resolved, within);
    if (why !== null) {
      failure(
        "file_not_allowed",
        `${path.slice(0, 200)} ${why}. Ask the user which customer CSV to upload.`,
      );
    }
  };
  const lexical = decodeURIComponent(new URL(path, "file:///").pathname);
  if ([...dirs, ...given].some((dir) => inside(lexical, dir))) named(lexical, [...dirs, ...given]);
  let real: string;
  try {
    real = await Deno.realPath(path);
  } catch {
    // Only inside the open folders does the answer say whether a file exists: elsewhere a
    // missing file is "outside" too, so the server is no oracle for the rest of the machine.
    if (![...dirs, ...given].some((dir) => inside(lexical, dir))) outside();
    failure("invalid_file", `no such file: ${path.slice(0, 200)}`);
  }
  check(real);
  named(real, dirs);
  // Before opening: opening a FIFO or device could block or read without end.
  if (!(await Deno.stat(real)).isFile) {
    failure("invalid_file", `${path.slice(0, 200)} is not a regular file.`);
  }
  const file = await Deno.open(real, { read: true });
  try {
    const info = await file.stat();
    if (!info.isFile) failure("invalid_file", `${path.slice(0, 200)} is not a regular file.`);
    if (info.size > MAX_FILE_BYTES) {
      failure(
        "file_too_large",
        `${path.slice(0, 200)} has ${info.size} bytes; at most ${MAX_FILE_BYTES} (bigger files ` +
          "belong to the CLI: recapture upload).",
      );
    }
    // Re-checked after opening: a link swapped in between must still land inside.
    check(await Deno.realPath(real));
    const bytes = new Uint8Array(info.size);
    let read = 0;
    while (read < bytes.length) {
      const n = await file.read(bytes.subarray(read));
      if (n === null) break;
      read += n;
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, read));
    } catch {
      return failure("invalid_file", `${path.slice(0, 200)} is not UTF-8 text.`);
    }
  } finally {
    file.close();
  }
}
