// `status <job>` and `cancel <job>`: a file's uploads as one job. Private to src/cli/mod.ts.

import {
  type BulkManifest,
  cancelJob,
  type JobStatus,
  jobStatus,
  waitForJob,
} from "../import/bulk.ts";
import type { RecaptureClient } from "../sdk/client.ts";
import type { Region } from "../sdk/schemas.ts";
import { num, table } from "./_format.ts";
import { EXIT, FileError, type Io, UsageError } from "./_io.ts";
import { readSaved } from "./_upload.ts";

/** Whether a `status` / `cancel` argument names a job (an id, or a manifest file). */
export function isJobRef(ref: string): boolean {
  return ref.startsWith("job_") || ref.endsWith(".recapture.json") || ref.endsWith(".json");
}

/** The manifest of a job: `job_...` through the index in `jobsDir`, or a manifest path. */
async function jobManifest(
  ref: string,
  jobsDir: string,
): Promise<{ manifest: BulkManifest; file: string }> {
  let path = ref;
  if (ref.startsWith("job_")) {
    if (!/^job_[0-9a-f]{1,64}$/.test(ref)) throw new UsageError(`${ref} is not a job id`);
    try {
      path = JSON.parse(await Deno.readTextFile(`${jobsDir}/${ref}.json`)).manifest;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new FileError(
          `No job ${ref} here (${jobsDir}): give its manifest file instead (<file>.recapture.json)`,
        );
      }
      throw error;
    }
  }
  const saved = await readSaved(path);
  if (saved === undefined) throw new FileError(`The manifest of ${ref} is gone: ${path}`);
  return { manifest: saved.manifest, file: saved.file.path };
}

function jobTable(s: JobStatus): string {
  const cancelled = s.uploads.filter((u) => u.status === "cancelled").length;
  const pct = s.total_uploaded_customers > 0
    ? Math.floor(s.total_processed_customers / s.total_uploaded_customers * 100)
    : 0;
  return table([
    ["job", s.job_id ?? "(none)"],
    ["uploads", `${num(s.uploads.length)}${cancelled ? ` (${num(cancelled)} cancelled)` : ""}`],
    ["status", `${s.done ? "done" : "processing"} (${pct}% processed)`],
    ["uploaded", num(s.total_uploaded_customers)],
    ["processed", num(s.total_processed_customers)],
    ["errors", num(s.total_errors)],
  ]) + "\n";
}

function jobJson(s: JobStatus): Record<string, unknown> {
  return {
    job_id: s.job_id,
    upload_ids: s.uploads.map((u) => u.id),
    done: s.done,
    total_uploaded_customers: s.total_uploaded_customers,
    total_processed_customers: s.total_processed_customers,
    total_errors: s.total_errors,
  };
}

/** Options of {@linkcode jobCommand}. */
export interface JobCommandOptions {
  region: Region;
  json: boolean;
  wait: boolean;
  pollMs: number;
  jobsDir: string;
}

/** `status <job>` (with `--wait`, one combined progress line) or `cancel <job>`. */
export async function jobCommand(
  io: Io,
  client: RecaptureClient,
  command: "status" | "cancel",
  ref: string,
  o: JobCommandOptions,
): Promise<number> {
  const { manifest, file } = await jobManifest(ref, o.jobsDir);
  const call = { region: manifest.region ?? o.region };
  if (command === "cancel") {
    const r = await cancelJob(client, manifest, call);
    const said = r.result === "cancelled"
      ? `Cancelled ${num(r.cancelled_uploads)} of ${num(r.uploads.length)} uploads: ${
        num(r.not_processed)
      } customers will not be created; the ${
        num(r.total_processed_customers - r.total_errors)
      } already created stay. Resume with: deno task recapture upload ${file} --resume\n`
      : r.result === "already_cancelled"
      ? `Already cancelled: nothing more to stop (${num(r.already_cancelled_uploads)} of ${
        num(r.uploads.length)
      } uploads were cancelled before, ${num(r.completed_uploads)} completed).\n`
      : "Already completed: nothing cancelled (every customer was processed).\n";
    io.out(
      o.json
        ? JSON.stringify({
          ...jobJson(r),
          outcome: {
            result: r.result,
            cancelled_uploads: r.cancelled_uploads,
            already_cancelled_uploads: r.already_cancelled_uploads,
            completed_uploads: r.completed_uploads,
            not_processed: r.not_processed,
          },
        }) + "\n"
        : jobTable(r) + said,
    );
    return EXIT.ok;
  }
  const s = o.wait
    ? await waitForJob(client, manifest, {
      ...call,
      intervalMs: o.pollMs,
      onProgress: (s) => {
        if (io.tty && !o.json && !s.done) {
          io.err(
            `\r\x1b[K${s.job_id}: processed ${num(s.total_processed_customers)} of ${
              num(s.total_uploaded_customers)
            } in ${num(s.uploads.length)} uploads, ${num(s.total_errors)} errors`,
          );
        }
      },
    })
    : await jobStatus(client, manifest, call);
  if (o.wait && io.tty && !o.json) io.err("\n");
  io.out(o.json ? JSON.stringify(jobJson(s)) + "\n" : jobTable(s));
  return s.total_errors > 0 ? EXIT.badRows : EXIT.ok;
}
