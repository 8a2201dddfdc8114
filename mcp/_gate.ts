/**
 * The one confirmation gate every tool call goes through: a call whose plan has an effect that
 * deletes, cancels or removes acts only after a person accepts it (MCP elicitation), or, in the
 * operator's `token-unverified` mode, with a valid token for exactly this call. Otherwise it is
 * refused with a message that says why, and nothing is changed.
 *
 * @module
 */
import type { ConfirmationTokens } from "./_confirm.ts";
import { TOKEN_PROBLEMS } from "./_confirm.ts";
import type { Effect, EffectPlan } from "./tools/_tool.ts";

/**
 * How a server gets confirmations: `person` only asks a person (elicitation); `token-unverified`
 * also accepts a confirmation token, which proves only that a preview was fetched.
 */
export type ConfirmMode = "person" | "token-unverified";

/**
 * A person's answer to an elicitation; `unavailable` when the client turned out unable to ask
 * (it answered the question with "method not found").
 */
export type PersonAnswer = "accept" | "decline" | "cancel" | "unavailable";

/** What the gate needs from the call. */
export interface GateCall {
  tool: string;
  /** The call's arguments, without `confirmation_token` (a token is bound to them). */
  args: Record<string, unknown>;
  token: string | undefined;
  mode: ConfirmMode;
  /** Asks the person, when the client supports elicitation. */
  ask: ((message: string) => Promise<PersonAnswer>) | undefined;
  /**
   * Why there is no `ask`: the client cannot (default), or this deployment cannot route an
   * answer back (stateless remote servers, `elicitation: false`).
   */
  noAsk?: "client" | "deployment";
  tokens: () => Promise<ConfirmationTokens>;
  /**
   * Whether a token confirms one call only (tools that are not idempotent: a replayed upload
   * would upload again). Default `false`.
   */
  singleUse?: boolean;
}

/** Go ahead, or a refusal text (`code: explanation`). */
export type GateVerdict = { go: true } | { go: false; text: string };

const VERBS: Readonly<Record<Exclude<Effect["kind"], "send">, string>> = {
  delete: "deletes",
  cancel: "cancels",
  remove: "removes",
};

/**
 * The effects, in plain words: "This call deletes data that cannot be restored: customer c_1 ...
 * is deleted." Data sent to a third party is said apart: it cannot be called back either.
 */
export function describeEffects(effects: readonly Effect[]): string {
  const lost = effects.filter((e) => e.kind !== "send");
  const sent = effects.filter((e) => e.kind === "send");
  const kinds = [...new Set(lost.map((e) => VERBS[e.kind as keyof typeof VERBS]))].join(" and ");
  return [
    lost.length === 0
      ? ""
      : `This call ${kinds} data that cannot be restored: ${lost.map((e) => e.what).join("; ")}.`,
    sent.length === 0
      ? ""
      : `This call sends customer data to a third party: ${sent.map((e) => e.what).join("; ")}.`,
  ].filter((part) => part !== "").join(" ");
}

/**
 * Decides whether a call may act. Effects decide: a plan without effects goes ahead; any effect
 * needs a person's explicit accept, or a valid token in token mode.
 */
export async function confirmEffects(plan: EffectPlan, call: GateCall): Promise<GateVerdict> {
  if (plan.effects.length === 0) return { go: true };
  const effects = describeEffects(plan.effects);
  const answer = call.ask ? await call.ask(`${effects}\nDo you want this to happen?`) : undefined;
  if (answer === "accept") return { go: true };
  if (answer === "decline" || answer === "cancel") {
    return {
      go: false,
      text: `not_confirmed: the user ${
        answer === "decline" ? "declined" : "dismissed the question (or gave no answer)"
      }, so nothing was changed. ${effects} Do not retry unless the user asks for it again.`,
    };
  }
  if (call.mode !== "token-unverified") {
    return {
      go: false,
      text: call.noAsk === "deployment"
        ? `confirmation_unavailable: ${effects} That needs a person's confirmation, and this ` +
          "server cannot ask one (it runs stateless, e.g. on Cloudflare Workers or Deno Deploy, " +
          "where the answer may reach another instance), so nothing was changed. Tell the user: " +
          "they can do it through a local Recapture MCP server, where they are asked."
        : `confirmation_unavailable: ${effects} That needs a person's confirmation, and this ` +
          "client cannot ask one (it does not support MCP elicitation), so nothing was changed. " +
          "Tell the user: they can do it from a client that supports elicitation, or the operator " +
          "can start the server with --confirm=token-unverified, where a token, not a person, " +
          "confirms.",
    };
  }
  const tokens = await call.tokens();
  const subject = {
    tool: call.tool,
    region: plan.region,
    resourceId: plan.resourceId,
    args: call.args,
    input: plan.input,
  };
  if (call.token === undefined) {
    const { token, expiresAt } = await tokens.mint(subject);
    return {
      go: false,
      text: `confirmation_required: ${effects} Nothing was changed yet. Show this to the user; ` +
        `only if they agree, call ${call.tool} again with the same arguments and ` +
        `confirmation_token "${token}" (expires ${expiresAt.toISOString()}).`,
    };
  }
  const problem = await tokens.check(call.token, subject, { singleUse: call.singleUse });
  if (problem === null) return { go: true };
  if (problem === "used") {
    return {
      go: false,
      text:
        `confirmation_used: the confirmation token was refused: ${
          TOKEN_PROBLEMS[problem]
        }. Nothing was changed by this call. Do not retry: check what the first call did (its ` +
        `result, or the tool that reads it). Only if the user wants it done again, call ` +
        `${call.tool} without confirmation_token for a fresh preview and confirm it with them.`,
    };
  }
  return {
    go: false,
    text:
      `confirmation_${problem}: the confirmation token was refused: ${
        TOKEN_PROBLEMS[problem]
      }. Nothing was changed. Call ${call.tool} without confirmation_token for a fresh preview ` +
      "and token, and confirm it with the user.",
  };
}
