/**
 * The environment of a child process the tests start with `clearEnv: true`: only what a Deno or
 * Node child needs to find its tools, its module cache and the machine's TLS roots, plus `extra`.
 * Without DENO_DIR and the TLS variables a child re-downloads npm packages into another cache
 * (and fails where the registry is reached through a proxy with its own CA).
 *
 * @module
 */

const PASSED = [
  "PATH",
  "HOME",
  "TMPDIR",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
];

/** The passed-through variables, `NO_COLOR=1`, then `extra` (which wins). */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of PASSED) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
