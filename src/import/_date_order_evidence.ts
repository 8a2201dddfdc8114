// What a file's date columns prove about their date order, gathered value by value (a pre-pass
// over the file, before anything is sent). One value such as `02/03/2024` reads either way; the
// column decides: one `12/25/2023` proves it month-first, and then every `02/03/2024` in it is
// February 3, not 2 March.

import { type DateOrder, provenDateOrder } from "./dates.ts";

/** A value that only one date order reads, and the physical line it is on. */
export interface DateOrderProof {
  /** The physical line of the file (1-based). */
  line: number;
  /** The value as found. */
  value: string;
}

/** A date column whose values contradict the order in use, or each other. */
export interface DateOrderConflict {
  /** The column's header as written. */
  column: string;
  /** The first value only month-first reads, if any. */
  mdy?: DateOrderProof;
  /** The first value only day-first reads, if any. */
  dmy?: DateOrderProof;
  /** What is wrong and what to pass, in the SDK's words (`dateOrder "mdy"`). */
  message: string;
}

interface ColumnProof {
  mdy?: DateOrderProof;
  dmy?: DateOrderProof;
}

const ORDER_WORDS: Record<DateOrder, string> = { dmy: "day first", mdy: "month first" };

/**
 * Records, per date column, the first line whose value can only be month-first and the first
 * that can only be day-first; {@linkcode DateOrderEvidence.conflicts} then says which columns
 * the order in use would read wrong.
 *
 * @example
 * ```ts
 * import { DateOrderEvidence } from "./_date_order_evidence.ts";
 *
 * const evidence = new DateOrderEvidence();
 * evidence.see("Sale Date", "02/03/2024", 3);
 * evidence.see("Sale Date", "12/25/2023", 4);
 * evidence.conflicts("dmy").map((c) => [c.column, c.mdy?.line]); // [["Sale Date", 4]]
 * evidence.conflicts("mdy"); // []
 * ```
 */
export class DateOrderEvidence {
  #columns = new Map<string, ColumnProof>();

  /**
   * Takes one value of a date column into account.
   *
   * @param column the column's header as written
   * @param value the value as found (blank and non-digit dates prove nothing)
   * @param line the physical line it is on
   */
  see(column: string, value: string, line: number): void {
    let proof = this.#columns.get(column);
    if (proof === undefined) this.#columns.set(column, proof = {});
    if (proof.mdy !== undefined && proof.dmy !== undefined) return;
    const order = provenDateOrder(value);
    if (order !== undefined && proof[order] === undefined) proof[order] = { line, value };
  }

  /**
   * The columns that `order` would read wrong: those proven the other way, and those holding
   * values of both kinds (no one order reads them all). Empty when every column agrees or
   * proves nothing.
   *
   * @param order the date order in use
   * @returns one conflict per such column, in the order the columns were first seen
   */
  conflicts(order: DateOrder): DateOrderConflict[] {
    const out: DateOrderConflict[] = [];
    for (const [column, proof] of this.#columns) {
      const { mdy, dmy } = proof;
      const name = JSON.stringify(column);
      if (mdy !== undefined && dmy !== undefined) {
        out.push({
          column,
          mdy,
          dmy,
          message: `column ${name} mixes date orders: line ${mdy.line} ` +
            `(${JSON.stringify(mdy.value)}) can only be month first and line ${dmy.line} ` +
            `(${JSON.stringify(dmy.value)}) only day first, so no one order reads all its ` +
            `dates. Correct the column, or pass dateOrder "dmy" or dateOrder "mdy" to read it ` +
            `one way (the dates written the other way become bad rows)`,
        });
        continue;
      }
      const other: DateOrder = order === "dmy" ? "mdy" : "dmy";
      const found = proof[other];
      if (found === undefined) continue;
      out.push({
        column,
        [other]: found,
        message: `column ${name} is written ${ORDER_WORDS[other]}: line ${found.line} ` +
          `(${JSON.stringify(found.value)}) can only be read ${ORDER_WORDS[other]}, but dates ` +
          `are read ${ORDER_WORDS[order]}: its dates that read either way (such as 02/03) would ` +
          `be sent with day and month swapped. Pass dateOrder "${other}"`,
      });
    }
    return out;
  }
}
