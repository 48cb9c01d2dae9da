/**
 * Replaces secret values in text before it reaches a log file, the terminal or an event. Longer
 * secrets are replaced first so that a secret containing another is hidden whole.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    this.secrets = [...new Set([...secrets].filter((secret) => secret.length >= 3))].sort(
      (a, b) => b.length - a.length,
    );
  }

  get isEmpty(): boolean {
    return this.secrets.length === 0;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join("***");
    return out;
  }
}
