import type { Command } from "./command.js";
import type { Terminal } from "./output/terminal.js";

/** The help for one command: usage, what it does, options, examples. */
export function printCommandHelp(out: Terminal, command: Command): void {
  out.line(`${out.paint("bold", "Usage:")} supermachine ${command.usage}`);
  out.line();
  out.line(command.description);
  const options: [string, string][] = [...command.options, ["-h, --help", "show this help"]];
  out.line();
  out.line(out.paint("bold", "Options:"));
  const width = Math.max(...options.map(([flag]) => flag.length));
  for (const [flag, what] of options) out.line(`  ${flag.padEnd(width)}  ${what}`);
  out.line();
  out.line(out.paint("bold", "Examples:"));
  for (const example of command.examples) out.line(`  ${example}`);
}

/** The top-level help: every command with its summary, and the exit codes. */
export function printMainHelp(out: Terminal, commands: Command[]): void {
  out.line(`${out.paint("bold", "Usage:")} supermachine COMMAND [OPTIONS]`);
  out.line();
  out.line("Runs OCI/Docker images as QEMU microVMs.");
  out.line();
  out.line(out.paint("bold", "Commands:"));
  const width = Math.max(...commands.map((command) => command.name.length));
  for (const command of commands) out.line(`  ${command.name.padEnd(width)}  ${command.summary}`);
  out.line();
  out.line(out.paint("bold", "Exit codes:"));
  out.line("  0    success");
  out.line("  1    failure that is not supermachine's (or `doctor` found a problem)");
  out.line("  2    wrong command line");
  out.line("  125  supermachine could not do it (bad reference, no QEMU, no such VM)");
  out.line("  126  the guest command could not be run; 127: it was not found");
  out.line("  N    `run` and `exec`: the guest command's own code; 128+n for signal n");
  out.line();
  out.line("Run `supermachine COMMAND --help` for a command's options and examples.");
  out.line("Colour only on a terminal, never with NO_COLOR set. DEBUG=supermachine:* traces.");
}
