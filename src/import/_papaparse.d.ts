// The part of papaparse 5.7.1 that src/import/csv.ts uses: its streaming-capable core `Parser`.
// (papaparse ships no types; @types/papaparse pulls in Node's types.)

export interface PapaParserConfig {
  delimiter: string;
  newline: "\n" | "\r" | "\r\n";
  quoteChar?: string;
}

export interface PapaParseError {
  type: string;
  code: string;
  message: string;
  row: number;
  index: number;
}

export interface PapaParseResult {
  data: string[][];
  errors: PapaParseError[];
  meta: { cursor: number; delimiter: string; linebreak: string; aborted: boolean };
}

export interface PapaGuessResult {
  data: string[][];
  errors: PapaParseError[];
  meta: { delimiter: string; linebreak: string };
}

export class Parser {
  constructor(config: PapaParserConfig);
  parse(input: string, baseIndex: number, ignoreLastRow: boolean): PapaParseResult;
}

declare const Papa: {
  Parser: typeof Parser;
  parse(
    input: string,
    config: {
      preview?: number;
      delimitersToGuess?: string[];
      newline?: string;
      skipEmptyLines?: boolean;
    },
  ): PapaGuessResult;
  /** Streaming a Node readable (used by the benchmark's baseline only). */
  parse(
    input: { pipe: unknown },
    config: {
      header?: boolean;
      chunk?: (result: { data: unknown[] }) => void;
      complete?: () => void;
      error?: (error: Error) => void;
    },
  ): void;
};
export default Papa;
