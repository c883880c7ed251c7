import { type ParseArgsConfig, parseArgs } from "node:util";
import { type ResolvedCredential, resolveCredential } from "../auth/resolve-credential.js";
import { UsageError } from "../command.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The flags every admin command takes, to reach the server with an admin credential. */
export const CREDENTIAL_OPTIONS = {
  server: { type: "string" },
  "api-key": { type: "string" },
  state: { type: "string" },
  json: { type: "boolean" },
} as const satisfies Options;

/** Parsed flags, positionals and the credential to call the API with. */
export interface AdminInvocation {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  credential: ResolvedCredential;
}

/** Parses an admin command's arguments (strict: unknown flags are usage errors) and resolves the credential. */
export async function parseAdminArgs(argv: string[], options: Options = {}): Promise<AdminInvocation> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...CREDENTIAL_OPTIONS, ...options },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as AdminInvocation["values"];
  const credential = await resolveCredential({
    server: values.server as string | undefined,
    apiKey: values["api-key"] as string | undefined,
    stateDir: values.state as string | undefined,
  });
  return { values, positionals: parsed.positionals, credential };
}

/** A query string from the flags that were given, in a stable order. */
export function queryOf(values: Record<string, unknown>, names: readonly string[]): string {
  const q = new URLSearchParams();
  for (const name of names) if (typeof values[name] === "string") q.set(name, values[name] as string);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Prints a command's answer: the value as one line of JSON with `--json`, else the text for people. */
export function printerFor(json: boolean): (value: unknown, text: string) => void {
  return (value, text) => void process.stdout.write(`${json ? JSON.stringify(value) : text}\n`);
}
