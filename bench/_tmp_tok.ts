import { countTokens } from "gpt-tokenizer";
for (const s of Deno.args) console.log(countTokens(JSON.stringify(s)), s);
