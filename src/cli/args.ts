import { type ParseArgsConfig, parseArgs } from "node:util";
import { usageError } from "./exit-codes.js";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

type StrictConfig<T extends OptionsConfig> = {
  args: string[];
  options: T;
  allowPositionals: true;
  strict: true;
};

/** What `parseCommand` returns: parseArgs's values and positionals, and the rest. */
export type ParsedCommand<T extends OptionsConfig> = ReturnType<
  typeof parseArgs<StrictConfig<T>>
> & { rest: string[] | null };

/** A command line split at `--`: the command's own arguments, then the rest. */
export interface SplitArgs {
  own: string[];
  /** Everything after the first `--` (a guest command), or null without one. */
  rest: string[] | null;
}

export function splitAtDashes(argv: string[]): SplitArgs {
  const dash = argv.indexOf("--");
  if (dash === -1) return { own: argv, rest: null };
  return { own: argv.slice(0, dash), rest: argv.slice(dash + 1) };
}

/** True when `--help` or `-h` comes before any `--`. */
export function wantsHelp(argv: string[]): boolean {
  const { own } = splitAtDashes(argv);
  return own.includes("--help") || own.includes("-h");
}

/**
 * `util.parseArgs`, strict, with its errors turned into usage errors that
 * name the command. Arguments after `--` are returned apart, untouched.
 */
export function parseCommand<const T extends OptionsConfig>(
  command: string,
  argv: string[],
  options: T,
): ParsedCommand<T> {
  const { own, rest } = splitAtDashes(argv);
  try {
    const parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
    return { ...parsed, rest };
  } catch (error) {
    throw usageError(describeParseError(error), command);
  }
}

function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const option = /'([^']+)'/.exec(message)?.[1];
    return `unknown option ${option ? `\`${option}\`` : "given"}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const option = /--[\w-]+/.exec(message)?.[0];
    if (message.includes("argument missing")) return `\`${option}\` needs a value`;
    return `\`${option}\` takes no value`;
  }
  return message.split("\n")[0] ?? "invalid arguments";
}

/** Exactly `count` positional arguments, named in the error when missing. */
export function positionals(
  command: string,
  given: string[],
  names: string[],
  options: { variadic?: boolean } = {},
): string[] {
  if (given.length < names.length) {
    throw usageError(`missing ${names.slice(given.length).join(" ")}`, command);
  }
  if (!options.variadic && given.length > names.length) {
    const extra = given[names.length];
    throw usageError(
      `unexpected argument \`${extra}\`; a guest command goes after \`--\``,
      command,
    );
  }
  return given;
}

/** Parses an integer option, refusing anything below `min`. */
export function integerOption(
  command: string,
  option: string,
  value: string | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(number) && number >= min) return number;
  throw usageError(
    `\`--${option}\` must be an integer of at least ${min}, received ${JSON.stringify(value)}`,
    command,
  );
}

/** `K=V` pairs from repeated `--env`; a bare `K` takes the value from this environment. */
export function envOption(command: string, values: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of values ?? []) {
    const equals = entry.indexOf("=");
    const key = equals === -1 ? entry : entry.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw usageError(
        `\`--env\` takes KEY=VALUE with a variable name as KEY, received ${JSON.stringify(entry)}`,
        command,
      );
    }
    const value = equals === -1 ? process.env[key] : entry.slice(equals + 1);
    if (value !== undefined) env[key] = value;
  }
  return env;
}
