/**
 * The `customers` toolset: list, get, update and delete tracked customers.
 *
 * @module
 */
import * as z from "zod";
import type { CustomerUpdateParams, Region } from "../../mod.ts";
import { expiresImmediately, isRegion, NotFoundError } from "../../mod.ts";
import { explainError } from "../_errors.ts";
import {
  boundCustomer,
  clearedFields,
  clearingWhat,
  confirmationToken,
  CUSTOMER_FIELDS,
  customerId,
  customerOut,
  customerReadOut,
  customerView,
  DEFAULT_LIST_LIMIT,
  defineTool,
  describeCustomer,
  DESTRUCTIVE_IDEMPOTENT,
  failure,
  guarded,
  json,
  MAX_LIST_LIMIT,
  MAX_LIST_RESULT_CHARS,
  noEffect,
  onResource,
  READ_ONLY,
  region,
  regionOf,
  resourceLink,
} from "./_tool.ts";
import type {
  CustomerOut,
  EffectPlan,
  RegisteredToolSpec,
  ToolContext,
  ToolOutcome,
} from "./_tool.ts";

const listInput = {
  upload_id: z.string().min(1).max(200).optional().describe("Only this upload's."),
  offset: z.number().int().min(0).max(1e9).optional().describe("Default 0."),
  limit: z.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT).describe(
    "Page size.",
  ),
  cursor: z.string().max(500).optional().describe("next_cursor of the last page."),
  fields: z.array(z.enum(CUSTOMER_FIELDS)).optional().describe("Only these fields (id always)."),
  region,
};

const listOutput = {
  customers: z.array(customerReadOut),
  total: z.number().nullable(),
  offset: z.number(),
  has_more: z.boolean(),
  next_offset: z.number().nullable(),
  next_cursor: z.string().nullable(),
};

interface CursorState {
  offset: number;
  upload_id: string | null;
  region: Region;
}

function encodeCursor(state: CursorState): string {
  return btoa(JSON.stringify([state.offset, state.upload_id, state.region]))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): CursorState {
  try {
    const value: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (
      Array.isArray(value) && value.length === 3 && Number.isInteger(value[0]) && value[0] >= 0 &&
      (value[1] === null || typeof value[1] === "string") &&
      isRegion(value[2])
    ) {
      return { offset: value[0], upload_id: value[1], region: value[2] };
    }
  } catch {
    // fall through
  }
  return failure(
    "invalid_cursor",
    "the cursor is not one this tool returned. Pass next_cursor unchanged, or use offset.",
  );
}

function pick(customer: CustomerOut, fields: readonly string[] | undefined): CustomerOut {
  if (!fields) return customer;
  const out: CustomerOut = { id: customer.id };
  for (const f of fields) if (f in customer) out[f] = customer[f];
  return out;
}

const listCustomers = defineTool({
  name: "recapture_list_customers",
  title: "List customers",
  description: "List customers a page at a time (fields keep it small). To find one: " +
    "recapture_find_customers.",
  access: "read",
  annotations: READ_ONLY,
  input: listInput,
  output: listOutput,
  async run(args, ctx) {
    let state: CursorState;
    if (args.cursor !== undefined) {
      if (args.offset !== undefined || args.upload_id !== undefined || args.region !== undefined) {
        return {
          ok: false,
          text: "invalid_arguments: a cursor already fixes offset, upload_id and region; " +
            "pass the cursor alone (with limit/fields if wanted).",
        };
      }
      try {
        state = decodeCursor(args.cursor);
      } catch (error) {
        return { ok: false, text: explainError(error, { region: regionOf(args, ctx) }) };
      }
    } else {
      state = {
        offset: args.offset ?? 0,
        upload_id: args.upload_id ?? null,
        region: regionOf(args, ctx),
      };
    }
    return await guarded(ctx, { region: state.region }, async () => {
      const page = await ctx.client.customers.list({
        offset: state.offset,
        limit: args.limit,
        ...(state.upload_id !== null ? { upload_id: state.upload_id } : {}),
      }, { region: state.region });
      // An oversize customer is shortened (and says so), so one always fits the cap.
      const bounded = page.customers.map((c) =>
        boundCustomer(pick(customerView(c, ctx), args.fields))
      );
      const all = bounded.map((b) => b.customer);
      // Enforce the size cap: keep whole customers while the JSON fits (always at least one).
      const kept: CustomerOut[] = [];
      let size = 0;
      for (const c of all) {
        const s = json(c).length + 1;
        if (kept.length > 0 && size + s > MAX_LIST_RESULT_CHARS) break;
        kept.push(c);
        size += s;
      }
      const cut = kept.length < all.length;
      const shortened = bounded.slice(0, kept.length).filter((b) => b.shortened !== null).length;
      const nextOffset = state.offset + kept.length;
      // The API need not say the total: then any non-empty page may have more after it.
      const total = page.total ?? null;
      const hasMore = kept.length > 0 && (total !== null ? nextOffset < total : true);
      const data = {
        customers: kept,
        total,
        offset: state.offset,
        has_more: hasMore,
        next_offset: hasMore ? nextOffset : null,
        next_cursor: hasMore
          ? encodeCursor({ offset: nextOffset, upload_id: state.upload_id, region: state.region })
          : null,
      };
      const head = kept.length === 0
        ? `No customers at offset ${state.offset}${total !== null ? ` (total ${total})` : ""}.`
        : `Customers ${state.offset + 1}-${nextOffset}${total !== null ? ` of ${total}` : ""}` +
          (cut ? ` (page cut to fit the size cap; select fewer fields for more per page)` : "") +
          (hasMore ? `; more with cursor "${data.next_cursor}".` : ".") +
          (shortened > 0
            ? ` ${shortened} oversize customer(s) shortened (see each one's shortened field; ` +
              "recapture_get_customer shows one alone)."
            : "");
      return { ok: true, data, text: head };
    });
  },
});

// ---------------------------------------------------------------- get customer

const getCustomer = defineTool({
  name: "recapture_get_customer",
  title: "Get customer",
  description: "One customer, with sightings (each time the car was seen listed for sale).",
  access: "read",
  annotations: READ_ONLY,
  input: { customer_id: customerId, region },
  output: { customer: customerReadOut },
  async run(args, ctx) {
    return await onResource(ctx, args, "customer", args.customer_id, async (reg) => {
      const { customer, shortened } = boundCustomer(customerView(
        await ctx.client.customers.retrieve(args.customer_id, { region: reg }),
        ctx,
      ));
      return {
        ok: true,
        data: { customer },
        text: `${describeCustomer(customer)} in region ${reg}.` +
          (shortened === null ? "" : ` Its record is ${shortened}.`),
        links: [resourceLink("customer", customer.id, reg)],
      };
    });
  },
});

// ---------------------------------------------------------------- update customer

const updateOutput = {
  customer: customerOut,
  result: z.enum(["updated", "deleted", "deleted_on_expiry"]),
};
type UpdateOut = z.infer<z.ZodObject<typeof updateOutput>>;

/** The plan of a call that deletes `id`: the customer, described (masked) for a person. */
async function deletionPlan(
  ctx: ToolContext,
  reg: Region,
  id: string,
  how: string,
): Promise<ToolOutcome<EffectPlan>> {
  const customer = customerView(await ctx.client.customers.retrieve(id, { region: reg }), ctx);
  return {
    ok: true,
    data: {
      region: reg,
      resourceId: id,
      effects: [{
        kind: "delete",
        what: `${describeCustomer(customer)} in region ${reg} is deleted${how}; their car is no ` +
          "longer tracked",
      }],
    },
    text: "",
  };
}

/**
 * The fields the update tool changes, each with its bound and help: exactly the fields of the
 * SDK's update (`CustomerUpdateParams`, held to its schema; `satisfies` refuses a missing or an
 * extra one). `client_name`'s bound is the SDK's (`FIELD_RULES`; tests/mcp/tools_test.ts).
 */
const updateFields = {
  client_name: z.string().max(200).optional().describe("New name."),
  mobile_number: z.string().max(40).optional().describe("New mobile number."),
  sale_date: z.string().max(10).optional().describe("YYYY-MM-DD."),
  expiry_date: z.string().max(10).optional().describe("YYYY-MM-DD."),
} satisfies Record<keyof CustomerUpdateParams, z.ZodOptional<z.ZodString>>;

const updateCustomer = defineTool({
  name: "recapture_update_customer",
  title: "Update customer",
  description:
    'Change the fields given. A person confirms a clear ("") or an expiry_date of today or ' +
    "earlier (the API then deletes the customer) first.",
  access: "write",
  annotations: DESTRUCTIVE_IDEMPOTENT,
  input: {
    customer_id: customerId,
    ...updateFields,
    confirmation_token: confirmationToken,
    region,
  },
  output: updateOutput,
  async plan(args, ctx) {
    const expiry = args.expiry_date;
    if (expiry !== undefined && expiresImmediately(expiry, { now: new Date(ctx.now()) })) {
      return await onResource(ctx, args, "customer", args.customer_id, (reg) =>
        deletionPlan(
          ctx,
          reg,
          args.customer_id,
          ` (its new expiry_date ${expiry} is today or earlier, and the API deletes a customer ` +
            "on its expiry date)",
        ));
    }
    const cleared = clearedFields(args, Object.keys(updateFields));
    if (cleared.length === 0) return noEffect(regionOf(args, ctx), args.customer_id);
    // "" sets a field to null: what it held is removed (effects decide, as for a delete).
    return await onResource<EffectPlan>(ctx, args, "customer", args.customer_id, async (reg) => {
      const customer = customerView(
        await ctx.client.customers.retrieve(args.customer_id, { region: reg }),
        ctx,
      );
      const what = clearingWhat(describeCustomer(customer), reg, cleared);
      return {
        ok: true,
        data: { region: reg, resourceId: args.customer_id, effects: [{ kind: "remove", what }] },
        text: "",
      };
    });
  },
  async run(args, ctx) {
    return await onResource<UpdateOut>(ctx, args, "customer", args.customer_id, async (reg) => {
      const { customer_id: id, region: _r, confirmation_token: _t, ...changes } = args;
      const params = Object.fromEntries(
        Object.entries(changes).filter(([, v]) => v !== undefined),
      ) as CustomerUpdateParams;
      if (Object.keys(params).length === 0) {
        failure(
          "invalid_arguments",
          `give at least one of ${Object.keys(updateFields).join(", ")}.`,
        );
      }
      const customer = customerView(
        // A past expiry_date reaches here only through the confirmed deletion plan.
        await ctx.client.customers.update(id, params, { region: reg, allowPastExpiry: true }),
        ctx,
      );
      const changed = Object.keys(params).join(", ");
      const expiry = params.expiry_date;
      if (expiry === undefined || !expiresImmediately(expiry, { now: new Date(ctx.now()) })) {
        return {
          ok: true,
          data: { customer, result: "updated" as const },
          text: `Updated ${changed} of ${describeCustomer(customer)}.`,
          links: [resourceLink("customer", customer.id, reg)],
        };
      }
      // Ask the API whether the customer still exists: report what happened, not the plan.
      let gone = false;
      try {
        await ctx.client.customers.retrieve(id, { region: reg });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        gone = true;
      }
      return {
        ok: true,
        data: { customer, result: gone ? "deleted" as const : "deleted_on_expiry" as const },
        text: gone
          ? `Updated ${changed}; ${describeCustomer(customer)} is now deleted (expiry_date ` +
            `${expiry} has passed where the API counts it).`
          : `Updated ${changed}; the API still holds ${describeCustomer(customer)} and ` +
            `deletes it when expiry_date ${expiry} arrives in its time zone (within a day).`,
      };
    });
  },
});

// ---------------------------------------------------------------- delete customer

const deleteCustomer = defineTool({
  name: "recapture_delete_customer",
  title: "Delete customer",
  description: "Delete a customer permanently; their car stops being tracked. A person " +
    "confirms first.",
  access: "write",
  annotations: DESTRUCTIVE_IDEMPOTENT,
  input: { customer_id: customerId, confirmation_token: confirmationToken, region },
  output: { action: z.enum(["deleted"]), customer: customerOut },
  async plan(args, ctx) {
    return await onResource(
      ctx,
      args,
      "customer",
      args.customer_id,
      (reg) => deletionPlan(ctx, reg, args.customer_id, " permanently"),
    );
  },
  async run(args, ctx) {
    return await onResource(ctx, args, "customer", args.customer_id, async (reg) => {
      const customer = customerView(
        await ctx.client.customers.delete(args.customer_id, { region: reg }),
        ctx,
      );
      return {
        ok: true,
        data: { action: "deleted" as const, customer },
        text: `Deleted ${describeCustomer(customer)}.`,
      };
    });
  },
});

/** The `customers` toolset, in listing order. */
export const CUSTOMER_TOOLS: readonly RegisteredToolSpec[] = [
  listCustomers,
  getCustomer,
  updateCustomer,
  deleteCustomer,
];
