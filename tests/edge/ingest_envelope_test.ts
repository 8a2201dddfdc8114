/**
 * The signed ingest's envelope (`POST /webhooks/customers` with `{ customers, ... }`) takes the
 * upload body's fields, as `UploadCreateParamsSchema` names them, plus the edge's `region` and
 * `callback_url`: each upload field reaches the API, each field of the wrong JSON type is named,
 * and any other field is refused.
 */
import { assert, assertEquals } from "@std/assert";
import { createRecaptureProxy } from "../../src/edge/mod.ts";
import { UploadCreateParamsSchema } from "../../src/sdk/schemas.ts";
import { signPayload } from "../../src/signature/mod.ts";

const SECRET = "whsec_envelope_test";
const VIN = "1HGCM82633A004352";

/** A proxy whose upstream records each upload body and answers with an upload. */
function proxyRecordingUploads(): {
  post(envelope: unknown): Promise<Response>;
  sent: Record<string, unknown>[];
} {
  const sent: Record<string, unknown>[] = [];
  const env: Record<string, string> = {
    RECAPTURE_API_KEY: "sec_envelope_test",
    RECAPTURE_WEBHOOK_SECRETS: SECRET,
  };
  const proxy = createRecaptureProxy({
    env: (name) => env[name],
    fetch: async (request) => {
      sent.push(await request.json());
      const upload = {
        id: "upl_1",
        total_uploaded_customers: 1,
        total_processed_customers: 0,
        total_errors: 0,
      };
      return Response.json({ success: true, upload }, { status: 201 });
    },
  });
  return {
    sent,
    async post(envelope) {
      const body = JSON.stringify(envelope);
      return await proxy.fetch(
        new Request("http://proxy.test/webhooks/customers", {
          method: "POST",
          headers: { "recapture-signature": await signPayload(body, SECRET) },
          body,
        }),
      );
    },
  };
}

/** One value of each upload body field (the test fails when the body gains or loses one). */
const UPLOAD_FIELDS = {
  name: "CRM export",
  enable_rego_lookups: true,
  monitor_start_date: "2030-01-01",
  monitor_end_date: "2030-12-31",
  customers: [{ vin: VIN }],
};

Deno.test("ingest envelope: every upload body field reaches the API; region and callback_url stay", async () => {
  assertEquals(
    Object.keys(UPLOAD_FIELDS).sort(),
    Object.keys(UploadCreateParamsSchema.entries).sort(),
    "UPLOAD_FIELDS holds one value of each field of the upload body",
  );
  const proxy = proxyRecordingUploads();
  const res = await proxy.post({ ...UPLOAD_FIELDS, region: "nz" });
  assertEquals(res.status, 202, await res.text());
  assertEquals(proxy.sent, [UPLOAD_FIELDS]);
});

Deno.test("ingest envelope: a field of the wrong type is named; any other field is unknown", async () => {
  const proxy = proxyRecordingUploads();
  const fields = [...Object.keys(UploadCreateParamsSchema.entries), "region", "callback_url"];
  for (const field of fields) {
    // A number is no envelope field's type.
    const res = await proxy.post({ customers: [{ vin: VIN }], [field]: 7 });
    assertEquals(res.status, 422, field);
    const { issues } = await res.json() as { issues: { field: string; reason: string }[] };
    assertEquals(issues.length, 1, JSON.stringify(issues));
    assertEquals(issues[0].field, field);
    assert(/^must be an? (string|boolean|array)$/.test(issues[0].reason), issues[0].reason);
  }
  const res = await proxy.post({ customers: [{ vin: VIN }], webhook_secret: "x" });
  assertEquals(res.status, 422);
  assertEquals((await res.json()).issues, [
    { index: -1, field: "webhook_secret", reason: "unknown field" },
  ]);
  assertEquals(proxy.sent, [], "nothing refused reached the API");
});
