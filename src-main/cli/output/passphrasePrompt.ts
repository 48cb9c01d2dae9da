/**
 * Asks for a key passphrase on the terminal without echoing it. Only on a TTY; elsewhere the
 * node's identityPassphraseEnv variable (or ssh-agent) is the way.
 */
export function ttyPassphrasePrompt():
  | ((node: string, keyFile: string) => Promise<string | undefined>)
  | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return (node, keyFile) =>
    new Promise((resolve) => {
      const stdin = process.stdin;
      process.stderr.write(`passphrase for ${keyFile} (node ${node}): `);
      stdin.setRawMode(true);
      stdin.resume();
      let typed = "";
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n") {
            stdin.setRawMode(false);
            stdin.pause();
            stdin.off("data", onData);
            process.stderr.write("\n");
            resolve(typed);
            return;
          }
          if (char === "\u0003") {
            stdin.setRawMode(false);
            process.stderr.write("\n");
            process.exit(130);
          }
          typed = char === "\u007f" ? typed.slice(0, -1) : typed + char;
        }
      };
      stdin.on("data", onData);
    });
}
